/**
 * The expert New-experiment form validates as the user types, against the schema AND this data folder (through the
 * contract's validateConfig and planSweep), in the app's words with the config key in a tooltip: an unknown dataset,
 * a target end outside (0, 1] and a typo in a sweep axis path are each named with their fix before anything starts.
 * Nothing trains here: it costs a few seconds.
 */
import { expect, test, type Page } from '@playwright/test'
import { watchErrors } from './helpers.js'

let errors: string[] = []
test.beforeEach(async ({ page }) => {
  errors = watchErrors(page)
  await page.goto('/#/new')
  await expect(page.getByTestId('preset')).toHaveValue('tiny-gated')
  await expect(page.getByTestId('estimate-params')).toBeVisible()
  await page.getByTestId('exp-name').fill('validation')
  await expect(page.getByTestId('submit')).toBeEnabled()
})
test.afterEach(() => expect(errors).toEqual([]))

/** No zod text, spec reference or config key in what the page says (tooltips may keep keys for experts). */
async function expectNoRawText(page: Page): Promise<void> {
  const text = await page.locator('main').innerText()
  expect(text).not.toMatch(/Too small|Too big|Invalid input|expected (number|string|one of)|\(spec [A-Z]\.\d|zero_init_masks|train_steps|mean_target_end/)
}

test('an unknown dataset is flagged as typed, with a "did you mean", and the run cannot start', async ({ page }) => {
  await page.getByTestId('field-data.dataset').fill('synthetc')
  const err = page.getByTestId('error-data.dataset')
  await expect(err).toContainText('No dataset named “synthetc” here: did you mean “synthetic”?')
  await expect(err).toHaveAttribute('title', /^data\.dataset: unknown dataset "synthetc"/)
  await expect(page.getByTestId('submit')).toBeDisabled()
  await expect(page.getByTestId('estimate-invalid')).toBeVisible()
  await expectNoRawText(page)
  await page.getByTestId('field-data.dataset').fill('synthetic')
  await expect(err).toHaveCount(0)
  await expect(page.getByTestId('submit')).toBeEnabled()
})

test('a target end E outside (0, 1] is refused with a message naming the range', async ({ page }) => {
  const field = page.getByTestId('field-controller.mean_target_end')
  for (const bad of ['1.7', '0']) {
    await field.fill(bad)
    const err = page.getByTestId('error-controller.mean_target_end')
    await expect(err).toHaveText(/^Target end \(E\) must be greater than 0 and at most 1/)
    await expect(err).toHaveCount(1)
    await expect(err).toHaveAttribute('title', /^controller\.mean_target_end: mean_target_end must be/)
    await expect(page.getByTestId('submit')).toBeDisabled()
  }
  await expectNoRawText(page)
  await field.fill('0.5')
  await expect(page.getByTestId('error-controller.mean_target_end')).toHaveCount(0)
  await expect(page.getByTestId('submit')).toBeEnabled()
})

test('a typo in a sweep axis path is flagged at the axis as "unknown field …, did you mean …", not as a duplicate point', async ({ page }) => {
  await page.getByTestId('mode-sweep').check()
  await expect(page.getByTestId('plan-count')).toHaveText('3')
  await expect(page.getByTestId('plan-time')).toHaveText(/^\d.* – \d.*$/) // the total as a range, like a run's estimate
  await expect(page.getByTestId('group-1-axis-0-path')).toHaveValue('controller.mean_target_end')
  await page.getByTestId('group-1-axis-0-values').fill('0.3, 0.6')
  await page.getByTestId('group-1-axis-0-path').fill('controller.mean_target_edn')
  await expect(page.getByTestId('group-1-axis-0-error')).toHaveText('Unknown field “controller.mean_target_edn”: did you mean “controller.mean_target_end” (target end (E))?')
  await expect(page.getByTestId('group-1-axis-0-path')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByTestId('submit')).toBeDisabled()
  await expect(page.getByTestId('sweep-plan')).not.toContainText('duplicate')
  await page.getByTestId('group-1-axis-0-path').fill('controller.mean_target_end')
  await expect(page.getByTestId('group-1-axis-0-error')).toHaveCount(0)
  await expect(page.getByTestId('plan-count')).toHaveText('4')
  await expect(page.getByTestId('submit')).toBeEnabled()
})

test('field problems read in the app\'s words, the config key in the tooltip', async ({ page }) => {
  await page.getByTestId('field-training.train_steps').fill('0')
  await expect(page.getByTestId('error-training.train_steps')).toHaveText('Steps must be at least 1')
  await expect(page.getByTestId('error-training.train_steps')).toHaveAttribute('title', 'training.train_steps: train_steps must be at least 1')
  await page.getByTestId('field-optimizer.lr').fill('-1')
  await expect(page.getByTestId('error-optimizer.lr')).toHaveText('Learning rate must be greater than 0')
  await page.getByTestId('field-model.n_layers').fill('3')
  await expect(page.getByTestId('error-model.n_layers')).toContainText('needs an even number of layers')
  await expect(page.getByTestId('error-model.n_layers')).toContainText('choose kind “dense”')
  await expectNoRawText(page)
})
