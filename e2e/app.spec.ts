import { expect, test } from '@playwright/test'

test('the renderer loads over HTTP and shows engines and presets from the real server', async ({ page }) => {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  await page.goto('/')
  await expect(page.getByTestId('version')).toContainText('http')
  const engines = page.getByTestId('engines')
  await expect(engines).toContainText('ort')
  await expect(engines).toContainText('wasm')
  await expect(page.getByTestId('presets')).toBeVisible()
  await page.screenshot({ path: 'test-results/app-home.png', fullPage: true })
  expect(errors).toEqual([])
})
