/**
 * Issue 18's tracker features in the browser app against a real server of its own (port 0, fresh data folder):
 * provenance and "Re-run exactly" on a real tiny CPU run (bit-identical, said on the page), system metrics, notes
 * and tags; the filter language, group-by and saved views; parallel coordinates with brushing; exports.
 */
import { expect, test, type Page } from '@playwright/test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningServer } from '../core/server/server.js'
import { readParquetRows, readScalarEvents } from '../core/export/testing/readers.js'
import { openStore, type JsonObject } from '../core/store/index.js'
import { shot, watchErrors } from './helpers.js'

test.describe.configure({ mode: 'serial' })
test.use({ viewport: { width: 1440, height: 1000 } })

let server: RunningServer
let dir: string
let errors: string[] = []
/** 24 stored runs (real configs and metrics, straight into the database): L = 2, 4, 6, 8 × dense/gated × 3 seeds. */
function seedGrid(dataDir: string): void {
  const store = openStore(join(dataDir, 'skipbench.db'))
  const e = store.experiments.create({ name: 'grid', tags: ['e2e'] })
  store.transaction(() => {
    for (const L of [2, 4, 6, 8])
      for (const gated of [false, true])
        for (const seed of [0, 1, 2]) {
          const config = {
            model: { dim: 32, n_layers: L, n_heads: 2, vocab_size: 257, max_seq_len: 32, zero_init_masks: !gated, gated_attention: 'key' },
            training: { batch_size: 4, train_steps: 20, val_every: 10, val_tokens: 512, seed },
            optimizer: { lr: gated ? 0.003 : 0.001 },
            controller: gated ? { name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: 0.001 } : { name: 'dummy' },
            data: { dataset: 'default', tokenizer: 'byte' },
          }
          const name = `${gated ? 'gated' : 'dense'}-L${L}-s${seed}`
          const run = store.runs.create({ name, experimentId: e.id, kind: gated ? 'gated' : 'dense', status: 'completed', config: config as unknown as JsonObject, seed, dataset: 'default', tags: gated ? [] : ['baseline'], notes: !gated && L === 8 && seed === 0 ? 'the widest run' : '' })
          const val = 3.2 - 0.1 * L + (gated ? 0.05 : 0) + seed * 0.01
          const points = [] as { step: number; key: string; value: number }[]
          for (let s = 0; s < 20; s++) {
            points.push({ step: s, key: 'train/loss', value: val + (20 - s) * 0.05 })
            if (gated) points.push({ step: s, key: 'train/zeros/mean', value: 0.01 * s })
          }
          for (const s of [0, 10, 20]) {
            points.push({ step: s, key: 'val/loss', value: val + (20 - s) * 0.04 }, { step: s, key: 'val/tokens', value: 512 })
            if (gated) points.push({ step: s, key: 'val/zeros/mean', value: 0.01 * s })
          }
          // one run logged system metrics as a GPU run does (CPU, memory, and nvidia-smi's GPU figures)
          if (!gated && L === 8 && seed === 0)
            for (let s = 0; s < 20; s++)
              points.push(
                { step: s, key: 'sys/cpu_percent', value: 95 },
                { step: s, key: 'sys/rss_mb', value: 300 + s },
                { step: s, key: 'sys/gpu_util_percent', value: 50 + s },
                { step: s, key: 'sys/gpu_mem_mb', value: 1000 + 10 * s },
                { step: s, key: 'sys/gpu_mem_total_mb', value: 24576 },
              )
          store.metrics.insert(run.id, points)
        }
  })
  store.close()
}

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skipbench-e2e-tracker-'))
  seedGrid(dir)
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
  // a CPU run: no GPU curves, and the page says why
  await expect(page.getByTestId('run-gpu')).toHaveCount(0)
  await expect(page.getByTestId('run-system-note')).toContainText('No GPU figures')

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

async function openGrid(page: Page, tab = 'runs'): Promise<void> {
  await page.goto(`${server.url}/#/experiments`)
  await page.getByTestId('experiment-grid').getByTestId('experiment-link').click()
  await expect(page.getByTestId('run-total')).toContainText('24 run(s)')
  if (tab !== 'runs') await page.getByTestId(`tab-${tab}`).click()
}

test('filter language, group-by a config field, saved views', async ({ page }) => {
  await openGrid(page)
  await page.getByTestId('where').fill('model.n_layers >= 6 and val.loss < 2.65 and tag:baseline')
  await page.getByTestId('apply-query').click()
  // dense L6 (2.6, 2.61, 2.62) and dense L8 (2.4, 2.41, 2.42): all six are baseline and below 2.65
  await expect(page.getByTestId('run-total')).toContainText('6 run(s)')
  await expect(page.getByTestId('runs-row')).toHaveCount(6)
  await page.getByTestId('where').fill('model.n_layers >= 6 and val.loss < 2.61 and tag:baseline')
  await page.getByTestId('apply-query').click()
  await expect(page.getByTestId('run-total')).toContainText('4 run(s)')
  // notes are searchable
  await page.getByTestId('where').fill('note ~ "widest"')
  await page.getByTestId('apply-query').click()
  await expect(page.getByTestId('runs-row')).toHaveCount(1)
  await expect(page.getByTestId('runs-row')).toContainText('dense-L8-s0')
  // malformed: one line saying what and where; the table keeps its rows
  await page.getByTestId('where').fill("name = 'x' ; DROP TABLE runs")
  await page.getByTestId('apply-query').click()
  await expect(page.getByTestId('where-error')).toContainText('unexpected character ";"')
  // group by any config field
  await page.getByTestId('where').fill('kind = gated')
  await page.getByTestId('group-by-path').fill('model.n_layers')
  await page.getByTestId('apply-query').click()
  await expect(page.getByTestId('where-error')).toHaveCount(0)
  await expect(page.getByTestId('group-label')).toHaveText(['2 (3)', '4 (3)', '6 (3)', '8 (3)'])
  // save the view, leave, come back, restore it
  await page.getByTestId('view-name').fill('gated by depth')
  await page.getByTestId('save-view').click()
  await expect(page.getByTestId('views').locator('option')).toHaveText(['saved views…', 'gated by depth'])
  await shot(page, '32-filter-group-view')
  await page.reload()
  await expect(page.getByTestId('run-total')).toContainText('24 run(s)')
  await page.getByTestId('views').selectOption({ label: 'gated by depth' })
  await expect(page.getByTestId('where')).toHaveValue('kind = gated')
  await expect(page.getByTestId('run-total')).toContainText('12 run(s)')
  await expect(page.getByTestId('group-label')).toHaveCount(4)
})

test('parallel coordinates: brushing an axis filters the runs table and the Pareto chart; association with val CE', async ({ page }) => {
  await openGrid(page, 'parallel')
  const chart = page.getByTestId('parallel-chart')
  await expect(chart).toHaveAttribute('data-drawn', 'true', { timeout: 30_000 })
  await expect(page.getByTestId('parallel-summary')).toContainText('24 runs')
  // depth is the strongest association (val CE falls with n_layers: rho close to -1), listed first
  await expect(page.getByTestId('association-row').first()).toContainText('layers')
  await expect(page.getByTestId('association-row').first()).toContainText('-0.9')
  // brush the first axis (n_layers, vertical, min at the bottom) over its upper part: the deeper runs
  const box = (await chart.boundingBox())!
  const x = box.x + 60 // parallel.left
  await page.mouse.move(x, box.y + 45)
  await page.mouse.down()
  await page.mouse.move(x, box.y + 120, { steps: 5 })
  await page.mouse.move(x, box.y + 200, { steps: 5 })
  await page.mouse.up()
  await expect(page.getByTestId('parallel-summary')).toContainText('brushed')
  const brushed = Number(/(\d+) brushed/.exec((await page.getByTestId('parallel-summary').textContent())!)![1])
  expect(brushed).toBeGreaterThan(0)
  expect(brushed).toBeLessThan(24)
  await shot(page, '33-parallel-brushed')
  await page.getByTestId('tab-runs').click()
  await expect(page.getByTestId('brushed-count')).toContainText(`${brushed} brushed`)
  await expect(page.getByTestId('runs-row')).toHaveCount(brushed)
  // every brushed run is one of the deep ones (n_layers 6 or 8)
  for (const t of await page.getByTestId('runs-row').allTextContents()) expect(t).toMatch(/-L(6|8)-/)
  await page.getByTestId('tab-pareto').click()
  await expect(page.getByTestId('pareto-brushed')).toContainText(`${brushed} runs brushed`)
  await expect(page.getByTestId('pareto-summary')).toContainText(/(\d+) dense · (\d+) gated/)
  const [, d, g] = /(\d+) dense · (\d+) gated/.exec((await page.getByTestId('pareto-summary').textContent())!)!
  expect(Number(d) + Number(g)).toBe(brushed)
})

test('experiment notes and tags; a Markdown/LaTeX table of selected runs', async ({ page }) => {
  await openGrid(page)
  await page.getByTestId('experiment-notes-toggle').click()
  await page.getByTestId('experiment-notes-edit').click()
  await page.getByTestId('experiment-notes-input').fill('depth sweep for the paper')
  await page.getByTestId('experiment-notes-tags-input').fill('e2e, paper')
  await page.getByTestId('experiment-notes-save').click()
  await expect(page.getByTestId('experiment-notes-text')).toHaveText('depth sweep for the paper')
  // searchable by the filter
  await page.getByTestId('where').fill('experiment_notes ~ "depth sweep" and model.n_layers = 8 and tag:baseline')
  await page.getByTestId('apply-query').click()
  await expect(page.getByTestId('run-total')).toContainText('3 run(s)')
  // tick two runs → their table
  const ids = await page.getByTestId('runs-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))
  await page.getByTestId(`select-${ids[0]}`).check()
  await page.getByTestId(`select-${ids[1]}`).check()
  await page.getByTestId('table-export-open').click()
  const md = await page.getByTestId('table-text').inputValue()
  expect(md.split('\n')).toHaveLength(4)
  expect(md).toMatch(/^\| Run \| Kind \| L \|/)
  expect(md).toMatch(/\| dense-L8-s\d \| dense \| 8 \| 32 \|/)
  await page.getByTestId('table-format-tex').check()
  const tex = await page.getByTestId('table-text').inputValue()
  expect(tex).toContain('\\toprule')
  expect(tex.match(/^dense-L8-s\d & dense & 8 & 32 /gm)).toHaveLength(2)
  await shot(page, '34-runs-table-export')
})

/** Click a button that downloads a file; the file's name and bytes. */
async function download(page: Page, testid: string): Promise<{ name: string; data: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()])
  return { name: dl.suggestedFilename(), data: readFileSync((await dl.path())!) }
}

test('group-by a config field colours the Pareto chart and the loss curves, and is saved with the view', async ({ page }) => {
  await openGrid(page, 'pareto')
  await expect(page.getByTestId('pareto-chart')).toBeVisible()
  await page.getByTestId('pareto-group-by').fill('model.n_layers')
  await page.getByTestId('pareto-group-by').press('Enter')
  await expect(page.getByTestId('pareto-group')).toHaveText(['layers = 2', 'layers = 4', 'layers = 6', 'layers = 8'])
  await expect(page.getByTestId('pareto-chart')).toHaveAttribute('aria-label', /Points coloured by model\.n_layers: layers = 2 \(6 run\(s\)\), layers = 4 \(6 run\(s\)\), layers = 6 \(6 run\(s\)\), layers = 8 \(6 run\(s\)\)/)
  await expect(page.getByTestId('pareto-summary')).toContainText('coloured by 4 group(s)')
  await shot(page, '35-pareto-grouped')
  // the same choice colours the loss curves (the newest 12 runs: depth 6 and 8)
  await page.getByTestId('tab-curves').click()
  await expect(page.getByTestId('curves-group-by')).toHaveValue('model.n_layers')
  await expect(page.getByTestId('curves-chart')).toHaveAttribute('aria-label', /coloured by model\.n_layers \(layers = 6, layers = 8\)/)
  // another field, chosen here: learning rate (0.001 dense, 0.003 gated)
  await page.getByTestId('curves-group-by').fill('optimizer.lr')
  await page.getByTestId('curves-group-by').press('Enter')
  await expect(page.getByTestId('curves-chart')).toHaveAttribute('aria-label', /coloured by optimizer\.lr \(learning rate = 0\.001, learning rate = 0\.003\)/)
  await page.getByTestId('curves-chart-data').locator('summary').click()
  const groups = await page.getByTestId('curve-group').allTextContents()
  expect(groups).toHaveLength(12)
  expect(new Set(groups)).toEqual(new Set(['learning rate = 0.001', 'learning rate = 0.003']))
  await shot(page, '36-curves-grouped')
  // the runs table groups by it too; save it as a view, reload, restore it: the Pareto chart is grouped again
  await page.getByTestId('tab-runs').click()
  await expect(page.getByTestId('group-by-path')).toHaveValue('optimizer.lr')
  await expect(page.getByTestId('group-label')).toHaveText(['0.001 (12)', '0.003 (12)'])
  await page.getByTestId('view-name').fill('by learning rate')
  await page.getByTestId('save-view').click()
  await expect(page.getByTestId('views').locator('option')).toContainText(['by learning rate'])
  await page.reload()
  await expect(page.getByTestId('run-total')).toContainText('24 run(s)')
  await page.getByTestId('views').selectOption({ label: 'by learning rate' })
  await expect(page.getByTestId('group-label')).toHaveCount(2)
  await page.getByTestId('tab-pareto').click()
  await expect(page.getByTestId('pareto-group-by')).toHaveValue('optimizer.lr')
  await expect(page.getByTestId('pareto-group')).toHaveText(['learning rate = 0.001', 'learning rate = 0.003'])
})

test('GPU figures beside CPU and memory; TensorBoard, CSV and Parquet downloads read back by independent readers', async ({ page }) => {
  const list = await api<{ rows: { id: number; name: string }[] }>(page, 'listRuns', { search: 'dense-L8-s', sort: { by: 'name', dir: 'asc' } })
  const [run, other] = list.rows
  expect(run!.name).toBe('dense-L8-s0')
  await page.goto(`${server.url}/#/runs/${run!.id}`)
  await expect(page.getByTestId('run-name')).toContainText('dense-L8-s0')
  await expect(page.getByTestId('run-system-note')).toContainText('GPU utilisation and memory of its GPU, from nvidia-smi')
  await expect(page.getByTestId('run-gpu').locator('canvas').first()).toBeVisible()
  await expect(page.getByTestId('run-gpu-key').locator('option')).toHaveText(['sys/gpu_util_percent', 'sys/gpu_mem_mb', 'sys/gpu_mem_total_mb'])
  await expect(page.getByTestId('run-system-key').locator('option')).toHaveText(['sys/cpu_percent', 'sys/rss_mb'])
  await shot(page, '37-run-gpu')

  const train = (s: number) => 3.2 - 0.1 * 8 + (20 - s) * 0.05
  // TensorBoard: TFRecord framing and every CRC checked, Event protobufs decoded, one scalar per stored value
  const tb = await download(page, 'run-metrics-download-tensorboard')
  expect(tb.name).toMatch(new RegExp(`^run-${run!.id}-dense-L8-s0\\.events\\.out\\.tfevents\\.`))
  const ev = readScalarEvents(tb.data)
  expect(ev.fileVersion).toBe('brain.Event:2')
  const tbLoss = ev.scalars.filter((x) => x.tag === 'train/loss')
  expect(tbLoss.map((x) => x.step)).toEqual([...Array(20).keys()])
  expect(tbLoss.map((x) => x.value)).toEqual([...Array(20).keys()].map((s) => Math.fround(train(s))))
  expect(ev.scalars.filter((x) => x.tag === 'sys/gpu_util_percent').map((x) => x.value)).toEqual([...Array(20).keys()].map((s) => 50 + s))
  await expect(page.getByTestId('run-metrics-download-done')).toContainText(`${ev.scalars.length} values`)
  // long CSV: exact doubles
  const csv = await download(page, 'run-metrics-download-csv')
  expect(csv.name).toBe(`run-${run!.id}-metrics.csv`)
  const lines = csv.data.toString('utf8').trim().split('\n')
  expect(lines[0]).toBe('run_id,run,key,step,value')
  expect(lines.length - 1).toBe(ev.scalars.length)
  const csvLoss = lines.filter((l) => l.includes(',train/loss,')).map((l) => l.split(','))
  expect(csvLoss.map((c) => Number(c[4]))).toEqual([...Array(20).keys()].map(train))
  // Parquet, read by hyparquet: the same rows as the CSV
  const pq = await download(page, 'run-metrics-download-parquet')
  expect(pq.name).toBe(`run-${run!.id}-metrics.parquet`)
  const rows = await readParquetRows(pq.data)
  expect(rows).toHaveLength(lines.length - 1)
  expect(rows.filter((r) => r['key'] === 'train/loss').map((r) => r['value'])).toEqual([...Array(20).keys()].map(train))

  // two runs ticked in the runs table: one long Parquet file of both
  await openGrid(page)
  await page.getByTestId(`select-${run!.id}`).check()
  await page.getByTestId(`select-${other!.id}`).check()
  const both = await download(page, 'selected-metrics-download-parquet')
  expect(both.name).toBe(`runs-${[run!.id, other!.id].join('-')}-metrics.parquet`)
  const all = await readParquetRows(both.data)
  expect(new Set(all.map((r) => r['run']))).toEqual(new Set(['dense-L8-s0', other!.name]))
  expect(all.filter((r) => r['run'] === other!.name && r['key'] === 'val/loss').map((r) => [r['step'], r['value']])).toEqual([0, 10, 20].map((s) => [BigInt(s), 3.2 - 0.1 * 8 + 0 + Number(other!.name.slice(-1)) * 0.01 + (20 - s) * 0.04]))
})
