#!/usr/bin/env node
// Bundles the CLI and the processes it starts (job worker, tokenizer threads) into out/cli/ with esbuild, so
// `skipbench` starts without compiling TypeScript (tsx stays for development). npm runs this as `prepare` (npm ci,
// npm install) and `npm test`'s build step; vitest's global setup runs it too, so tests never run a stale bundle.
// Packages stay external (resolved from node_modules as usual; native modules load unchanged). out/cli/meta.json
// lists the source files, so bin/skipbench.mjs can tell when the bundle is older than its sources.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export async function buildCli({ quiet = false } = {}) {
  const { build } = await import('esbuild')
  const out = join(root, 'out/cli')
  // build beside, then swap: a concurrent `skipbench` never sees a half-written bundle
  const tmp = `${out}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  const t0 = Date.now()
  const r = await build({
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts', 'worker-entry': 'core/jobs/worker-entry.ts', 'tokenize-worker': 'core/data/import/tokenize-worker.ts' },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  })
  const inputs = Object.keys(r.metafile.inputs).filter((f) => !f.startsWith('node_modules/'))
  writeFileSync(join(tmp, 'meta.json'), JSON.stringify({ builtAt: Date.now(), inputs }, null, 1))
  mkdirSync(dirname(out), { recursive: true })
  const old = `${out}.old-${process.pid}`
  try {
    renameSync(out, old)
  } catch {
    // no previous bundle
  }
  renameSync(tmp, out)
  rmSync(old, { recursive: true, force: true })
  if (!quiet) console.log(`out/cli: ${inputs.length} sources bundled in ${Date.now() - t0} ms`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildCli()
