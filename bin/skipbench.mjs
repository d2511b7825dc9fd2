#!/usr/bin/env node
// skipbench command line. The sources are TypeScript: register tsx's loader in this process, then run cli/main.ts.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('../cli/main.ts')
await run(process.argv.slice(2))
