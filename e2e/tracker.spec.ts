/**
 * Issue 18's tracker features in the browser app against a real server of its own (port 0, fresh data folder):
 * provenance and "Re-run exactly" on a real tiny CPU run (bit-identical, said on the page), system metrics, notes
 * and tags; the filter language, group-by and saved views; parallel coordinates with brushing; exports.
 */
import { expect, test, type Page } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningServer } from '../core/server/server.js'
import { shot, watchErrors } from './helpers.js'

test.describe.configure({ mode: 'serial' })
test.use({ viewport: { width: 1440, height: 1000 } })

let server: RunningServer
let dir: string
let errors: string[] = []
test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skipbench-e2e-tracker-'))
  server = await startServer({ dataDir: dir, port: 0 })
})
test.afterAll(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})
test.beforeEach(({ page }) => {
  errors = watchErrors(page)
})
test.afterEach(() => {
  expect(errors).toEqual([])
})

async function api<T>(page: Page, method: string, body: unknown): Promise<T> {
  const r = await page.request.post(`${server.url}/api/${method}`, { data: body })
  const j = (await r.json()) as { value?: T; error?: string }
  if (!r.ok()) throw new Error(`${method}: ${j.error}`)
  return j.value as T
}

const TINY = {
  name: 'tiny-e2e',
  model: { dim: 16, n_layers: 2, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: false, gated_attention: 'key' },
  training: { batch_size: 2, train_steps: 6, val_every: 3, val_tokens: 64, checkpoint_every: 3, seed: 5 },
  optimizer: { lr: 0.001 },
  data: { dataset: 'synthetic', synthetic: { train_tokens: 4096, val_tokens: 512 } },
}

test('a real run: provenance, system metrics, notes and tags; "Re-run exactly" reproduces it bit for bit', async ({ page }) => {
  const exp = await api<{ id: number }>(page, 'createExperiment', { name: 'tracker', tags: ['e2e'] })
  const { runId } = await api<{ runId: number }>(page, 'startRun', { config: TINY, experimentId: exp.id, tags: ['baseline'] })
  await page.goto(`${server.url}/#/runs/${runId}`)
  await expect(page.getByTestId('run-name')).toContainText('tiny-e2e')
  await expect(page.getByTestId('run-name').locator('[data-status]')).toHaveAttribute('data-status', 'completed', { timeout: 90_000 })

  await expect(page.getByTestId('prov-runtime')).toContainText(/onnxruntime \d+\.\d+/)
  await expect(page.getByTestId('prov-machine')).toContainText('×')
  await expect(page.getByTestId('prov-dataset')).toContainText(/sha256:[0-9a-f]{16}/)
  await expect(page.getByTestId('run-system').locator('canvas').first()).toBeVisible()

  await page.getByTestId('run-notes-edit').click()
  await page.getByTestId('run-notes-input').fill('lr looks too low here')
  await page.getByTestId('run-notes-tags-input').fill('baseline, lowlr')
  await page.getByTestId('run-notes-save').click()
  await expect(page.getByTestId('run-notes-text')).toHaveText('lr looks too low here')
  await expect(page.getByTestId('run-notes-tag')).toHaveText(['baseline', 'lowlr'])
  await shot(page, '30-run-provenance')

  await page.getByTestId('rerun').click()
  await expect(page).not.toHaveURL(new RegExp(`#/runs/${runId}$`))
  await expect(page.getByTestId('run-name')).toContainText(`rerun of ${runId}`)
  await expect(page.getByTestId('rerun-verdict')).toHaveAttribute('data-identical', 'true', { timeout: 90_000 })
  await expect(page.getByTestId('rerun-verdict')).toContainText('bit for bit')
  await shot(page, '31-rerun-identical')
})
