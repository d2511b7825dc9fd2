/** Starts the real headless server on a fresh data directory for the end-to-end tests. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../core/server/server.js'

const port = Number(process.argv[process.argv.indexOf('--port') + 1])
const dataDir = process.env['SKIPBENCH_E2E_DATA'] ?? mkdtempSync(join(tmpdir(), 'skipbench-e2e-'))
const s = await startServer({ port, dataDir })
console.log(`e2e server at ${s.url} (data ${dataDir})`)
