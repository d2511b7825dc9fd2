/**
 * What a sweep will cost before it starts: FLOPs with both estimators (spec D, H.6) and wall time on this machine.
 *
 * FLOPs. Gate sparsity is known only after training, so training FLOPs are given twice: at s = 0 (every gate open:
 * an upper bound, and exact for dense runs) and, for target controllers, at the sparsity the targets ask for,
 * s* = 1 − mean(m*) (binary gates exactly at target, spec C). The paper estimator counts the forward pass only,
 * as the reference; the corrected one counts 3 × forward.
 *
 * Time. Training computes every block whatever the gates, so the work of a step is its corrected FLOPs at s = 0.
 * calibrate.ts times a few steps of the smallest and the largest config of the sweep on the chosen engine; the
 * training rate (FLOPs/s) of any other config is interpolated in log FLOPs per sequence between the calibrated
 * ones (log-log; flat beyond them, and flagged), and likewise the evaluation rate. A run's time = its optimizer
 * steps × grad_acc micro-batches × FLOPs / rate + its validations + setup (engine, first step) + worker start-up.
 * Runs execute one at a time (the job queue's default concurrency).
 */
import { makeMeanTargets } from '../controllers/index.js'
import type { CreateEngineOptions } from '../engine/index.js'
import { FLOPS_ESTIMATORS, inferenceFlops, paramCount, trainingFlops, type FlopsEstimator } from '../flops/index.js'
import type { RunConfig } from '../config/index.js'
import { calibrate, CalibrationCache, calibrationKey, calibrationShape, hostInfo, microStepFlops, type Calibration } from './calibrate.js'
import type { ExpandedSweep, SweepPoint } from './grid.js'

/** Seconds to fork a worker, load TypeScript sources and open the data (measured here: about 2–4 s). */
export const WORKER_START_SECONDS = 3

/** FLOPs/s assumed for predicting how long a calibration would take when nothing has been measured yet. */
const PRIOR_FLOPS_PER_SECOND = 2e10

export interface PointFlops {
  /** training FLOPs with every gate open (s = 0): exact for dense runs, an upper bound for gated ones */
  training: number
  /** training FLOPs at the controller's target sparsity s* (null: no target, e.g. dummy controller) */
  trainingAtTarget: number | null
  /** inference FLOPs per sequence at s = 0 */
  inferencePerSequence: number
  inferenceAtTargetPerSequence: number | null
}

export interface PointEstimate {
  index: number
  name: string
  group: string
  params: number
  steps: number
  sequencesPerStep: number
  tokens: number
  /** s* = 1 − mean(m*) for target controllers on gated models, else null */
  targetSparsity: number | null
  flops: Record<FlopsEstimator, PointFlops>
  /** null when no calibration covers this machine/engine */
  seconds: { train: number; eval: number; overhead: number; total: number } | null
  /** how the rate was obtained: 'measured' (this shape was calibrated), 'interpolated', 'extrapolated' (beyond the calibrated sizes) */
  rate: 'measured' | 'interpolated' | 'extrapolated' | null
}

export interface SweepEstimate {
  points: PointEstimate[]
  totals: {
    runs: number
    tokens: number
    flops: Record<FlopsEstimator, { training: number; trainingAtTarget: number }>
    /** null when any point has no time estimate */
    seconds: number | null
  }
  calibrations: Calibration[]
  notes: string[]
}

/** s* = 1 − mean of the mirrored mean targets (binary gates exactly at target); null without targets. */
export function targetSparsity(c: RunConfig): number | null {
  if (c.model.zero_init_masks) return null
  const ctl = c.controller as { name: string; mean_targets?: 'auto' | number[] | string; mean_target_start?: number; mean_target_end?: number }
  if (!('mean_targets' in ctl) || ctl.mean_targets === undefined) return null
  try {
    const m = makeMeanTargets(c.model.n_layers, ctl.mean_targets, ctl.mean_target_start, ctl.mean_target_end)
    const mean = m.reduce((a, b) => a + b, 0) / m.length
    return Math.min(1, Math.max(0, 1 - Math.min(1, Math.max(0, mean))))
  } catch {
    return null
  }
}

/** Number of validations of a run: at step 0, every val_every steps, and at the last step. */
export function validationCount(trainSteps: number, valEvery: number): number {
  if (trainSteps <= 0) return 1
  if (valEvery <= 0) return 2
  return Math.floor((trainSteps - 1) / valEvery) + 2
}

/** Validation tokens evaluated each time (the split may hold fewer; unknown before the data is opened). */
function validationTokens(c: RunConfig): number {
  const T = c.model.max_seq_len
  return Math.max(1, Math.floor(c.training.val_tokens / T)) * T
}

export function pointFlops(c: RunConfig): Record<FlopsEstimator, PointFlops> {
  const steps = c.training.train_steps
  const batchSize = c.training.batch_size * c.training.grad_acc_steps
  const s = targetSparsity(c)
  const out = {} as Record<FlopsEstimator, PointFlops>
  for (const estimator of FLOPS_ESTIMATORS) {
    const zeros = (v: number) => new Float64Array(steps).fill(v)
    out[estimator] = {
      training: trainingFlops(c.model, { estimator, batchSize, zeroFractions: zeros(0) }),
      trainingAtTarget: s === null ? null : trainingFlops(c.model, { estimator, batchSize, zeroFractions: zeros(s) }),
      inferencePerSequence: inferenceFlops(c.model, { estimator, sparsity: 0 }).perSequence,
      inferenceAtTargetPerSequence: s === null ? null : inferenceFlops(c.model, { estimator, sparsity: s }).perSequence,
    }
  }
  return out
}

interface RatePoint {
  x: number
  y: number
}

/** Piecewise-linear interpolation of log y against log x; flat beyond the ends. */
function logLogInterp(pts: RatePoint[], x: number): { y: number; where: 'measured' | 'interpolated' | 'extrapolated' } {
  const s = [...pts].sort((a, b) => a.x - b.x)
  const near = (a: number, b: number) => Math.abs(Math.log(a / b)) < 1e-9
  for (const p of s) if (near(p.x, x)) return { y: p.y, where: 'measured' }
  if (s.length === 1) return { y: s[0]!.y, where: 'extrapolated' }
  if (x < s[0]!.x) return { y: s[0]!.y, where: 'extrapolated' }
  if (x > s.at(-1)!.x) return { y: s.at(-1)!.y, where: 'extrapolated' }
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1]!
    const b = s[i]!
    if (x <= b.x) {
      const t = (Math.log(x) - Math.log(a.x)) / (Math.log(b.x) - Math.log(a.x))
      return { y: Math.exp(Math.log(a.y) + t * (Math.log(b.y) - Math.log(a.y))), where: 'interpolated' }
    }
  }
  return { y: s.at(-1)!.y, where: 'extrapolated' }
}

/** FLOPs/s of training at `flopsPerSequence` (one sequence of one micro-batch), from the calibrations. */
export function trainRate(calibrations: readonly Calibration[], flopsPerSequence: number) {
  return logLogInterp(
    calibrations.map((c) => ({ x: c.microStepFlops / c.shape.batch_size, y: c.trainFlopsPerSecond })),
    flopsPerSequence,
  )
}

/** Time of one run from the calibrations (pure; what the estimate uses). */
export function pointSeconds(c: RunConfig, calibrations: readonly Calibration[], workerStartSeconds = WORKER_START_SECONDS): { seconds: NonNullable<PointEstimate['seconds']>; rate: NonNullable<PointEstimate['rate']> } | null {
  if (!calibrations.length) return null
  const B = c.training.batch_size
  const micro = microStepFlops(c, B)
  const tr = trainRate(calibrations, micro / B)
  const train = (c.training.train_steps * c.training.grad_acc_steps * micro) / tr.y
  const fe = inferenceFlops(c.model, { estimator: 'corrected', sparsity: 0 }).perToken
  const er = logLogInterp(
    calibrations.map((k) => ({ x: k.evalFlopsPerToken, y: k.evalFlopsPerSecond })),
    fe,
  )
  const evalSeconds = (validationCount(c.training.train_steps, c.training.val_every) * validationTokens(c) * fe) / er.y
  const setup = logLogInterp(
    calibrations.map((k) => ({ x: k.microStepFlops / k.shape.batch_size, y: Math.max(1e-3, k.setupSeconds) })),
    micro / B,
  ).y
  const overhead = setup + workerStartSeconds
  return { seconds: { train, eval: evalSeconds, overhead, total: train + evalSeconds + overhead }, rate: tr.where }
}

/** Process start, engine and data set-up assumed per run when nothing was calibrated on this machine. */
const UNCALIBRATED_OVERHEAD_SECONDS = 2

export interface RunSeconds {
  /** the whole run: training, validations, start-up */
  total: number
  /** the training steps alone (null when the time came from a FLOP rate, not calibrations) */
  train: number | null
  /** how many calibrations of the run's engine, backend and threads it came from (0: from `flopsPerSecond`) */
  calibrations: number
}

/**
 * A run's wall time on this machine, the one time estimate (the form's run estimate, the app's sweep plan): from
 * the calibrations of the run's own engine, backend and threads when there are any (pointSeconds), else its
 * corrected FLOPs (training at s = 0 plus its validations) over `flopsPerSecond`, plus a fixed set-up.
 */
export function runSeconds(c: RunConfig, calibrations: readonly Calibration[], o: { flopsPerSecond: number; workerStartSeconds?: number | null }): RunSeconds {
  const shape = calibrationShape(c)
  const cals = calibrations.filter((k) => k.shape.engine === shape.engine && k.shape.backend === shape.backend && k.shape.threads === shape.threads)
  const t = cals.length ? pointSeconds(c, cals, o.workerStartSeconds ?? undefined) : null
  if (t) return { total: t.seconds.total, train: t.seconds.train, calibrations: cals.length }
  const steps = c.training.train_steps
  const train = trainingFlops(c.model, { estimator: 'corrected', batchSize: c.training.batch_size * c.training.grad_acc_steps, zeroFractions: new Float64Array(steps) })
  const val = validationCount(steps, c.training.val_every) * validationTokens(c) * inferenceFlops(c.model, { estimator: 'corrected', sparsity: 0 }).perToken
  return { total: (train + val) / o.flopsPerSecond + UNCALIBRATED_OVERHEAD_SECONDS, train: null, calibrations: 0 }
}

/** The estimate from FLOPs and whatever calibrations there are (pure). */
export function estimateFromCalibrations(points: readonly SweepPoint[], calibrations: readonly Calibration[], notes: string[] = []): SweepEstimate {
  const out: PointEstimate[] = points.map((p) => {
    const c = p.config
    const t = pointSeconds(c, calibrations)
    return {
      index: p.index,
      name: p.name,
      group: p.group,
      params: paramCount(c.model),
      steps: c.training.train_steps,
      sequencesPerStep: c.training.batch_size * c.training.grad_acc_steps,
      tokens: c.training.train_steps * c.training.batch_size * c.training.grad_acc_steps * c.model.max_seq_len,
      targetSparsity: targetSparsity(c),
      flops: pointFlops(c),
      seconds: t?.seconds ?? null,
      rate: t?.rate ?? null,
    }
  })
  const sum = (f: (p: PointEstimate) => number) => out.reduce((a, p) => a + f(p), 0)
  const flops = {} as SweepEstimate['totals']['flops']
  for (const e of FLOPS_ESTIMATORS)
    flops[e] = { training: sum((p) => p.flops[e].training), trainingAtTarget: sum((p) => p.flops[e].trainingAtTarget ?? p.flops[e].training) }
  const allTimed = out.every((p) => p.seconds !== null)
  const n = [...notes]
  if (out.some((p) => p.rate === 'extrapolated')) n.push('some configs lie outside the calibrated sizes: their rate is the nearest calibrated one (flagged "extrapolated")')
  return {
    points: out,
    totals: { runs: out.length, tokens: sum((p) => p.tokens), flops, seconds: allTimed && out.length ? sum((p) => p.seconds!.total) : out.length ? null : 0 },
    calibrations: [...calibrations],
    notes: n,
  }
}

export interface EstimateOptions {
  /** time a few steps on this machine (default true); false gives FLOPs only */
  calibrate?: boolean
  cache?: CalibrationCache
  /** ignore cached calibrations (and replace them) */
  recalibrate?: boolean
  /** cached calibrations older than this are measured again (default 30 days) */
  maxAgeMs?: number
  /** engine overrides for the calibration (the sweep's runs use their configs' engine section) */
  engine?: CreateEngineOptions
  dataDir?: string
  /** 'extremes' (default): the smallest and the largest config; 'all': every distinct shape */
  which?: 'extremes' | 'all'
  /** a calibration predicted to take longer is done with fewer sequences per micro-batch, or skipped (default 60 s) */
  maxCalibrationSeconds?: number
  /** timed steps per calibration (default 3) */
  steps?: number
  onCalibration?: (e: { name: string; cached: boolean; calibration: Calibration | null; skipped?: string }) => void
}

/** The points whose shapes get calibrated: the smallest and largest by training FLOPs per sequence, or all shapes. */
export function calibrationTargets(points: readonly SweepPoint[], which: 'extremes' | 'all' = 'extremes', engine: CreateEngineOptions = {}): SweepPoint[] {
  const byShape = new Map<string, { p: SweepPoint; x: number }>()
  for (const p of points) {
    const k = JSON.stringify(calibrationShape(p.config, engine))
    if (!byShape.has(k)) byShape.set(k, { p, x: microStepFlops(p.config) / p.config.training.batch_size })
  }
  const all = [...byShape.values()].sort((a, b) => a.x - b.x)
  if (which === 'all' || all.length <= 2) return all.map((e) => e.p)
  return [all[0]!.p, all.at(-1)!.p]
}

/** FLOPs of every point, plus wall time from calibrations (cached, or measured now by training a few steps). */
export async function estimateSweep(sweep: ExpandedSweep, o: EstimateOptions = {}): Promise<SweepEstimate> {
  const notes: string[] = []
  const cals: Calibration[] = []
  if (o.calibrate === false || !sweep.points.length) return estimateFromCalibrations(sweep.points, [], ['not calibrated: FLOPs only'])
  const cache = o.cache ?? new CalibrationCache(null)
  const maxSec = o.maxCalibrationSeconds ?? 60
  const steps = o.steps ?? 3
  const engine = o.engine ?? {}
  const host = hostInfo()
  for (const p of calibrationTargets(sweep.points, o.which ?? 'extremes', engine)) {
    const c = p.config
    const full = calibrationShape(c, engine)
    const cached = o.recalibrate ? null : cache.get(calibrationKey(full, host), o.maxAgeMs ?? 30 * 86_400_000)
    if (cached) {
      cals.push(cached)
      o.onCalibration?.({ name: p.name, cached: true, calibration: cached })
      continue
    }
    // predict what timing it would cost from what is known about this machine (or a modest prior)
    const known = [...cals, ...cache.sameMachine(full.engine, full.backend, full.threads, host)]
    const B = c.training.batch_size
    const perSeq = microStepFlops(c, 1)
    const rate = known.length ? trainRate(known, perSeq).y : PRIOR_FLOPS_PER_SECOND
    const predicted = ((steps + 1) * perSeq * B) / rate
    let batch = B
    if (predicted > maxSec) batch = Math.floor((B * maxSec) / predicted)
    if (batch < 1) {
      const why = `one micro-batch of one sequence would take about ${Math.round(((steps + 1) * perSeq) / rate)} s to time here (limit ${maxSec} s)`
      notes.push(`${p.name} not calibrated: ${why}`)
      o.onCalibration?.({ name: p.name, cached: false, calibration: null, skipped: why })
      continue
    }
    if (batch < B) {
      const reducedCached = o.recalibrate ? null : cache.get(calibrationKey(calibrationShape(c, engine, batch), host), o.maxAgeMs ?? 30 * 86_400_000)
      if (reducedCached) {
        cals.push(reducedCached)
        o.onCalibration?.({ name: p.name, cached: true, calibration: reducedCached })
        continue
      }
      notes.push(`${p.name} calibrated with ${batch} of its ${B} sequences per micro-batch (a conservative rate)`)
    }
    const cal = await calibrate(c, { ...(o.dataDir ? { dataDir: o.dataDir } : {}), engine, steps, batchSize: batch })
    cache.set(cal)
    cals.push(cal)
    o.onCalibration?.({ name: p.name, cached: false, calibration: cal })
  }
  if (!cals.length) notes.push('no calibration: wall time unknown')
  return estimateFromCalibrations(sweep.points, cals, notes)
}
