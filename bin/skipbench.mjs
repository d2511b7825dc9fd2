#!/usr/bin/env node
// skipbench command line. Runs the bundle out/cli/main.js (built by `npm ci`/`npm install` through the prepare
// script, or `npm run build:cli`): no TypeScript compilation at start. In a dev checkout without a bundle, or with
// one older than its sources, it runs the TypeScript sources through tsx instead and says so on stderr (when stderr
// is a terminal, or SKIPBENCH_CLI_EXPLAIN=1: scripts reading stderr get the same output either way).
import { readFileSync, statSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const bundle = new URL('out/cli/main.js', root)

/** why the bundle cannot be used (null when it can): missing, or a source file changed after it was built */
function staleReason() {
  let meta
  try {
    meta = JSON.parse(readFileSync(new URL('out/cli/meta.json', root), 'utf8'))
  } catch {
    return 'no CLI bundle (out/cli)'
  }
  for (const f of meta.inputs) {
    let t
    try {
      t = statSync(new URL(f, root)).mtimeMs
    } catch {
      return `the CLI bundle is older than the sources (${f} is gone)`
    }
    if (t > meta.builtAt) return `the CLI bundle is older than ${f}`
  }
  return null
}

const why = process.env.SKIPBENCH_CLI_SOURCES === '1' ? 'SKIPBENCH_CLI_SOURCES=1' : staleReason()
let run
if (why === null) {
  ;({ run } = await import(bundle.href))
} else {
  const explain = process.stderr.isTTY || process.env.SKIPBENCH_CLI_EXPLAIN === '1'
  if (explain && process.env.SKIPBENCH_CLI_SOURCES !== '1') process.stderr.write(`skipbench: ${why}; running the TypeScript sources through tsx (npm run build:cli makes the fast bundle)\n`)
  const { register } = await import('tsx/esm/api')
  register()
  ;({ run } = await import(new URL('cli/main.ts', root).href))
}
await run(process.argv.slice(2))
