#!/usr/bin/env node
// `npm run rebuild:electron`: compile better-sqlite3 for Electron's ABI into .electron-native/ (outside
// node_modules, so Node's build used by tests and the CLI stays intact; ADR 0002). Needs internet access for the
// Electron headers.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = process.cwd()
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version
const work = mkdtempSync(join(tmpdir(), 'skipbench-electron-native-'))
cpSync(join(root, 'node_modules/better-sqlite3'), join(work, 'better-sqlite3'), { recursive: true })
const r = spawnSync(
  'npx',
  ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron'],
  { cwd: join(work, 'better-sqlite3'), stdio: 'inherit' },
)
if (r.status !== 0) {
  console.error('skipbench: the Electron rebuild of better-sqlite3 failed (it needs https://electronjs.org/headers).')
  process.exit(r.status ?? 1)
}
mkdirSync(resolve(root, '.electron-native'), { recursive: true })
cpSync(join(work, 'better-sqlite3/build/Release/better_sqlite3.node'), resolve(root, '.electron-native/better_sqlite3.node'))
console.log('skipbench: wrote .electron-native/better_sqlite3.node for Electron', electronVersion)
