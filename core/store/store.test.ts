import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { diffObjects } from './diff.js'
import { openStore, type Store } from './store.js'
import { tempDir, type TempDir } from './test-helpers.js'
import type { MetricPoint } from './types.js'

let tmp: TempDir
let store: Store
beforeEach(() => {
  tmp = tempDir()
  store = openStore(tmp.file('s.db'))
})
afterEach(() => {
  store.close()
  tmp.cleanup()
})

const cfg = (dim: number, gated = true) => ({ model: { dim, n_layers: 2, zero_init_masks: !gated }, training: { train_steps: 10, seed: 1 }, data: { dataset: 'synthetic' } })

describe('runs', () => {
  it('creates, reads, updates and deletes a run; JSON columns round-trip', () => {
    const e = store.experiments.create({ name: 'sweep', description: 'lr sweep', tags: ['a'] })
    const r = store.runs.create({ name: 'r1', kind: 'gated', config: cfg(16), seed: 1, engine: 'ort', versions: { ort: '1.30' }, dataset: 'synthetic', tags: ['x', 'y'], experimentId: e.id })
    expect(r).toMatchObject({ name: 'r1', status: 'queued', config: cfg(16), tags: ['x', 'y'], versions: { ort: '1.30' }, experimentId: e.id })
    expect(r.datasetId).toBe(store.datasets.byName('synthetic')!.id)
    const u = store.runs.update(r.id, { status: 'running', notes: 'hello', tokensPerSec: 123.5, error: null })
    expect(u).toMatchObject({ status: 'running', notes: 'hello', tokensPerSec: 123.5 })
    expect(store.runs.byUid(r.uid)!.id).toBe(r.id)
    expect(store.experiments.list()).toMatchObject([{ name: 'sweep', runs: 1 }])
    store.metrics.insert(r.id, [{ step: 0, key: 'train/loss', value: 1 }])
    store.checkpoints.record(r.id, { step: 0, path: '/x' })
    expect(store.runs.remove(r.id)).toBe(true)
    expect(store.metrics.count(r.id)).toBe(0)
    expect(store.db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(0)
    expect(store.checkpoints.list(r.id)).toEqual([])
  })

  it('lists with filters, metric summaries and sorts (nulls last)', () => {
    const e = store.experiments.create({ name: 'e' })
    const ids: number[] = []
    for (let i = 0; i < 6; i++) {
      const r = store.runs.create({ name: `run-${i}`, kind: i % 2 ? 'dense' : 'gated', config: cfg(16 * (1 + (i % 3)), i % 2 === 0), status: i < 4 ? 'completed' : 'failed', tags: i % 3 === 0 ? ['best'] : [], experimentId: i < 3 ? e.id : null, notes: i === 5 ? 'needle 100%' : '' })
      ids.push(r.id)
      if (i !== 4) store.metrics.insert(r.id, [0, 1, 2].flatMap((s) => [{ step: s, key: 'val/loss', value: 10 - i - s + (s === 2 ? 0.5 : 0) }]))
    }
    const all = store.runs.list({ sort: { metric: 'val/loss', agg: 'min', dir: 'asc' } })
    expect(all.total).toBe(6)
    expect(all.rows.map((r) => r.name)).toEqual(['run-5', 'run-3', 'run-2', 'run-1', 'run-0', 'run-4'])
    expect(all.rows[0]!.summaries['val/loss']).toEqual({ last: 3.5, lastStep: 2, min: 3.5, minStep: 2, max: 5, count: 3 })
    expect(all.rows[0]).not.toHaveProperty('config', expect.anything())
    expect(store.runs.list({ sort: { metric: 'val/loss', agg: 'last', dir: 'desc' } }).rows.at(-1)!.name).toBe('run-4')
    expect(store.runs.list({ kind: 'dense' }).total).toBe(3)
    expect(store.runs.list({ status: ['failed'] }).rows.map((r) => r.name).sort()).toEqual(['run-4', 'run-5'])
    expect(store.runs.list({ tags: ['best'] }).rows.map((r) => r.name).sort()).toEqual(['run-0', 'run-3'])
    expect(store.runs.list({ experimentId: e.id }).total).toBe(3)
    expect(store.runs.list({ experimentId: null }).total).toBe(3)
    expect(store.runs.list({ search: '100%' }).rows.map((r) => r.name)).toEqual(['run-5'])
    expect(store.runs.list({ search: '%' }).total).toBe(1) // % is literal
    expect(store.runs.list({ configEquals: { 'model.dim': 32 } }).rows.map((r) => r.name).sort()).toEqual(['run-1', 'run-4'])
    expect(store.runs.list({ configEquals: { 'model.zero_init_masks': true } }).total).toBe(3)
    expect(store.runs.list({ ids: [ids[0]!, ids[2]!] }).total).toBe(2)
    const page = store.runs.list({ sort: { by: 'name', dir: 'asc' }, limit: 2, offset: 2 })
    expect(page.total).toBe(6)
    expect(page.rows.map((r) => r.name)).toEqual(['run-2', 'run-3'])
    expect(page.rows[0]!.experiment).toBe('e')
    expect(() => store.runs.list({ configEquals: { "x'); DROP TABLE runs; --": 1 } })).toThrow(/bad config path/)
  })

  it('diffs configs and provenance', () => {
    const a = store.runs.create({ name: 'a', kind: 'gated', config: cfg(16), engine: 'ort', seed: 1 })
    const b = store.runs.create({ name: 'b', kind: 'dense', config: cfg(32, false), engine: 'ort', seed: 2 })
    const d = store.runs.diff([a.id, b.id])
    expect(d.fields.map((f) => f.path)).toEqual(['model.dim', 'model.zero_init_masks', 'run.kind', 'run.seed'])
    expect(d.fields[0]!.values).toEqual([16, 32])
    expect(diffObjects([{ a: [1, 2] }, { a: [1, 2] }, { a: [1, 3], b: 1 }])).toEqual([
      { path: 'a', values: [[1, 2], [1, 2], [1, 3]] },
      { path: 'b', values: [null, null, 1] },
    ])
  })
})

describe('metrics', () => {
  it('inserts idempotently and keeps summaries equal to a recomputation, under random batches', () => {
    const r = store.runs.create({ name: 'm', kind: 'gated', config: {} })
    let seed = 7
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const all = new Map<string, MetricPoint>()
    for (let batch = 0; batch < 30; batch++) {
      const pts: MetricPoint[] = []
      for (let i = 0; i < 40; i++) {
        const key = ['train/loss', 'val/loss', 'train/lr'][Math.floor(rand() * 3)]!
        const step = Math.floor(rand() * 200)
        const value = rand() < 0.03 ? NaN : Math.round(rand() * 1000) / 100
        pts.push({ key, step, value })
      }
      const fresh = pts.filter((p, i) => !all.has(`${p.key}/${p.step}`) && pts.findIndex((q) => q.key === p.key && q.step === p.step) === i)
      expect(store.metrics.insert(r.id, pts)).toBe(fresh.length)
      for (const p of fresh) all.set(`${p.key}/${p.step}`, p)
    }
    expect(store.metrics.insert(r.id, [...all.values()])).toBe(0)
    for (const s of store.metrics.summaries(r.id)) {
      const pts = [...all.values()].filter((p) => p.key === s.key).sort((a, b) => a.step - b.step)
      const finite = pts.filter((p) => !Number.isNaN(p.value))
      const min = Math.min(...finite.map((p) => p.value))
      expect(s.count).toBe(pts.length)
      expect(s.firstStep).toBe(pts[0]!.step)
      expect(s.lastStep).toBe(pts.at(-1)!.step)
      expect(s.lastValue).toBe(Number.isNaN(pts.at(-1)!.value) ? null : pts.at(-1)!.value)
      expect(s.minValue).toBe(min)
      expect(s.minStep).toBe(finite.find((p) => p.value === min)!.step)
      expect(s.maxValue).toBe(Math.max(...finite.map((p) => p.value)))
      const series = store.metrics.series(r.id, s.key, { maxPoints: 0 })
      expect(series.steps).toEqual(pts.map((p) => p.step))
      expect(series.values).toEqual(pts.map((p) => p.value))
    }
    expect(store.runs.get(r.id)!.lastStep).toBe(Math.max(...[...all.values()].map((p) => p.step)))
  })

  it('discards for resume: validation at the checkpoint step stays, training steps from it go; summaries follow', () => {
    const r = store.runs.create({ name: 'm', kind: 'gated', config: {} })
    const pts: MetricPoint[] = []
    for (let s = 0; s < 10; s++) pts.push({ step: s, key: 'train/loss', value: 10 - s })
    for (const s of [0, 4, 8]) pts.push({ step: s, key: 'val/loss', value: 20 - s })
    store.metrics.insert(r.id, pts)
    expect(store.metrics.discardForResume(r.id, 4)).toBe(6 + 1)
    expect(store.metrics.steps(r.id, 'train/loss')).toEqual([0, 1, 2, 3])
    expect(store.metrics.steps(r.id, 'val/loss')).toEqual([0, 4])
    expect(store.metrics.summaries(r.id).find((s) => s.key === 'train/loss')).toMatchObject({ count: 4, lastStep: 3, lastValue: 7, minValue: 7 })
    expect(store.runs.get(r.id)!.lastStep).toBe(4)
    // the resumed timeline writes steps 4.. afresh
    expect(store.metrics.insert(r.id, [{ step: 4, key: 'train/loss', value: 1 }])).toBe(1)
  })

  it('downsamples long series to the requested number of points, within a step range', () => {
    const r = store.runs.create({ name: 'm', kind: 'dense', config: {} })
    store.metrics.insert(r.id, Array.from({ length: 5000 }, (_, s) => ({ step: s, key: 'train/loss', value: 1 / (s + 1) })))
    const s = store.metrics.series(r.id, 'train/loss', { maxPoints: 100 })
    expect(s.total).toBe(5000)
    expect(s.steps).toHaveLength(100)
    expect(s.steps[0]).toBe(0)
    expect(s.steps.at(-1)).toBe(4999)
    const z = store.metrics.series(r.id, 'train/loss', { fromStep: 100, toStep: 199, maxPoints: 1000 })
    expect(z.total).toBe(100)
    expect(z.steps[0]).toBe(100)
    expect(store.metrics.series(r.id, 'nope').total).toBe(0)
  })

  it('a failed transaction leaves nothing behind, and key ids stay usable afterwards', () => {
    const r = store.runs.create({ name: 'm', kind: 'dense', config: {} })
    expect(() =>
      store.transaction(() => {
        store.metrics.insert(r.id, [{ step: 0, key: 'brand/new', value: 1 }])
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(store.metrics.count(r.id)).toBe(0)
    expect(store.metrics.insert(r.id, [{ step: 0, key: 'brand/new', value: 1 }])).toBe(1)
  })
})

describe('checkpoints, evaluations, datasets, logs', () => {
  it('records checkpoints idempotently and falls back past invalid ones', () => {
    const r = store.runs.create({ name: 'c', kind: 'gated', config: {} })
    const a = store.checkpoints.record(r.id, { step: 2, path: '/r/checkpoints/step-000002' })
    const b = store.checkpoints.record(r.id, { step: 4, path: '/r/checkpoints/step-000004' })
    expect(store.checkpoints.record(r.id, { step: 4, path: '/r/checkpoints/step-000004' }).id).toBe(b.id)
    expect(store.checkpoints.latestValid(r.id)!.id).toBe(b.id)
    store.checkpoints.markInvalid(b.id, 'truncated')
    expect(store.checkpoints.latestValid(r.id)!.id).toBe(a.id)
    expect(store.checkpoints.get(b.id)).toMatchObject({ valid: false, problem: 'truncated' })
    // written again under the same name: valid again
    expect(store.checkpoints.record(r.id, { step: 4, path: '/r/checkpoints/step-000004' })).toMatchObject({ id: b.id, valid: true, problem: null })
  })

  it('stores evaluations, datasets, logs and job events', () => {
    const r = store.runs.create({ name: 'c', kind: 'gated', config: {} })
    const d = store.datasets.upsert({ name: 'fineweb', tokenizer: 'gpt2', vocabSize: 50257 })
    expect(store.datasets.upsert({ name: 'fineweb' })).toMatchObject({ id: d.id, tokenizer: 'gpt2', vocabSize: 50257 })
    const ev = store.evaluations.add({ runId: r.id, dataset: 'fineweb', datasetId: d.id, tokens: 1024, loss: 3.2, gateStats: { mean: [1, 0.5] }, flopsPerToken: 1e6, flops: 1e9 })
    expect(store.evaluations.list(r.id)).toEqual([ev])
    expect(ev.gateStats).toEqual({ mean: [1, 0.5] })
    store.logs.add({ runId: r.id, level: 'info', message: 'one' })
    store.logs.add({ runId: r.id, level: 'warn', message: 'two' })
    const logs = store.logs.forRun(r.id)
    expect(logs.map((l) => l.message)).toEqual(['one', 'two'])
    expect(store.logs.forRun(r.id, { afterId: logs[0]!.id }).map((l) => l.message)).toEqual(['two'])
    const j = store.jobs.enqueue({ kind: 'train', payload: {} })
    store.logs.event(j.id, 'started', { pid: 1 })
    expect(store.logs.events(j.id)).toMatchObject([{ type: 'started', data: { pid: 1 } }])
  })
})

describe('throughput summary', () => {
  it('leaves out the first (warm-up) step of a run', () => {
    const r = store.runs.create({ name: 't', kind: 'dense', config: cfg(16, false), seed: 1, engine: 'ort', versions: {}, dataset: 'synthetic' })
    // 4 steps of 100 tokens; step 0 took 2 s (graph build), the rest 0.1 s each
    const secs = [2, 0.1, 0.1, 0.1]
    const pts: MetricPoint[] = []
    secs.forEach((s, step) => pts.push({ step, key: 'train/tokens', value: 100 * (step + 1) }, { step, key: 'train/step_seconds', value: s }))
    store.metrics.insert(r.id, pts)
    expect(store.metrics.meanTokensPerSec(r.id)).toBeCloseTo(300 / 0.3, 6) // not 400 / 2.3
    const one = store.runs.create({ name: 'u', kind: 'dense', config: cfg(16, false), seed: 2, engine: 'ort', versions: {}, dataset: 'synthetic' })
    store.metrics.insert(one.id, [{ step: 0, key: 'train/tokens', value: 50 }, { step: 0, key: 'train/step_seconds', value: 0.5 }])
    expect(store.metrics.meanTokensPerSec(one.id)).toBeCloseTo(100, 6)
  })
})
