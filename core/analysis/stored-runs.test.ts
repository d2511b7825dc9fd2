/** Stored runs → RunRecords on a real SQLite store (runs and metrics written through the store's repositories). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { frontierLossAt } from './index.js'
import { inferenceFlops, paperFlopsTransformer } from '../flops/index.js'
import { openStore, type Store } from '../store/store.js'
import type { JsonObject, MetricPoint } from '../store/types.js'
import { tempDir, type TempDir } from '../store/test-helpers.js'
import { parseRunConfig, runConfigToJson } from '../config/index.js'
import { compareExperiment, costRun, runRecordsFromStore, toRunRecord } from './stored-runs.js'

let tmp: TempDir
let store: Store
beforeEach(() => {
  tmp = tempDir('skipbench-sweep-rec-')
  store = openStore(tmp.file('s.db'))
})
afterEach(() => {
  store.close()
  tmp.cleanup()
})

const T = 3
function cfg(o: { L: number; gated: boolean; seed?: number; end?: number }) {
  return runConfigToJson(
    parseRunConfig({
      model: { dim: 16, n_layers: o.L, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: !o.gated, gated_attention: 'key' },
      training: { batch_size: 2, grad_acc_steps: 3, train_steps: T, val_every: 0, val_tokens: 64, seed: o.seed ?? 0 },
      controller: o.gated ? { name: 'proportional', mean_target_end: o.end ?? 0.5 } : { name: 'dummy' },
      data: { dataset: 'synthetic', synthetic: { seed: 7, vocab_size: 32 } },
    }),
  ) as JsonObject
}

function addRun(name: string, c: JsonObject, o: { status?: 'completed' | 'running'; valLoss: number; trainZeros?: (number | null)[]; valZeros?: number; valZerosLayers?: number[]; experimentId: number }) {
  const run = store.runs.create({ name, kind: (c.model as { zero_init_masks: boolean }).zero_init_masks ? 'dense' : 'gated', status: o.status ?? 'completed', config: c, seed: (c.training as { seed: number }).seed, experimentId: o.experimentId, dataset: 'synthetic' })
  const pts: MetricPoint[] = []
  for (let s = 0; s < T; s++) {
    pts.push({ step: s, key: 'train/loss', value: 3 - s * 0.1 })
    const z = o.trainZeros?.[s]
    if (z !== undefined && z !== null) pts.push({ step: s, key: 'train/zeros/mean', value: z })
  }
  pts.push({ step: 0, key: 'val/loss', value: 3.5 }, { step: 0, key: 'val/tokens', value: 64 })
  pts.push({ step: T, key: 'val/loss', value: o.valLoss }, { step: T, key: 'val/tokens', value: 64 })
  if (o.valZeros !== undefined) pts.push({ step: T, key: 'val/zeros/mean', value: o.valZeros })
  o.valZerosLayers?.forEach((z, i) => pts.push({ step: T, key: `val/zeros/mean/layer_0${i}`, value: z }))
  store.metrics.insert(run.id, pts)
  return run
}

describe('runs → RunRecords', () => {
  it('training FLOPs sum every logged step’s zero fraction × sequences per step, with both estimators', () => {
    const exp = store.experiments.create({ name: 'e' })
    const c = cfg({ L: 4, gated: true })
    const run = addRun('g', c, { valLoss: 2.5, trainZeros: [0, 0.5, 0.25], valZeros: 0.3, valZerosLayers: [0.1, 0.5, 0.5, 0.1], experimentId: exp.id })
    const r = costRun(store, run.id)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const k = r.costed
    const model = parseRunConfig(c).model
    expect(k.batchSize).toBe(6) // batch_size × grad_acc_steps
    expect(Array.from(k.trainZeroFractions!)).toEqual([0, 0.5, 0.25])
    // paper: the reference's flops_transformer(sparse=True, sparsity=s) per logged step, × 6 sequences (forward only)
    const paperPerStep = [0, 0.5, 0.25].map((s) => Number(paperFlopsTransformer(model, true, s)))
    expect(k.flops.paper.training).toBe(6 * paperPerStep.reduce((a, b) => a + b, 0))
    // corrected: 3 × Σ forward(s_step) × 6
    const corrPerStep = [0, 0.5, 0.25].map((s) => inferenceFlops(model, { estimator: 'corrected', sparsity: s }).perSequence)
    expect(k.flops.corrected.training).toBeCloseTo(3 * 6 * corrPerStep.reduce((a, b) => a + b, 0), 0)
    // inference at the validation zero fraction: the mean for paper, the per-layer values for corrected
    expect(k.flops.paper.inference).toBe(Number(paperFlopsTransformer(model, true, 0.3)))
    expect(k.flops.corrected.inference).toBe(inferenceFlops(model, { estimator: 'corrected', sparsity: [0.1, 0.5, 0.5, 0.1] }).perSequence)
    expect(k.flops.corrected.inference).not.toBe(inferenceFlops(model, { estimator: 'corrected', sparsity: 0.3 }).perSequence)
    expect(k.validation).toMatchObject({ source: 'validation', step: T, loss: 2.5, tokens: 64, zeroFraction: 0.3 })
    expect(k.dataset).toBe('synthetic(vocab=32,seed=7,train=1000000,val=65536,successors=4)')
    expect(k.tokenizer).toBe('synthetic')

    const rec = toRunRecord(k, 'paper')
    expect(rec).toMatchObject({ id: `g#${run.id}`, kind: 'gated', seed: 0, valLoss: 2.5, valTokens: 64, estimator: 'paper', zeroFraction: 0.3, target_end: 0.5, runId: run.id })
    expect(rec.inferenceFlops).toBe(k.flops.paper.inference)
    expect(rec.trainingFlops).toBe(k.flops.paper.training)
    expect(toRunRecord(k, 'corrected').trainingFlops).toBe(k.flops.corrected.training)
    // naming, engine and checkpointing are not part of the seed-group identity
    expect(rec.training).not.toHaveProperty('engine')
    expect((rec.training as { training: object }).training).not.toHaveProperty('checkpoint_every')
  })

  it('dense runs log no zeros: s = 0 at every step', () => {
    const exp = store.experiments.create({ name: 'e' })
    const c = cfg({ L: 2, gated: false })
    const run = addRun('d', c, { valLoss: 2.7, experimentId: exp.id })
    const r = costRun(store, run.id)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const model = parseRunConfig(c).model
    expect(r.costed.trainZeroFractions).toBeNull()
    expect(r.costed.flops.paper.training).toBe(T * 6 * Number(paperFlopsTransformer(model, false, 0)))
    expect(r.costed.flops.paper.inference).toBe(Number(paperFlopsTransformer(model, false, 0)))
    expect(toRunRecord(r.costed, 'paper')).toMatchObject({ kind: 'dense', zeroFraction: null, target_end: null })
  })

  it('runs that cannot be costed are excluded with the reason', () => {
    const exp = store.experiments.create({ name: 'e' })
    const g = cfg({ L: 4, gated: true })
    const missing = addRun('missing-step', g, { valLoss: 2.5, trainZeros: [0.1, null, 0.2], valZeros: 0.3, experimentId: exp.id })
    const running = addRun('running', g, { status: 'running', valLoss: 2.5, trainZeros: [0, 0, 0], valZeros: 0, experimentId: exp.id })
    const noVal = store.runs.create({ name: 'no-val', kind: 'dense', status: 'completed', config: cfg({ L: 2, gated: false }), experimentId: exp.id })
    const noZeros = addRun('no-val-zeros', g, { valLoss: 2.5, trainZeros: [0, 0, 0], experimentId: exp.id })
    const { records, excluded } = runRecordsFromStore(store, { experiment: 'e', estimator: 'paper' })
    expect(records).toEqual([])
    const why = Object.fromEntries(excluded.map((e) => [e.id, e.reason]))
    expect(why[`missing-step#${missing.id}`]).toMatch(/train\/zeros\/mean logged at 2 of 3 optimizer steps \(first missing: step 1\)/)
    expect(why[`running#${running.id}`]).toBe('run is running, not completed')
    expect(why[`no-val#${noVal.id}`]).toMatch(/no validation at the final step 3/)
    expect(why[`no-val-zeros#${noZeros.id}`]).toMatch(/without val\/zeros\/mean/)
    expect(() => runRecordsFromStore(store, { experiment: 'nope', estimator: 'paper' })).toThrow(/no experiment "nope".*experiments: e/)
  })

  it('an evaluation of the final checkpoint is preferred to the logged validation (unless asked otherwise)', () => {
    const exp = store.experiments.create({ name: 'e' })
    const run = addRun('g', cfg({ L: 4, gated: true }), { valLoss: 2.5, trainZeros: [0, 0, 0], valZeros: 0.3, experimentId: exp.id })
    store.evaluations.add({ runId: run.id, dataset: 'other', step: 1, tokens: 32, loss: 1.0 }) // not the final checkpoint
    const ev = store.evaluations.add({ runId: run.id, dataset: 'synthetic', step: T, tokens: 128, loss: 2.0, gateStats: { zeros: { mean: [0.2, 0.2, 0.2, 0.2] } } })
    const a = costRun(store, run.id)
    expect(a.ok && a.costed.validation).toMatchObject({ source: 'evaluation', evaluationId: ev.id, loss: 2.0, tokens: 128, zeroFraction: 0.2, zeroFractions: [0.2, 0.2, 0.2, 0.2] })
    expect(a.ok && a.costed.dataset).toBe('synthetic')
    const b = costRun(store, run.id, { source: 'validation' })
    expect(b.ok && b.costed.validation).toMatchObject({ source: 'validation', loss: 2.5 })
    const c = costRun(store, run.id, { source: 'evaluation', dataset: 'missing' })
    expect(!c.ok && c.reasons[0]).toMatch(/no evaluation of the final checkpoint \(step 3\) on missing/)
  })

  it('compareExperiment: frontier from dense runs, gaps of gated runs, seed groups, exclusions', () => {
    const exp = store.experiments.create({ name: 'grid' })
    addRun('dense-L2', cfg({ L: 2, gated: false }), { valLoss: 3.0, experimentId: exp.id })
    addRun('dense-L6', cfg({ L: 6, gated: false }), { valLoss: 2.0, experimentId: exp.id })
    const z = [0.2, 0.2, 0.2, 0.2]
    addRun('gated-s0', cfg({ L: 4, gated: true, seed: 0 }), { valLoss: 2.6, trainZeros: [0.1, 0.2, 0.3], valZeros: 0.2, valZerosLayers: z, experimentId: exp.id })
    addRun('gated-s1', cfg({ L: 4, gated: true, seed: 1 }), { valLoss: 2.4, trainZeros: [0.1, 0.2, 0.3], valZeros: 0.2, valZerosLayers: z, experimentId: exp.id })
    addRun('unfinished', cfg({ L: 4, gated: true, seed: 2 }), { status: 'running', valLoss: 2.4, trainZeros: [0, 0, 0], valZeros: 0, experimentId: exp.id })
    for (const estimator of ['paper', 'corrected'] as const)
      for (const flopsKind of ['inference', 'training'] as const) {
        const c = compareExperiment(store, { experiment: 'grid', estimator, flopsKind })
        expect(c.experiment).toBe('grid')
        expect(c.runs).toBe(5)
        expect(c.frontier.points.map((p) => p.loss)).toEqual([3.0, 2.0])
        expect(c.gated).toHaveLength(2)
        for (const g of c.gated) {
          expect(g.atEqualFlops.extrapolated).toBeNull()
          expect(g.atEqualFlops.gap).toBeCloseTo(g.loss - frontierLossAt(c.frontier, g.flops).loss!, 12)
        }
        const group = c.groups.find((x) => x.kind === 'gated')!
        expect(group).toMatchObject({ n: 2, seeds: [0, 1] })
        expect(group.loss.mean).toBeCloseTo(2.5, 12)
        expect(group.loss.ci).not.toBeNull()
        expect(c.excluded.map((e) => e.reason)).toEqual(['run is running, not completed'])
        expect(c.verdict.reasons).toContain('1 run was not costed (see its reason in the exclusions)')
      }
  })
})
