#!/usr/bin/env node
// `npm start`: build and launch the Electron app, or explain clearly what is missing.
import { spawnSync } from 'node:child_process'
import { electronStatus } from './electron-status.mjs'

const s = electronStatus()
if (!s.ok) {
  console.error(`skipbench: cannot start the desktop app: ${s.reason}`)
  process.exit(2)
}
if (!s.nativeSqlite) {
  console.error(
    'skipbench: note: no Electron build of better-sqlite3 in .electron-native/ — run `npm run rebuild:electron` ' +
      '(downloads Electron headers) before features that use the database in the desktop app.',
  )
}
const build = spawnSync('npx', ['electron-vite', 'build'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)
const r = spawnSync('npx', ['electron-vite', 'preview', '--skipBuild'], {
  stdio: 'inherit',
  env: { ...process.env, SKIPBENCH_SQLITE_BINDING: s.nativeSqlite ?? '' },
})
process.exit(r.status ?? 0)
