/**
 * Run configs for the form: validation with the trainer's own zod schema (messages mapped to field paths), FLOPs
 * and time estimates, and sweep plans (a grid of axes plus extra runs, each a patch over a base config).
 */
import type { ConfigCheck, ConfigIssue, RunConfigDoc, RunEstimate, SweepPlan, SweepSpec } from '../contract/api.js'
import { MAX_SWEEP_RUNS } from '../contract/api.js'
import { inferenceFlops, trainingFlops } from '../flops/index.js'
import { paramCount } from '../model/params.js'
import type { Store } from '../store/store.js'
import { checkRunConfig, ConfigError, datasetIssue, fieldPathIssue, parseRunConfigWithWarnings, resolveRunConfigInput, tokensPerStep, type RunConfig } from '../config/index.js'
import type { z } from 'zod'
import { expandSweep as expandGrid, normalizePath, pointFlops, runSeconds, type Calibration, type ExpandedSweep, type SweepSpec as GridSpec } from '../sweeps/index.js'
import { secondsRange } from './calibration.js'
import type { SweepSpec as SweepSpecSchema } from '../contract/api.js'

export interface Throughput {
  flopsPerSec: number
  source: 'calibrated' | 'measured' | 'default'
  runs: number
  /** the first-start calibration is still running */
  calibrating?: boolean
  /** this machine's calibrations (core/sweeps): when any, times come from them (source 'calibrated') */
  calibrations?: readonly Calibration[]
  /** measured seconds to start a training worker (default: core/sweeps' WORKER_START_SECONDS) */
  workerStartSeconds?: number | null
}

/** A deliberately modest default for a CPU (onnxruntime, 2 cores): better to over- than under-estimate. */
export const DEFAULT_FLOPS_PER_SEC = 1.5e9

/** Training FLOP/s achieved by recent completed runs here (median), from their mean tokens/s. */
export function measuredThroughput(store: Store): Throughput {
  const rows = store.runs.list({ status: ['completed'], limit: 50, summaries: [] }).rows.filter((r) => r.tokensPerSec && r.tokensPerSec > 0)
  const rates: number[] = []
  for (const r of rows) {
    const run = store.runs.get(r.id)
    if (!run) continue
    try {
      const m = parseRunConfigWithWarnings(run.config).config.model
      // training FLOPs of one sequence with every gate open, per token
      const perToken = trainingFlops(m, { estimator: 'corrected', batchSize: 1, zeroFractions: [0] }) / m.max_seq_len
      rates.push(perToken * r.tokensPerSec!)
    } catch {
      // a run from an older skipbench whose config no longer parses: skip it
    }
  }
  if (!rates.length) return { flopsPerSec: DEFAULT_FLOPS_PER_SEC, source: 'default', runs: 0, calibrating: false }
  rates.sort((a, b) => a - b)
  return { flopsPerSec: rates[Math.floor(rates.length / 2)]!, source: 'measured', runs: rates.length, calibrating: false }
}

/** The time (core/sweeps runSeconds: this machine's calibrations of the run's engine, else the FLOP rate). */
function secondsOf(cfg: RunConfig, tp: Throughput) {
  return runSeconds(cfg, tp.calibrations ?? [], { flopsPerSecond: tp.flopsPerSec, workerStartSeconds: tp.workerStartSeconds ?? null })
}

export function estimateRun(cfg: RunConfig, tp: Throughput): RunEstimate {
  const m = cfg.model
  const t = cfg.training
  const gated = !m.zero_init_masks
  const batch = t.batch_size * t.grad_acc_steps
  const steps = t.train_steps
  const zeros = gated ? new Float64Array(steps) : undefined
  const train = (estimator: 'paper' | 'corrected') => trainingFlops(m, { estimator, batchSize: batch, ...(zeros ? { zeroFractions: zeros } : { steps }) })
  const inf = (estimator: 'paper' | 'corrected') => inferenceFlops(m, { estimator }).perToken
  const corrected = train('corrected')
  const time = secondsOf(cfg, tp)
  const source = time.calibrations ? 'calibrated' : tp.source
  return {
    params: paramCount(m),
    gated,
    tokensPerStep: tokensPerStep(cfg),
    totalTokens: tokensPerStep(cfg) * steps,
    inferenceFlopsPerToken: { paper: inf('paper'), corrected: inf('corrected') },
    trainingFlops: { paper: train('paper'), corrected },
    seconds: time.total,
    secondsRange: secondsRange(time.total, source),
    throughput: {
      flopsPerSec: time.train !== null ? corrected / time.train : tp.flopsPerSec,
      source,
      runs: time.calibrations || tp.runs,
      calibrating: tp.calibrating ?? false,
    },
  }
}

/**
 * Checks of a valid config against this data folder (the schema cannot know them): the dataset must exist. `datasets`
 * names the data sets it has; a path is checked by `pathIssue` (the service: inside the allowed folders, present).
 */
export interface StoreChecks {
  datasets: () => readonly string[]
  pathIssue?: (dataset: string) => ConfigIssue | null
}

/** The data-folder issues of a config's data section (resolved or as typed: checked even when other fields fail). */
export function storeIssues(data: unknown, checks: StoreChecks | undefined): ConfigIssue[] {
  if (!checks || !data || typeof data !== 'object') return []
  const d = data as { dataset?: unknown; train_shards?: unknown }
  if (d.train_shards !== undefined || typeof d.dataset !== 'string' || !d.dataset) return []
  const i = datasetIssue(d.dataset, checks.datasets()) ?? (checks.pathIssue ? checks.pathIssue(d.dataset) : null)
  return i ? [i] : []
}

export function checkConfig(doc: RunConfigDoc, tp: () => Throughput, checks?: StoreChecks): ConfigCheck {
  let input: unknown
  try {
    input = resolveRunConfigInput(doc)
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, issues: e.configIssues, warnings: [], resolved: null, estimate: null }
    throw e
  }
  const r = checkRunConfig(input)
  if (!r.ok) {
    const typed = r.issues.some((i) => i.path.startsWith('data')) ? [] : storeIssues((input as { data?: unknown } | null)?.data, checks)
    return { ok: false, issues: [...r.issues, ...typed], warnings: [], resolved: null, estimate: null }
  }
  const cfg = r.config
  const fromStore = storeIssues(cfg.data, checks)
  if (fromStore.length) return { ok: false, issues: fromStore, warnings: r.warnings, resolved: null, estimate: null }
  const warnings = [...r.warnings]
  let estimate: RunEstimate | null = null
  try {
    estimate = estimateRun(cfg, tp())
  } catch (e) {
    warnings.push(`no estimate: ${(e as Error).message}`)
  }
  return { ok: true, issues: [], warnings, resolved: JSON.parse(JSON.stringify(cfg)) as RunConfigDoc, estimate }
}

// ------------------------------------------------------------------------------------------------ sweeps

type ParsedSweep = z.output<typeof SweepSpecSchema>

/** The contract's sweep (ordered axis lists, for the form) as core/sweeps' grid spec (axes by path). */
function toGridSpec(spec: ParsedSweep): GridSpec {
  const runs = spec.groups.reduce((n, g) => n + g.axes.reduce((m, a) => m * a.values.length, 1), 0) * (typeof spec.seeds === 'number' ? spec.seeds : (spec.seeds?.length ?? 1))
  if (runs > MAX_SWEEP_RUNS) throw new RangeError(`this sweep has ${runs} runs; at most ${MAX_SWEEP_RUNS} can be queued at once`)
  return {
    name: spec.name,
    groups: spec.groups.map((g) => ({ name: g.name, base: g.base, axes: Object.fromEntries(g.axes.map((a) => [a.path, a.values])), set: g.set })),
    ...(spec.seeds !== undefined ? { seeds: spec.seeds } : {}),
    set: spec.set,
  }
}

/** Axis and `set` paths that name no run config field ("unknown field …, did you mean …"), by group and axis. */
function sweepPathIssues(spec: ParsedSweep): SweepPlan['axisIssues'] {
  const out: SweepPlan['axisIssues'] = []
  const check = (group: number, axis: number | null, path: string) => {
    let p: string
    try {
      p = normalizePath(path)
    } catch {
      return // the contract's path pattern refuses malformed paths before this
    }
    const i = fieldPathIssue(p)
    if (i) out.push({ group, axis, issue: i })
  }
  spec.groups.forEach((g, gi) => {
    g.axes.forEach((a, ai) => check(gi, ai, a.path))
    for (const p of Object.keys(g.set ?? {})) check(gi, null, p)
  })
  for (const p of Object.keys(spec.set ?? {})) check(-1, null, p)
  return out
}

/**
 * Expand with core/sweeps (the CLI's `skipbench sweep` semantics: groups, axes crossed, seeds, duplicate points
 * refused, point names like gated-L4-E0.5-s0), cost every point: FLOPs from core/sweeps, time from this machine's
 * cached calibrations (calibration.json beside the database, as the CLI writes it) or else from the throughput of
 * finished runs. Axis paths that name no field are reported by axis (and their points are not expanded: every one
 * would fail the same way); points whose dataset this data folder lacks are invalid (`checks`). The total time is
 * also a range: the sum of each run's range (as a single run's estimate: wider when the rate is a guess).
 */
export function planSweep(spec: ParsedSweep, tp: Throughput, concurrency: number, checks?: StoreChecks): { plan: SweepPlan; sweep: ExpandedSweep } {
  const axisIssues = sweepPathIssues(spec)
  const sweep: ExpandedSweep = axisIssues.length ? { name: spec.name, points: [], invalid: [], warnings: [] } : expandGrid(toGridSpec(spec))
  const rows: (SweepPlan['runs'][number] & { index: number })[] = []
  let totalFlops = 0
  let totalSeconds = 0
  let lo = 0
  let hi = 0
  for (const p of sweep.points) {
    const bad = storeIssues(p.config.data, checks)
    if (bad.length) {
      sweep.invalid.push({ index: p.index, group: p.group, name: p.name, assignment: p.assignment, problems: bad.map((i) => `${i.path}: ${i.message}`), issues: bad })
      continue
    }
    const flops = pointFlops(p.config).corrected.training
    const time = secondsOf(p.config, tp)
    const seconds = time.total
    const [l, h] = secondsRange(seconds, time.calibrations ? 'calibrated' : tp.source)
    totalFlops += flops
    totalSeconds += seconds
    lo += l
    hi += h
    rows.push({ index: p.index, name: p.name, group: p.group, assignment: p.assignment, ok: true, issues: [], trainingFlops: flops, seconds })
  }
  sweep.points = sweep.points.filter((p) => !sweep.invalid.some((x) => x.index === p.index))
  for (const x of sweep.invalid) rows.push({ index: x.index, name: x.name, group: x.group, assignment: x.assignment, ok: false, issues: x.issues, trainingFlops: null, seconds: null })
  rows.sort((a, b) => a.index - b.index)
  const c = Math.max(1, concurrency)
  return {
    plan: {
      runs: rows.map(({ index: _i, ...r }) => r),
      count: rows.length,
      invalid: sweep.invalid.length,
      totalTrainingFlops: totalFlops,
      totalSeconds: totalSeconds / c,
      totalSecondsRange: [lo / c, hi / c],
      concurrency,
      axisIssues,
    },
    sweep,
  }
}

export type { SweepSpec }
