// Issue 18 at the service boundary (the same dispatch both transports use): the filter language and group-by in
// listRuns, saved views, parallel coordinates with Spearman association, brushing-restricted comparisons, notes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { API, type ApiHandlers, type ApiOutput } from '../contract/api.js'
import { readParquetRows, readScalarEvents } from '../export/testing/readers.js'
import { openStore, type JsonObject } from '../store/index.js'
import { createService, dispatch, type Service } from './service.js'

let dir: string
let svc: Service
let h: ApiHandlers
let expId = 0
const call = <K extends keyof typeof API>(m: K, input: unknown) => dispatch(h, m, input) as Promise<ApiOutput<K>>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-tracker-'))
  // 8 stored runs: val CE falls with depth (rho = -1 over n_layers), lr is noise-free but unrelated in rank
  const store = openStore(join(dir, 'skipbench.db'))
  const e = store.experiments.create({ name: 'grid' })
  expId = e.id
  const lrs = [3e-3, 1e-3, 2e-3, 4e-3, 1e-3, 3e-3, 4e-3, 2e-3]
  ;[2, 3, 4, 5, 6, 7, 8, 9].forEach((L, i) => {
    const config = { model: { n_layers: L, dim: 32, zero_init_masks: i % 2 === 0, gated_attention: 'key' }, optimizer: { lr: lrs[i] }, controller: { name: i % 2 ? 'proportional' : 'dummy' }, training: { seed: 0 } }
    const r = store.runs.create({ name: `r${L}`, kind: i % 2 === 0 ? 'dense' : 'gated', status: 'completed', config: config as unknown as JsonObject, experimentId: e.id, tags: L >= 6 ? ['deep'] : [] })
    store.metrics.insert(r.id, [{ step: 10, key: 'val/loss', value: 4 - 0.2 * L }])
  })
  store.close()
  svc = await createService({ transport: 'http', dataDir: dir, throttleMs: 50 })
  h = svc.handlers
}, 60_000)
afterAll(async () => {
  await svc?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('tracker features through the API', () => {
  it('listRuns takes the filter language and group-by; a bad filter is a 400 with one line', async () => {
    const r = await call('listRuns', { experimentId: expId, where: 'model.n_layers >= 6 and val.loss < 2.9 and tag:deep', groupBy: 'model.n_layers' })
    expect(r.rows.map((x) => [x.name, x.group]).sort()).toEqual([
      ['r6', 6],
      ['r7', 7],
      ['r8', 8],
      ['r9', 9],
    ])
    await expect(call('listRuns', { where: 'val.loss <' })).rejects.toMatchObject({ code: 'bad_request' })
    await expect(call('listRuns', { where: 'val.loss <' })).rejects.toThrow(/expected a value/)
    await expect(call('listRuns', { groupBy: "model') OR 1" })).rejects.toThrow(/dotted config path/)
  })

  it('saved views: create, replace, list, delete; a view with a bad filter is refused', async () => {
    const v = await call('saveView', { experimentId: expId, name: 'deep', state: { where: 'tag:deep', groupBy: 'model.n_layers', sort: { by: 'val_loss', dir: 'asc' } } })
    await call('saveView', { experimentId: expId, name: 'deep', state: { where: 'tag:deep and kind = gated', groupBy: '' } })
    const list = await call('listViews', { experimentId: expId })
    expect(list).toEqual([expect.objectContaining({ id: v.id, name: 'deep', state: { where: 'tag:deep and kind = gated', groupBy: '' } })])
    await expect(call('saveView', { experimentId: expId, name: 'bad', state: { where: 'tag:', groupBy: '' } })).rejects.toThrow(/expected a value/)
    expect((await call('deleteView', { id: v.id })).deleted).toBe(true)
    expect(await call('listViews', { experimentId: expId })).toEqual([])
  })

  it('parallel coordinates: varying fields as axes, metrics last, Spearman with val CE', async () => {
    const p = await call('getParallel', { experimentId: expId })
    expect(p.runs).toHaveLength(8)
    const paths = p.axes.map((a) => a.path)
    expect(paths).toEqual(expect.arrayContaining(['model.n_layers', 'optimizer.lr', 'model.zero_init_masks', 'controller.name', 'val/loss']))
    expect(paths).not.toContain('model.dim') // the same in every run
    expect(paths.at(-1)).toBe('val/loss')
    expect(p.axes.find((a) => a.path === 'controller.name')).toMatchObject({ type: 'category', categories: ['dummy', 'proportional'] })
    const L = paths.indexOf('model.n_layers')
    expect(p.values.map((v) => v[L])).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
    const rho = Object.fromEntries(p.association.map((a) => [a.path, a.rho]))
    expect(rho['model.n_layers']).toBeCloseTo(-1, 12)
    expect(rho['controller.name']).toBeNull()
    expect(p.association[0]!.path).toBe('model.n_layers') // strongest first
    // filtered by the same language
    expect((await call('getParallel', { experimentId: expId, where: 'kind = gated' })).runs).toHaveLength(4)
  })

  it('brushing restricts the comparison to the brushed runs; run notes and tags are editable and filterable', async () => {
    const all = await call('listRuns', { experimentId: expId })
    const two = all.rows.slice(0, 2).map((r) => r.id)
    const c = await call('compareExperiment', { experimentId: expId, runIds: two })
    expect(c.runs.length + c.skipped.length).toBe(2)
    const row = await call('updateRun', { runId: two[0], notes: 'diverged at step 300', tags: ['flaky', 'deep'] })
    expect(row.tags).toEqual(['flaky', 'deep'])
    expect((await call('listRuns', { where: 'note ~ "DIVERGED" and tag:flaky' })).rows.map((r) => r.id)).toEqual([two[0]])
    await expect(call('updateRun', { runId: two[0], tags: [''] })).rejects.toThrow(/tag cannot be empty/)
  })

  it('compareExperiment takes a group-by path (values per run: e2e/tracker.spec.ts on costed runs); a bad path is refused', async () => {
    const c = await call('compareExperiment', { experimentId: expId, groupBy: 'model.n_layers' })
    expect(c.runs.length + c.skipped.length).toBe(8)
    for (const r of c.runs) expect(r.group).toBe(Number(r.name.slice(1)))
    await expect(call('compareExperiment', { experimentId: expId, groupBy: "model') OR 1" })).rejects.toThrow(/dotted config path/)
  })

  it("exportMetrics: the CLI export's files through the API (base64), validated input, unknown runs named", async () => {
    const ids = (await call('listRuns', { experimentId: expId, sort: { by: 'id', dir: 'asc' } })).rows.map((r) => r.id)
    const pq = await call('exportMetrics', { runIds: ids.slice(0, 2), format: 'parquet' })
    expect(pq.values).toBe(2)
    expect(pq.files).toHaveLength(1)
    expect(pq.files[0]).toMatchObject({ name: `runs-${ids[0]}-${ids[1]}-metrics.parquet`, path: 'metrics.parquet', mediaType: 'application/vnd.apache.parquet' })
    const rows = await readParquetRows(Buffer.from(pq.files[0]!.base64, 'base64'))
    expect(rows.map((r) => [r['run'], r['key'], r['step'], r['value']])).toEqual([
      ['r2', 'val/loss', 10n, 4 - 0.2 * 2],
      ['r3', 'val/loss', 10n, 4 - 0.2 * 3],
    ])
    const tb = await call('exportMetrics', { runIds: [ids[0]], format: 'tensorboard' })
    const buf = Buffer.from(tb.files[0]!.base64, 'base64')
    expect(tb.files[0]!.bytes).toBe(buf.length)
    expect(readScalarEvents(buf).scalars.map((x) => [x.step, x.tag, x.value])).toEqual([[10, 'val/loss', Math.fround(3.6)]])
    await expect(call('exportMetrics', { runIds: [], format: 'csv' })).rejects.toThrow(/select at least one run/)
    await expect(call('exportMetrics', { runIds: [ids[0]], format: 'xlsx' })).rejects.toThrow(/tensorboard, csv or parquet/)
    await expect(call('exportMetrics', { runIds: [ids[0], 99999], format: 'csv' })).rejects.toMatchObject({ code: 'not_found' })
  })
})
