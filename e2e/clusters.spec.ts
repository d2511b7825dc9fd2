/**
 * Settings → Slurm clusters in Debian's Chromium against the real `skipbench serve`: "Add cluster" validates and
 * saves a profile and runs "Test connection" at once (real commands on this machine: connectivity always answers;
 * the Slurm lines pass where a cluster is reachable, e.g. CI's scripts/slurm-local.sh); the new-run form then offers
 * "Run on: this machine | NAME".
 */
import { expect, test } from '@playwright/test'
import { watchErrors } from './helpers.js'

test.use({ viewport: { width: 1440, height: 1000 } })

test('settings: add a cluster, test its connection, and pick it under "Run on"', async ({ page }) => {
  const errors = watchErrors(page)
  await page.goto('/')
  await page.getByTestId('nav-settings').click()
  const add = page.getByTestId('cluster-add')
  await page.getByTestId('cluster-name').fill('bad name')
  await page.getByTestId('cluster-workdir').fill('/tmp/skipbench-e2e-cluster')
  await page.getByTestId('cluster-save').click()
  await expect(page.getByTestId('cluster-error')).toContainText('a cluster name is letters')
  await page.getByTestId('cluster-name').fill('e2e-local')
  await add.getByTestId('cluster-save').click()
  const checks = page.getByTestId('cluster-checks-e2e-local')
  await expect(checks).toBeVisible({ timeout: 120_000 })
  await expect(checks.locator('li', { hasText: 'connectivity' })).toContainText('ok · connectivity: this machine')
  await expect(checks.locator('li', { hasText: 'sbatch' })).toHaveCount(1)
  await expect(page.getByTestId('cluster-e2e-local')).toBeVisible()

  await page.goto('/#/new')
  await expect(page.getByTestId('run-on')).toBeVisible()
  await expect(page.getByTestId('run-on').locator('option')).toHaveText(['this machine', 'e2e-local'])
  expect(errors).toEqual([])
})
