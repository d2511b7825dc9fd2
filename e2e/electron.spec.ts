/**
 * The same workbench flow in the Electron app (Playwright's `_electron`): runs where the Electron binary and an
 * Electron-ABI build of better-sqlite3 exist (`node node_modules/electron/install.js`, `npm run rebuild:electron`),
 * and is reported as skipped, with the reason, where they do not. The check never `require('electron')` (that
 * would try to download the binary): it is scripts/electron-status.mjs, run in a child process.
 */
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { API_METHODS } from '../core/contract/api.js'
import { createSweepExperiment, fill, shot } from './helpers.js'

interface Status {
  ok: boolean
  reason?: string
  exe?: string
  nativeSqlite?: string | null
}
const root = new URL('..', import.meta.url).pathname
const probe = spawnSync(process.execPath, ['--input-type=module', '-e', "import('./scripts/electron-status.mjs').then((m) => console.log(JSON.stringify(m.electronStatus())))"], { cwd: root, encoding: 'utf8' })
const status: Status = probe.status === 0 ? (JSON.parse(probe.stdout) as Status) : { ok: false, reason: `scripts/electron-status.mjs failed: ${probe.stderr}` }
const skipReason = !status.ok
  ? status.reason!
  : !status.nativeSqlite
    ? 'no Electron-ABI build of better-sqlite3 in .electron-native/ (run `npm run rebuild:electron` where electronjs.org is reachable)'
    : !existsSync(join(root, 'out/main/index.js'))
      ? 'the app is not built (run `npm run build:app`)'
      : null

if (skipReason) console.log(`[electron e2e] skipped: ${skipReason}`)

test.describe('Electron app', () => {
  test.skip(skipReason !== null, `Electron e2e skipped: ${skipReason}`)
  test.describe.configure({ mode: 'serial' })

  let app: ElectronApplication
  let page: Page
  let profile: string
  test.beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'skipbench-electron-'))
    app = await electron.launch({
      executablePath: status.exe!,
      args: [join(root, 'out/main/index.js')],
      env: { ...process.env, SKIPBENCH_USER_DATA: profile, SKIPBENCH_DATA_DIR: join(profile, 'data'), SKIPBENCH_SQLITE_BINDING: status.nativeSqlite! },
    })
    page = await app.firstWindow()
  })
  test.afterAll(async () => {
    await app?.close()
    rmSync(profile, { recursive: true, force: true })
  })

  test('the preload exposes exactly the contract; no Node in the page', async () => {
    await expect(page.getByTestId('version')).toContainText('electron')
    const keys = await page.evaluate(() => Object.keys((globalThis as unknown as { skipbench: object }).skipbench).sort())
    expect(keys).toEqual([...API_METHODS, 'on'].sort())
    expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined')
    expect(await page.evaluate(() => typeof (globalThis as unknown as { process?: unknown }).process)).toBe('undefined')
  })

  test('create an experiment, run a sweep, read the Pareto chart, cancel and resume a run', async () => {
    await createSweepExperiment(page, 'electron pareto')
    await page.getByTestId('submit').click()
    await expect(page.locator('[data-testid="runs-row"] [data-status="completed"]')).toHaveCount(3, { timeout: 180_000 })
    await page.getByTestId('tab-pareto').click()
    await expect(page.getByTestId('pareto-summary')).toContainText('2 dense · 1 gated')
    await shot(page, 'electron-pareto')
    await page.getByTestId('gap-table').locator('a').first().click()
    await page.getByTestId('clone').click()
    await fill(page, 'training.train_steps', '4000')
    await page.getByTestId('submit').click()
    await expect(page.getByTestId('run-name').getByTestId('status')).toHaveText('running', { timeout: 60_000 })
    await page.getByTestId('cancel').click()
    await expect(page.getByTestId('run-name').getByTestId('status')).toHaveText('cancelled', { timeout: 60_000 })
    await page.getByTestId('resume').click()
    await expect(page.getByTestId('run-name').getByTestId('status')).toHaveText('running', { timeout: 60_000 })
    await page.getByTestId('cancel').click()
    await expect(page.getByTestId('run-name').getByTestId('status')).toHaveText('cancelled', { timeout: 60_000 })
  })
})
