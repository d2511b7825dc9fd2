import { afterAll, describe, expect, it } from 'vitest'
import { inferenceFlops, trainingFlops } from '../flops/index.js'
import { tempDir } from '../store/test-helpers.js'
import { CalibrationCache, calibrationKey, calibrationShape, microStepFlops, type Calibration } from './calibrate.js'
import { calibrationTargets, estimateFromCalibrations, estimateSweep, pointSeconds, runSeconds, targetSparsity, trainRate, validationCount, WORKER_START_SECONDS } from './estimate.js'
import { expandSweep, type SweepSpec } from './grid.js'

const tmp = tempDir('skipbench-sweep-est-')
afterAll(() => tmp.cleanup())

const base = {
  model: { dim: 16, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: true },
  training: { batch_size: 4, grad_acc_steps: 2, train_steps: 10, val_every: 5, val_tokens: 64 },
  data: { dataset: 'synthetic', synthetic: { seed: 1, train_tokens: 4096, val_tokens: 1024 } },
  engine: { engine: 'ort', threads: 1 },
}
const spec: SweepSpec = {
  name: 'est',
  groups: [
    { name: 'dense', base, axes: { 'model.n_layers': [2, 4, 8] } },
    {
      name: 'gated',
      base: { ...base, model: { ...base.model, n_layers: 4, zero_init_masks: false, gated_attention: 'key' }, controller: { name: 'proportional', mean_target_start: 1 } },
      axes: { 'controller.mean_target_end': [0.2, 0.6] },
    },
    { name: 'nocontrol', base: { ...base, model: { ...base.model, n_layers: 4, zero_init_masks: false, gated_attention: 'key' } } },
  ],
}
const sweep = expandSweep(spec)
const byName = (n: string) => sweep.points.find((p) => p.name === n)!

/** A hand-made calibration of `name`'s shape at a given training rate. */
function fakeCal(name: string, trainFlopsPerSecond: number, evalFlopsPerSecond = trainFlopsPerSecond, setupSeconds = 1): Calibration {
  const c = byName(name).config
  const shape = calibrationShape(c)
  const f = microStepFlops(c)
  return {
    key: calibrationKey(shape),
    shape,
    backendUsed: 'ort-cpu',
    host: { name: 'h', cpu: 'c', cpus: 2 },
    measuredAt: new Date().toISOString(),
    steps: 3,
    microStepSeconds: f / trainFlopsPerSecond,
    microStepFlops: f,
    trainFlopsPerSecond,
    evalFlopsPerToken: inferenceFlops(c.model, { estimator: 'corrected', sparsity: 0 }).perToken,
    evalTokens: 64,
    evalSeconds: 1,
    evalFlopsPerSecond,
    setupSeconds,
    reducedFrom: null,
  }
}

describe('estimate', () => {
  it('validation count: step 0, every val_every, and the last step', () => {
    expect(validationCount(10, 5)).toBe(3) // 0, 5, 10
    expect(validationCount(11, 5)).toBe(4) // 0, 5, 10, 11
    expect(validationCount(300, 100)).toBe(4)
    expect(validationCount(7, 0)).toBe(2)
    expect(validationCount(3, 100)).toBe(2)
  })

  it('target sparsity s* = 1 − mean(m*) = (1 − E)/2 for linspace(1, E) targets; null without targets', () => {
    expect(targetSparsity(byName('gated-E0.2').config)).toBeCloseTo(0.4, 12)
    expect(targetSparsity(byName('gated-E0.6').config)).toBeCloseTo(0.2, 12)
    expect(targetSparsity(byName('nocontrol').config)).toBeNull()
    expect(targetSparsity(byName('dense-L2').config)).toBeNull()
  })

  it('FLOPs per point: both estimators, s = 0 and at the target, over train_steps × batch × grad_acc sequences', () => {
    const e = estimateFromCalibrations(sweep.points, [])
    const g = e.points.find((p) => p.name === 'gated-E0.2')!
    const m = byName('gated-E0.2').config.model
    const seqs = 10 * 4 * 2
    expect(g.sequencesPerStep).toBe(8)
    expect(g.tokens).toBe(seqs * 16)
    // training FLOPs = steps × sequences per step × forward FLOPs per sequence (paper); 3× that (corrected)
    expect(g.flops.paper.training).toBe(10 * 8 * inferenceFlops(m, { estimator: 'paper', sparsity: 0 }).perSequence)
    expect(g.flops.paper.trainingAtTarget).toBe(10 * 8 * inferenceFlops(m, { estimator: 'paper', sparsity: 0.4 }).perSequence)
    expect(g.flops.corrected.training).toBeCloseTo(3 * 10 * 8 * inferenceFlops(m, { estimator: 'corrected', sparsity: 0 }).perSequence, 0)
    expect(g.flops.corrected.trainingAtTarget!).toBeLessThan(g.flops.corrected.training)
    expect(e.totals.flops.paper.training).toBe(e.points.reduce((a, p) => a + p.flops.paper.training, 0))
    // dense points: at-target falls back to s = 0 in the totals
    expect(e.totals.flops.corrected.trainingAtTarget).toBeCloseTo(e.points.reduce((a, p) => a + (p.flops.corrected.trainingAtTarget ?? p.flops.corrected.training), 0), 0)
    expect(e.totals.seconds).toBeNull()
    for (const p of e.points) expect(p.seconds).toBeNull()
  })

  it('time scales with FLOPs at a constant rate; the rate is interpolated log-log between calibrated sizes and flat beyond', () => {
    // one calibration: every config at the same FLOPs/s, so train time ∝ FLOPs
    const one = [fakeCal('dense-L2', 1e9, 1e9, 0.5)]
    const t2 = pointSeconds(byName('dense-L2').config, one)!
    const t8 = pointSeconds(byName('dense-L8').config, one)!
    const c8 = byName('dense-L8').config
    const expectedTrain8 = (10 * 2 * microStepFlops(c8)) / 1e9
    expect(t8.seconds.train).toBeCloseTo(expectedTrain8, 9)
    expect(t8.seconds.train / t2.seconds.train).toBeCloseTo(microStepFlops(c8) / microStepFlops(byName('dense-L2').config), 9)
    expect(t2.rate).toBe('measured')
    expect(t8.rate).toBe('extrapolated')
    // evaluation: validations × tokens × forward FLOPs per token / eval rate
    const fe = inferenceFlops(c8.model, { estimator: 'corrected', sparsity: 0 }).perToken
    expect(t8.seconds.eval).toBeCloseTo((3 * 64 * fe) / 1e9, 9)
    expect(t8.seconds.overhead).toBeCloseTo(0.5 + WORKER_START_SECONDS, 9)
    expect(t8.seconds.total).toBeCloseTo(t8.seconds.train + t8.seconds.eval + t8.seconds.overhead, 9)

    // two calibrations: L=2 at 1 GFLOP/s, L=8 at 4 GFLOP/s → L=4 in between on a log-log line
    const two = [fakeCal('dense-L2', 1e9), fakeCal('dense-L8', 4e9)]
    const x2 = microStepFlops(byName('dense-L2').config) / 4
    const x8 = microStepFlops(c8) / 4
    const x4 = microStepFlops(byName('dense-L4').config) / 4
    const t = (Math.log(x4) - Math.log(x2)) / (Math.log(x8) - Math.log(x2))
    const r = trainRate(two, x4)
    expect(r.where).toBe('interpolated')
    expect(r.y).toBeCloseTo(Math.exp(Math.log(1e9) + t * Math.log(4)), 3)
    expect(trainRate(two, x2 / 10)).toEqual({ y: 1e9, where: 'extrapolated' })
    expect(trainRate(two, x8 * 10)).toEqual({ y: 4e9, where: 'extrapolated' })
    const e = estimateFromCalibrations(sweep.points, two)
    expect(e.totals.seconds).toBeCloseTo(e.points.reduce((a, p) => a + p.seconds!.total, 0), 9)
    expect(e.points.find((p) => p.name === 'dense-L4')!.rate).toBe('interpolated')
  })

  it('runSeconds (the one time estimate): calibrations of the same engine, else FLOPs over a rate', () => {
    const c4 = byName('dense-L4').config
    const cals = [fakeCal('dense-L2', 1e9), fakeCal('dense-L8', 4e9)]
    const fromCal = runSeconds(c4, cals, { flopsPerSecond: 1, workerStartSeconds: 7 })
    expect(fromCal).toEqual({ total: pointSeconds(c4, cals, 7)!.seconds.total, train: pointSeconds(c4, cals, 7)!.seconds.train, calibrations: 2 })
    // calibrations of another engine do not apply: corrected training FLOPs at s = 0 plus validations, over the rate, + 2 s
    const other = cals.map((k) => ({ ...k, shape: { ...k.shape, engine: 'tfjs' as const } }))
    const r = runSeconds(c4, other, { flopsPerSecond: 1e9 })
    const train = trainingFlops(c4.model, { estimator: 'corrected', batchSize: 8, steps: 10 })
    const val = validationCount(10, 5) * 64 * inferenceFlops(c4.model, { estimator: 'corrected' }).perToken
    expect(r.calibrations).toBe(0)
    expect(r.train).toBeNull()
    expect(r.total).toBeCloseTo((train + val) / 1e9 + 2, 9)
  })

  it('calibrates the smallest and the largest config of the sweep (by FLOPs per sequence)', () => {
    expect(calibrationTargets(sweep.points).map((p) => p.name)).toEqual(['dense-L2', 'dense-L8'])
    // gated E0.2 / E0.6 / nocontrol share one shape
    expect(calibrationTargets(sweep.points, 'all').map((p) => p.name)).toEqual(['dense-L2', 'dense-L4', 'gated-E0.2', 'dense-L8'])
  })

  it('really trains a few steps to calibrate, caches per shape, and reuses the cache', async () => {
    const small = expandSweep({ ...spec, groups: [spec.groups[0]!].map((g) => ({ ...g, axes: { 'model.n_layers': [1, 2] } })) })
    const file = tmp.file('cal.json')
    const events: { name: string; cached: boolean }[] = []
    const e = await estimateSweep(small, { cache: new CalibrationCache(file), steps: 2, onCalibration: (x) => events.push({ name: x.name, cached: x.cached }) })
    expect(events).toEqual([
      { name: 'dense-L1', cached: false },
      { name: 'dense-L2', cached: false },
    ])
    expect(e.calibrations).toHaveLength(2)
    for (const c of e.calibrations) {
      expect(c.microStepSeconds).toBeGreaterThan(0)
      expect(c.trainFlopsPerSecond).toBeCloseTo(c.microStepFlops / c.microStepSeconds, 6)
      expect(c.microStepFlops).toBe(trainingFlops(small.points.find((p) => p.config.model.n_layers === c.shape.n_layers)!.config.model, { estimator: 'corrected', batchSize: 4, steps: 1 }))
      expect(c.evalTokens).toBeGreaterThan(0)
      expect(c.backendUsed).toMatch(/^ort-/)
      expect(c.shape).toMatchObject({ engine: 'ort', threads: 1, batch_size: 4, dim: 16 })
    }
    expect(e.totals.seconds).toBeGreaterThan(0)
    for (const p of e.points) expect(p.rate).toBe('measured')

    const again: { name: string; cached: boolean }[] = []
    const e2 = await estimateSweep(small, { cache: new CalibrationCache(file), onCalibration: (x) => again.push({ name: x.name, cached: x.cached }) })
    expect(again).toEqual([
      { name: 'dense-L1', cached: true },
      { name: 'dense-L2', cached: true },
    ])
    expect(e2.totals.seconds).toBe(e.totals.seconds)
    // another engine setting is another cache entry
    expect(new CalibrationCache(file).get(calibrationKey(calibrationShape(small.points[0]!.config, { threads: 2 })))).toBeNull()
    // FLOPs only when asked not to time anything
    const f = await estimateSweep(small, { calibrate: false })
    expect(f.calibrations).toEqual([])
    expect(f.totals.seconds).toBeNull()
  })

  it('a config too large to time within the limit is timed with fewer sequences, or not at all', async () => {
    const big = expandSweep({ ...spec, groups: [{ ...spec.groups[0]!, axes: { 'model.n_layers': [2] } }] })
    const notes: string[] = []
    const skipped = await estimateSweep(big, { maxCalibrationSeconds: 1e-12, onCalibration: (x) => x.skipped && notes.push(x.skipped) })
    expect(notes[0]).toMatch(/would take about/)
    expect(skipped.calibrations).toEqual([])
    expect(skipped.notes.join(' ')).toMatch(/not calibrated/)
    // a limit that allows 2 of the 4 sequences under the prior rate
    const perSeq = microStepFlops(big.points[0]!.config, 1)
    const reduced = await estimateSweep(big, { steps: 1, maxCalibrationSeconds: (2 * 2 * perSeq) / 2e10 })
    expect(reduced.calibrations[0]!.shape.batch_size).toBe(2)
    expect(reduced.calibrations[0]!.reducedFrom).toBe(4)
    expect(reduced.notes.join(' ')).toMatch(/calibrated with 2 of its 4 sequences/)
    expect(reduced.totals.seconds).toBeGreaterThan(0)
  })
})
