/** Shared by the browser and Electron specs: the workbench flow in small steps, driven through data-testid locators. */
import { expect, type Page } from '@playwright/test'

/** The smallest config that still trains visibly: byte corpus, dim 32, seq 32, a handful of steps. */
export const TINY = {
  'model.dim': '32',
  'model.n_layers': '2',
  'model.n_heads': '2',
  'model.max_seq_len': '32',
  'training.train_steps': '30',
  'training.batch_size': '4',
  'training.val_every': '10',
  'training.val_tokens': '512',
  'training.checkpoint_every': '10',
} as const

export async function fill(page: Page, path: string, value: string): Promise<void> {
  const f = page.getByTestId(`field-${path}`)
  await f.fill(value)
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true })
}

/** Collect page errors and console errors (the test asserts there are none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`)
  })
  return errors
}

/** New experiment with a sweep of 3 runs (dense L1, dense L2, gated L2 E0.5), started from the form. */
export async function createSweepExperiment(page: Page, name: string): Promise<void> {
  await page.getByTestId('nav-experiments').click()
  await page.getByTestId('new-experiment').click()
  await page.getByTestId('exp-name').fill(name)
  await page.getByTestId('exp-tags').fill('tiny, e2e')
  await page.getByTestId('preset').selectOption('tiny-gated')
  await expect(page.getByTestId('field-model.dim')).toHaveValue('128')
  for (const [path, value] of Object.entries(TINY)) await fill(page, path, value)
  await expect(page.getByTestId('estimate-params')).toBeVisible()
  await page.getByTestId('mode-sweep').check()
  await expect(page.getByTestId('group-0-axis-0-values')).toHaveValue('1, 2')
  await expect(page.getByTestId('plan-count')).toHaveText('3')
  await expect(page.getByTestId('submit')).toBeEnabled()
}
