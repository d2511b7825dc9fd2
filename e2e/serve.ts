/**
 * Starts the real headless server on a fresh data directory for the end-to-end tests. Builds the renderer first
 * when its sources are newer than out/renderer (so `npx playwright test` alone tests the current code).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../core/server/server.js'

const root = new URL('..', import.meta.url).pathname
const built = join(root, 'out/renderer/index.html')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}
const sources = Math.max(...['renderer/src', 'renderer/index.html', 'core/contract', 'core/report'].map((p) => join(root, p)).map((p) => (statSync(p).isDirectory() ? newest(p) : statSync(p).mtimeMs)))
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.log('e2e: building the renderer (sources changed)…')
  const r = spawnSync(join(root, 'node_modules/.bin/vite'), ['build', '--config', 'renderer/vite.config.mts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const port = Number(process.argv[process.argv.indexOf('--port') + 1])
const dataDir = process.env['SKIPBENCH_E2E_DATA'] ?? mkdtempSync(join(tmpdir(), 'skipbench-e2e-'))
const s = await startServer({ port, dataDir })
console.log(`e2e server at ${s.url} (data ${dataDir})`)
const stop = () => void s.close().finally(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
