// Where is the Electron binary, and is there an Electron-ABI build of better-sqlite3? Pure filesystem checks:
// never `require('electron')`, which would try to download the binary (electron ≥ 42 installs lazily).
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export function electronStatus(root = process.cwd()) {
  const dir = join(root, 'node_modules', 'electron')
  if (!existsSync(join(dir, 'package.json'))) return { ok: false, reason: 'the electron package is not installed (run npm ci)' }
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  const pathTxt = join(dir, 'path.txt')
  const exe = override
    ? resolve(override, existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8') : 'electron')
    : existsSync(pathTxt)
      ? join(dir, 'dist', readFileSync(pathTxt, 'utf8'))
      : null
  if (!exe || !existsSync(exe)) {
    return {
      ok: false,
      version,
      reason:
        `the Electron ${version} binary is not downloaded. Electron fetches it on first use from GitHub; on a machine ` +
        `with internet access run \`node node_modules/electron/install.js\` (or set ELECTRON_OVERRIDE_DIST_PATH to an ` +
        `unpacked Electron ${version}). Meanwhile the same UI runs in a browser: \`npm run web\`.`,
    }
  }
  const native = join(root, '.electron-native', 'better_sqlite3.node')
  return { ok: true, version, exe, nativeSqlite: existsSync(native) ? native : null }
}
