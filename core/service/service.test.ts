import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { API, API_METHODS, ServerEvent, type ApiHandlers } from '../contract/api.js'
import { estimateRun, planSweep, DEFAULT_FLOPS_PER_SEC } from './config.js'
import { checkRunConfig, parseRunConfig } from '../config/index.js'
import { trainingFlops } from '../flops/index.js'
import { createService, dispatch, BadRequest, type Service } from './service.js'
import { SweepSpec } from '../contract/api.js'
import { writeShard } from '../data/shard.js'
import { measureCheckpointCost, thisMachine } from '../trainer/measured-cost.js'

/** A tiny real model on synthetic data: a few steps train in well under a second. */
const tiny = (over: { layers?: number; gated?: boolean; steps?: number; end?: number; seed?: number } = {}) => ({
  name: 'tiny',
  model: { dim: 16, n_layers: over.layers ?? 2, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: !(over.gated ?? false), gated_attention: 'key' },
  training: { batch_size: 2, train_steps: over.steps ?? 6, val_every: 3, val_tokens: 64, checkpoint_every: 3, keep_checkpoints: 0, seed: over.seed ?? 0 },
  optimizer: { lr: 3e-3 },
  controller: over.gated ? { name: 'proportional', mean_target_start: 1, mean_target_end: over.end ?? 0.5 } : { name: 'dummy' },
  data: { dataset: 'synthetic', synthetic: { train_tokens: 4096, val_tokens: 512, seed: 0 } },
})

let dir: string
let svc: Service
let h: ApiHandlers
const events: ServerEvent[] = []
const call = <K extends keyof typeof API>(m: K, input: unknown) => dispatch(h, m, input) as Promise<import('../contract/api.js').ApiOutput<K>>

function waitFor(pred: () => boolean, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    const tick = () => {
      if (pred()) return resolve()
      if (Date.now() - t0 > ms) return reject(new Error('timed out'))
      setTimeout(tick, 50)
    }
    tick()
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-svc-'))
  svc = await createService({ transport: 'http', dataDir: dir, throttleMs: 50 })
  h = svc.handlers
  svc.on((e) => events.push(e))
})
afterAll(async () => {
  await svc.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('service contract', () => {
  it('implements every method of the contract', () => {
    expect(Object.keys(h).sort()).toEqual([...API_METHODS].sort())
  })
  it('rejects malformed input with a BadRequest naming the field', async () => {
    await expect(dispatch(h, 'createExperiment', { name: '' })).rejects.toThrow(BadRequest)
    await expect(dispatch(h, 'createExperiment', { name: '' })).rejects.toThrow(/name: give the experiment a name/)
    await expect(dispatch(h, 'getRun', { runId: 'x' })).rejects.toThrow(/runId/)
    await expect(dispatch(h, 'listRuns', [1, 2])).rejects.toThrow(BadRequest)
  })
  it('reports structured config issues at field paths, with labels (no text parsing)', () => {
    const r = checkRunConfig({ model: { dim: 30, n_heads: 4, n_layers: 3, zero_init_masks: false }, training: { train_steps: 0, foo: 1 } })
    expect(r.ok).toBe(false)
    const issues = r.ok ? [] : r.issues
    expect(issues).toContainEqual({ path: 'training.train_steps', message: 'train_steps must be at least 1', label: 'steps', text: 'Steps must be at least 1' })
    expect(issues.find((i) => i.path === 'model.dim')?.message).toMatch(/dim \(30\) must be divisible by n_heads \(4\)/)
    expect(issues.find((i) => i.path === 'model.n_layers')?.message).toMatch(/even n_layers/)
    expect(issues.find((i) => i.path === 'training.foo')?.message).toBe('unknown key "foo"')
  })
  it('validates against the data folder as well as the schema: an unknown dataset is refused before a run starts', async () => {
    const doc = { ...tiny(), data: { dataset: 'synthetc' } }
    const r = await call('validateConfig', { config: doc })
    expect(r.ok).toBe(false)
    expect(r.issues).toEqual([expect.objectContaining({ path: 'data.dataset', label: 'dataset', text: expect.stringMatching(/^No dataset named “synthetc” here: did you mean “synthetic”\?/) })])
    // flagged beside the schema's own issues, not only once they are fixed
    const both = await call('validateConfig', { config: { ...doc, training: { ...tiny().training, train_steps: 0 } } })
    expect(both.issues.map((i) => i.path)).toEqual(['training.train_steps', 'data.dataset'])
    const missing = await call('validateConfig', { config: { ...tiny(), data: { dataset: './no-such-folder' } } })
    expect(missing.issues[0]).toMatchObject({ path: 'data.dataset', text: expect.stringMatching(/^Nothing at .*no-such-folder/) })
    const e = await call('createExperiment', { name: 'refused' })
    await expect(call('startRun', { config: doc, experimentId: e.id })).rejects.toThrow(/^Not started: No dataset named “synthetc”/)
    expect((await call('listRuns', { experimentId: e.id })).total).toBe(0)
    // a sweep whose points name an unknown dataset is invalid point by point, and not started either
    const spec = { groups: [{ name: 'dense', base: doc, axes: [{ path: 'model.n_layers', values: [1, 2] }] }] }
    expect((await call('planSweep', spec)).invalid).toBe(2)
    await expect(call('startSweep', { experimentId: e.id, spec })).rejects.toThrow(/Not started: 2 of 2 sweep runs are invalid/)
    await call('deleteExperiment', { id: e.id })
  })
  it('resolves a sweep\'s relative data paths against the data folder before planning, as startRun does: base and axis values', async () => {
    const toks = (n: number) => Uint16Array.from({ length: n }, (_, i) => (i * 5) % 32)
    mkdirSync(join(dir, 'sweep-shards'), { recursive: true })
    writeShard(join(dir, 'sweep-shards', 'train.bin'), toks(16 * 64 + 1))
    writeShard(join(dir, 'sweep-shards', 'val.bin'), toks(16 * 8 + 1))
    writeShard(join(dir, 'sweep-shards', 'val2.bin'), toks(16 * 8 + 1))
    const base = { ...tiny({ steps: 2 }), training: { ...tiny().training, train_steps: 2, val_every: 2, checkpoint_every: 2 }, data: { dataset: 'shards', train_shards: ['sweep-shards/train.bin'], val_shards: ['sweep-shards/val.bin'] } }
    const spec = { groups: [{ name: 'rel', base, axes: [{ path: 'data.dataset', values: ['./sweep-shards'] }], set: { 'data.val_shards': ['sweep-shards/val2.bin'] } }] }
    const e = await call('createExperiment', { name: 'relative-sweep' })
    const { runIds } = await call('startSweep', { experimentId: e.id, spec })
    expect(runIds).toHaveLength(1)
    const cfg = (await call('getRun', { runId: runIds[0]! })).config as { data: Record<string, unknown> }
    expect(cfg.data).toMatchObject({ dataset: join(dir, 'sweep-shards'), train_shards: [join(dir, 'sweep-shards', 'train.bin')], val_shards: [join(dir, 'sweep-shards', 'val2.bin')] })
    await waitFor(() => events.some((ev) => ev.type === 'run-status' && ev.runId === runIds[0] && ev.status === 'completed'))
    await call('deleteExperiment', { id: e.id, deleteRuns: true })
  })
  it('flags a typo in a sweep axis path at the axis ("unknown field …, did you mean …"), not as invalid or duplicate points', async () => {
    const spec = { groups: [{ name: 'gated', base: tiny({ gated: true }), axes: [{ path: 'controller.mean_target_edn', values: [0.3, 0.6] }] }] }
    const plan = await call('planSweep', spec)
    expect(plan.axisIssues).toEqual([{ group: 0, axis: 0, issue: expect.objectContaining({ message: 'unknown field "controller.mean_target_edn", did you mean "controller.mean_target_end"?' }) }])
    expect(plan.runs.some((r) => r.issues.some((i) => /duplicate/.test(i.message)))).toBe(false)
    const e = await call('createExperiment', { name: 'typo' })
    await expect(call('startSweep', { experimentId: e.id, spec })).rejects.toThrow(/Not started: Unknown field “controller.mean_target_edn”: did you mean “controller.mean_target_end”/)
    await call('deleteExperiment', { id: e.id })
  })
  it('validates a config with field issues, and estimates FLOPs and time for a valid one', async () => {
    const bad = await call('validateConfig', { config: { ...tiny(), training: { ...tiny().training, train_steps: 0 }, model: { ...tiny().model, dim: 15 } } })
    expect(bad.ok).toBe(false)
    expect(bad.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['training.train_steps']))
    const ok = await call('validateConfig', { config: tiny({ gated: true, layers: 4 }) })
    expect(ok.ok).toBe(true)
    expect(ok.estimate!.gated).toBe(true)
    expect(ok.estimate!.trainingFlops.corrected).toBeGreaterThan(ok.estimate!.trainingFlops.paper * 0.5)
    expect(ok.estimate!.seconds).toBeGreaterThan(0)
    expect(ok.estimate!.throughput.source).toBe('default')
  })
  it('expands sweeps like core/sweeps: groups, axes crossed, seeds, point names', () => {
    const tp = { flopsPerSec: DEFAULT_FLOPS_PER_SEC, source: 'default' as const, runs: 0 }
    const spec = { groups: [{ name: 'dense', base: tiny(), axes: [{ path: 'model.n_layers', values: [2, 4] }] }, { name: 'gated', base: tiny({ gated: true, layers: 4 }), axes: [{ path: 'controller.mean_target_end', values: [0.5, 0.75] }] }], seeds: 2 }
    const { plan, sweep } = planSweep(SweepSpec.parse(spec), tp, 2)
    expect(plan.runs.map((r) => r.name)).toEqual(['dense-L2-s0', 'dense-L2-s1', 'dense-L4-s0', 'dense-L4-s1', 'gated-E0.5-s0', 'gated-E0.5-s1', 'gated-E0.75-s0', 'gated-E0.75-s1'])
    expect(sweep.points[2]!.config.model.n_layers).toBe(4)
    expect(sweep.points[7]!.config.training.seed).toBe(1)
    expect(plan.totalSeconds).toBeCloseTo(plan.runs.reduce((a, r) => a + r.seconds!, 0) / 2)
    // the total as a range, like a single run's estimate (a default rate: wide)
    expect(plan.totalSecondsRange[0]).toBeLessThan(plan.totalSeconds)
    expect(plan.totalSecondsRange[1]).toBeGreaterThan(plan.totalSeconds)
    // one time estimator: a point of the plan takes as long as the same config validated alone
    sweep.points.forEach((p, i) => expect(plan.runs[i]!.seconds).toBe(estimateRun(p.config, tp).seconds))
    // a bad point is reported with field paths, not thrown
    const bad = planSweep(SweepSpec.parse({ groups: [{ name: 'gated', base: tiny({ gated: true }), axes: [{ path: 'model.n_layers', values: [2, 3] }] }] }), tp, 1).plan
    expect(bad.invalid).toBe(1)
    expect(bad.runs[1]!.issues[0]!.path).toBe('model.n_layers')
  })
})

describe('service with real training', () => {
  let expId: number
  let runIds: number[]
  it('experiments: create, rename, tag, search', async () => {
    const e = await call('createExperiment', { name: 'pareto', tags: ['tiny'] })
    expId = e.id
    await expect(call('createExperiment', { name: 'pareto' })).rejects.toThrow(/already exists/)
    const u = await call('updateExperiment', { id: e.id, name: 'pareto-1', tags: ['tiny', 'synthetic'] })
    expect(u).toMatchObject({ name: 'pareto-1', tags: ['tiny', 'synthetic'], runs: 0 })
    expect((await call('listExperiments', { search: 'synth' })).map((x) => x.id)).toEqual([e.id])
    expect(await call('listExperiments', { search: 'nothing-like-it' })).toEqual([])
    expect(events.some((ev) => ev.type === 'experiment-changed' && ev.change === 'created')).toBe(true)
  })
  it('plans and starts a sweep; progress and status events arrive; the comparison has a frontier and gated points', async () => {
    const spec = {
      name: 'tiny',
      groups: [
        { name: 'dense', base: tiny(), axes: [{ path: 'model.n_layers', values: [2, 4] }] },
        { name: 'gated', base: tiny({ gated: true, layers: 4 }), axes: [] },
      ],
    }
    const plan = await call('planSweep', spec)
    expect(plan.count).toBe(3)
    expect(plan.invalid).toBe(0)
    const started = await call('startSweep', { experimentId: expId, spec })
    runIds = started.runIds
    expect(runIds).toHaveLength(3)
    await waitFor(() => runIds.every((id) => events.some((e) => e.type === 'run-status' && e.runId === id && e.status === 'completed')))
    expect(events.some((e) => e.type === 'job-progress' && runIds.includes(e.runId))).toBe(true)
    expect(events.some((e) => e.type === 'metrics-appended' && e.event === 'validation' && typeof e.values['val/loss'] === 'number')).toBe(true)
    for (const e of events) expect(() => ServerEvent.parse(JSON.parse(JSON.stringify(e)))).not.toThrow()

    const list = await call('listRuns', { experimentId: expId, sort: { by: 'val_loss', dir: 'asc' } })
    expect(list.total).toBe(3)
    for (const r of list.rows) expect(r).toMatchObject({ status: 'completed', lastStep: 6, totalSteps: 6 })
    expect(list.rows.map((r) => r.valLoss)).toEqual([...list.rows.map((r) => r.valLoss)].sort((a, b) => a! - b!))
    const gated = list.rows.find((r) => r.kind === 'gated')!
    expect(gated.targetEnd).toBe(0.5)
    expect(gated.zeroFraction).not.toBeNull()

    const c = await call('compareExperiment', { experimentId: expId, estimator: 'paper', flopsKind: 'inference' })
    expect(c.skipped).toEqual([])
    expect(c.comparison.summary).toMatchObject({ denseRuns: 2, gatedRuns: 1 })
    expect(c.comparison.frontier.points.length + c.comparison.frontier.dominated.length).toBe(2)
    expect(c.comparison.gated).toHaveLength(1)
    const t = await call('compareExperiment', { experimentId: expId, estimator: 'corrected', flopsKind: 'training' })
    expect(t.comparison.estimator).toBe('corrected')
    expect(t.comparison.gated[0]!.flops).toBeGreaterThan(c.comparison.gated[0]!.flops)
  })
  it('compare and the report preview take the measured x axis: times measured on this machine, with machine and engine', async () => {
    // the zod schema names the three axes
    await expect(call('compareExperiment', { experimentId: expId, flopsKind: 'wall-clock' })).rejects.toThrow(/inference, training or measured/)
    const before = await call('compareExperiment', { experimentId: expId, flopsKind: 'measured' })
    expect(before.comparison.excluded.map((e) => e.reason)).toEqual(Array(3).fill(expect.stringMatching(/no measured evaluation cost on this machine/)))
    // measure every run's final checkpoint on a small shard (cached in the checkpoint folder, as skipbench compare does)
    const shard = join(dir, 'measure-val.bin')
    writeShard(shard, Uint16Array.from({ length: 16 * 8 + 1 }, (_, i) => (i * 7) % 32))
    for (const id of runIds) {
      const final = (await call('getRun', { runId: id })).checkpoints.find((c) => c.final)!
      await measureCheckpointCost({ checkpoint: final.path, data: shard, maxTokens: 64, batchSize: 2, engine: { engine: 'ort', threads: 1 } })
    }
    const m = await call('compareExperiment', { experimentId: expId, estimator: 'paper', flopsKind: 'measured' })
    expect(m.comparison.flopsKind).toBe('measured')
    expect(m.comparison.excluded).toEqual([])
    expect(m.comparison.measuredOn).toContain(thisMachine().label)
    expect(m.comparison.measuredOn).toMatch(/; ort ort-cpu, 1 threads; 64 tokens of measure-val\.bin/)
    const xs = [...m.comparison.frontier.points, ...m.comparison.frontier.dominated, ...m.comparison.gated].map((p) => p.flops)
    expect(xs).toHaveLength(3)
    for (const x of xs) expect(x > 0 && x < 1).toBe(true) // seconds per token, not FLOPs
    const html = (await call('previewReport', { experimentId: expId, flopsKind: 'measured' })).html
    expect(html).toContain(`measured on ${m.comparison.measuredOn}`.replace(/&/g, '&amp;'))
    expect(html).toContain('Validation CE vs measured evaluation time')
  })
  it('series by step, tokens and FLOPs; gate heatmaps; diffs; logs', async () => {
    const gated = (await call('listRuns', { experimentId: expId, kind: 'gated' })).rows[0]!
    const s = await call('getSeries', { runIds: [gated.id], keys: ['train/loss', 'val/loss'], x: 'step' })
    expect(s.series[0]!.x).toEqual([0, 1, 2, 3, 4, 5])
    expect(s.series[1]!.x).toEqual([0, 3, 6])
    const tok = await call('getSeries', { runIds: [gated.id], keys: ['train/loss'], x: 'tokens' })
    expect(tok.series[0]!.x[0]).toBe(2 * 16)
    const fl = await call('getSeries', { runIds: [gated.id], keys: ['train/loss'], x: 'flops' })
    const xs = fl.series[0]!.x
    expect(xs.every((x, i) => i === 0 || x > xs[i - 1]!)).toBe(true)
    // the FLOPs axis is core/flops' cumulative training FLOPs over the logged zero fractions: after the last step,
    // the run's total training FLOPs by both estimators
    const cfg = parseRunConfig((await call('getRun', { runId: gated.id })).config)
    const zeros = (await call('getSeries', { runIds: [gated.id], keys: ['train/zeros/mean'] })).series[0]!.y as number[]
    expect(zeros).toHaveLength(6)
    for (const estimator of ['paper', 'corrected'] as const) {
      const last = (await call('getSeries', { runIds: [gated.id], keys: ['train/loss'], x: 'flops', estimator })).series[0]!.x.at(-1)
      expect(last).toBe(trainingFlops(cfg.model, { estimator, batchSize: cfg.training.batch_size * cfg.training.grad_acc_steps, zeroFractions: zeros }))
    }
    const g = await call('getGates', { runId: gated.id, split: 'train', metric: 'gates' })
    expect(g.layers).toBe(4)
    expect(g.values).toHaveLength(4)
    expect(g.steps).toEqual([0, 1, 2, 3, 4, 5])
    const dense = (await call('listRuns', { experimentId: expId, kind: 'dense' })).rows
    expect((await call('getGates', { runId: dense[0]!.id })).values).toEqual([])
    const diff = await call('diffRuns', { runIds: dense.map((r) => r.id) })
    expect(diff.fields.map((f) => f.path)).toContain('model.n_layers')
    const detail = await call('getRun', { runId: gated.id })
    expect(detail.checkpoints.some((c) => c.final)).toBe(true)
    expect(detail.metricKeys).toContain('train/zeros/mean')
    expect(detail.metricKeys.some((k) => k.includes('layer_'))).toBe(false)
    expect((await call('getRunLogs', { runId: gated.id })).length).toBeGreaterThan(0)
    const clone = await call('cloneRun', { runId: gated.id })
    expect((clone.config.model as { n_layers: number }).n_layers).toBe(4)
  })
  it('evaluates a run on another dataset in an eval job', async () => {
    const gated = (await call('listRuns', { experimentId: expId, kind: 'gated' })).rows[0]!
    const { jobId } = await call('evaluateRun', { runId: gated.id, dataset: 'synthetic', valTokens: 64 })
    expect(jobId).toBeGreaterThan(0)
    await waitFor(() => events.some((e) => e.type === 'evaluation' && e.runId === gated.id))
    const d = await call('getRun', { runId: gated.id })
    expect(d.evaluations).toHaveLength(1)
    expect(d.evaluations[0]!.loss).toBeGreaterThan(0)
    expect(d.jobs.map((j) => j.kind)).toEqual(['train', 'eval'])
  })
  it('exports a finished run as ONNX and safetensors into the data folder; refuses to overwrite or leave it', async () => {
    const gated = (await call('listRuns', { experimentId: expId, kind: 'gated' })).rows[0]!
    const onnx = await call('exportModel', { runId: gated.id, format: 'onnx' })
    expect(onnx.path.startsWith(dir)).toBe(true)
    expect(onnx.path.endsWith('model.onnx')).toBe(true)
    expect(onnx.bytes).toBeGreaterThan(1000)
    const st = await call('exportModel', { runId: gated.id, format: 'safetensors', dtype: 'bf16', outDir: 'exports/st' })
    expect(st.configPath).toBe(join(dir, 'exports', 'st', 'config.json'))
    await expect(call('exportModel', { runId: gated.id, format: 'safetensors', outDir: 'exports/st' })).rejects.toThrow(/already exists/)
    await expect(call('exportModel', { runId: gated.id, format: 'onnx', outDir: '/etc/skipbench-export' })).rejects.toThrow(/allowed folders|outside/)
    await expect(call('exportModel', { runId: gated.id, format: 'tflite' })).rejects.toThrow(/onnx or safetensors/)
  })
  it('cancel checkpoints and stops; resume continues to completion; retry makes a new run; delete removes', async () => {
    const { runId } = await call('startRun', { config: tiny({ steps: 4000 }), experimentId: expId, name: 'long' })
    await waitFor(() => events.some((e) => e.type === 'job-progress' && e.runId === runId && e.step >= 5))
    await call('cancelRun', { runId })
    await waitFor(() => events.some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'cancelled'))
    const cancelled = (await call('getRun', { runId })).run
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.lastStep).toBeLessThan(4000)
    const n = events.length
    await call('resumeRun', { runId })
    await waitFor(() => events.slice(n).some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'running'))
    await call('cancelRun', { runId })
    await waitFor(() => events.slice(n).some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'cancelled'))
    const retried = await call('retryRun', { runId })
    expect(retried.runId).not.toBe(runId)
    await call('cancelRun', { runId: retried.runId })
    expect((await call('deleteRun', { runId: retried.runId, deleteFiles: true })).deleted).toBe(true)
    await expect(call('getRun', { runId: retried.runId })).rejects.toThrow(/not found/)
    expect(events.some((e) => e.type === 'runs-changed' && e.change === 'deleted')).toBe(true)
  })
  it('settings: concurrency is saved; the server cannot move its data folder', async () => {
    const s = await call('updateSettings', { concurrency: 2 })
    expect(s.concurrency).toBe(2)
    expect((await call('getSettings', {})).concurrency).toBe(2)
    await expect(call('updateSettings', { dataDir: join(dir, 'elsewhere') })).rejects.toThrow(/--data-dir/)
    await expect(call('updateSettings', { concurrency: 0 })).rejects.toThrow(/at least 1/)
  })
  it('datasets: prepares the shipped corpus with progress events', async () => {
    const st = await call('prepareCorpus', { tokenizer: 'byte' })
    expect(st.status).toBe('running')
    await waitFor(() => events.some((e) => e.type === 'import-progress' && e.state.importId === st.importId && e.state.status === 'done'))
    const l = await call('listDatasets', {})
    expect(l.defaultCorpus.byte).toBe(true)
    expect(l.datasets.map((d) => d.name)).toContain('default')
    const txt = join(dir, 'corpus')
    mkdirSync(txt)
    for (let i = 0; i < 6; i++) writeFileSync(join(txt, `doc${i}.txt`), `document ${i}: ${'the quick brown fox jumps over the lazy dog. '.repeat(40)}`)
    const ok = await call('importDataset', { name: 'foxes', from: [txt], tokenizer: 'byte', valFraction: 0.34 })
    await waitFor(() => events.some((e) => e.type === 'import-progress' && e.state.importId === ok.importId && e.state.status === 'done'))
    const foxes = (await call('listDatasets', {})).datasets.find((d) => d.name === 'foxes')!
    expect(foxes).toMatchObject({ ok: true, tokenizer: 'byte', sourceKind: 'txt' })
    expect(foxes.trainTokens! + foxes.valTokens!).toBeGreaterThan(6 * 1800)
    const bad = await call('importDataset', { name: 'nope', from: [join(dir, 'missing.txt')] })
    await waitFor(() => events.some((e) => e.type === 'import-progress' && e.state.importId === bad.importId && e.state.status === 'failed'))
    expect((await call('pickPath', { kind: 'file' })).supported).toBe(false)
  })
  it('deleting an experiment keeps its runs unless asked', async () => {
    const e = await call('createExperiment', { name: 'doomed' })
    expect(await call('deleteExperiment', { id: e.id })).toEqual({ deleted: true, runsDeleted: 0 })
    expect((await call('deleteExperiment', { id: expId, deleteRuns: true })).runsDeleted).toBe(4)
    expect((await call('listRuns', {})).total).toBe(0)
  })
})
