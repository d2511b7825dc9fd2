/** Accessibility and keyboard helpers for the e2e specs: axe-core scans, Tab navigation, a fresh server of one's own. */
import AxeBuilder from '@axe-core/playwright'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, type Page } from '@playwright/test'

/** axe-core on the current page: every serious or critical violation, as readable lines (the test expects none). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`)
}

export async function expectAccessible(page: Page, what: string): Promise<void> {
  expect(await seriousViolations(page), `axe-core on ${what}`).toEqual([])
}

/** The data-testid of the focused element (or of its nearest ancestor that has one). */
export function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate<string | null>(`document.activeElement?.closest('[data-testid]')?.getAttribute('data-testid') ?? null`)
}

/** Press Tab (or Shift+Tab) until the element with this data-testid (or inside it) has the focus. */
export async function tabTo(page: Page, testid: string, o: { max?: number; back?: boolean } = {}): Promise<void> {
  const seen: (string | null)[] = []
  for (let i = 0; i < (o.max ?? 120); i++) {
    await page.keyboard.press(o.back ? 'Shift+Tab' : 'Tab')
    const id = await focusedTestId(page)
    if (id === testid) return
    seen.push(id)
  }
  throw new Error(`Tab never reached [data-testid=${testid}]; focus went through: ${seen.join(', ')}`)
}

/** Tab to a text field and replace its value by typing. */
export async function typeInto(page: Page, testid: string, text: string): Promise<void> {
  await tabTo(page, testid)
  await page.keyboard.press('ControlOrMeta+a')
  await page.keyboard.type(text)
}

/** Screenshots go to $SKIPBENCH_SHOTS (outside the repository when set), else test-results/screens. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['SKIPBENCH_SHOTS'] ?? 'test-results/screens'
  mkdirSync(dir, { recursive: true })
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
}

/** A real `skipbench serve` (e2e/serve.ts) on an empty data folder and an ephemeral port, for "from an empty database". */
export async function startFreshServer(): Promise<{ url: string; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skipbench-e2e-fresh-'))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'e2e/serve.ts', '--port', '0'], {
    env: { ...process.env, SKIPBENCH_E2E_DATA: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the fresh server did not start in 60 s:\n${log}`)), 60_000)
    const on = (b: Buffer) => {
      log += b.toString()
      const m = /e2e server at (\S+)/.exec(log)
      if (m) {
        clearTimeout(t)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', on)
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()))
    child.once('exit', (code) => reject(new Error(`the fresh server exited (${code}):\n${log}`)))
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return { url: url.endsWith('/') ? url : `${url}/`, dataDir, stop }
}
