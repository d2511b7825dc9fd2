/**
 * Stored runs → analysis RunRecords (core/analysis): what `skipbench compare` and a finished sweep compare.
 *
 * For each run of an experiment:
 * - validation cross-entropy, token count and zero fraction: the run's evaluation of its final checkpoint when
 *   there is one (an eval job), else the validation the trainer logged at its last step (val/loss, val/tokens,
 *   val/zeros/mean and its per-layer values);
 * - dataset and tokenizer: what the data layer resolved (run.json `data`), with the synthetic set's parameters in
 *   its name (its seed follows training.seed unless set, and differently seeded sets are different data);
 * - inference FLOPs per sequence at the validation zero fraction (per layer when logged);
 * - training FLOPs summed over EVERY optimizer step from that step's logged train/zeros/mean, × the sequences per
 *   step (batch_size × grad_acc_steps), with both estimators (spec D.2, H.6). Dense runs log no zeros: s = 0.
 *
 * Runs that cannot be costed (unfinished, a step's zero fraction missing, no final validation) are returned as
 * exclusions with the reason, never silently dropped.
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { addExclusions, compareRuns, type CompareOptions, type Comparison, type Excluded } from './compare.js'
import type { RunRecord } from './records.js'
import { FLOPS_ESTIMATORS, inferenceFlops, trainingFlops, type FlopsEstimator } from '../flops/index.js'
import type { Store } from '../store/store.js'
import type { Evaluation, Experiment, Run } from '../store/types.js'
import { layerKey } from '../trainer/gate-metrics.js'
import { ConfigError } from '../model/config.js'
import { parseRunConfig, runKind, targetEnd, type RunConfig } from '../config/index.js'
import { latestMeasuredCost, type MeasuredCost } from '../trainer/measured-cost.js'
import { FINAL_DIR } from '../paths.js'
import { NotFoundError } from '../store/errors.js'
import { UserError } from '../user-errors.js'

export type ValidationSource = 'auto' | 'evaluation' | 'validation'

export interface CostedRun {
  run: Run
  config: RunConfig
  dataset: string
  tokenizer: string
  validation: {
    source: 'evaluation' | 'validation'
    evaluationId: number | null
    step: number
    loss: number
    tokens: number
    /** mean validation zero fraction (gated runs) */
    zeroFraction: number | null
    /** per layer, when logged */
    zeroFractions: number[] | null
  }
  steps: number
  /** sequences per optimizer step */
  batchSize: number
  /** per-step training zero fractions (gated runs), one per optimizer step */
  trainZeroFractions: Float64Array | null
  /** training: the FLOPs the run would cost if skipped blocks were skipped (hypothetical for gated runs);
   *  executedTraining: what the engine actually ran (it trains densely: every gate open) */
  flops: Record<FlopsEstimator, { inference: number; training: number; executedTraining: number }>
}

export type CostResult = { ok: true; costed: CostedRun } | { ok: false; id: string; reasons: string[] }

export interface CostOptions {
  source?: ValidationSource
  /** use evaluations on this dataset only (default: the latest evaluation of the final checkpoint) */
  dataset?: string
}

/** The record id of a run: "name#id" (unique, readable). */
export const recordId = (run: Pick<Run, 'id' | 'name'>) => `${run.name}#${run.id}`

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))

function readRunJsonData(run: Run): { dataset?: string; tokenizer?: string } {
  if (!run.runDir) return {}
  const p = join(run.runDir, 'run.json')
  if (!existsSync(p)) return {}
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as { data?: { dataset?: unknown; tokenizer?: unknown } }
    return {
      ...(typeof j.data?.dataset === 'string' ? { dataset: j.data.dataset } : {}),
      ...(typeof j.data?.tokenizer === 'string' ? { tokenizer: j.data.tokenizer } : {}),
    }
  } catch {
    return {}
  }
}

/** Dataset and tokenizer labels of a run's own data (what compareRuns checks for fairness). */
function dataLabels(run: Run, c: RunConfig): { dataset: string; tokenizer: string } {
  const d = c.data
  if (!d.train_shards && d.dataset === 'synthetic') {
    const s: Partial<NonNullable<RunConfig['data']['synthetic']>> = d.synthetic ?? {}
    const vocab = s.vocab_size ?? Math.min(c.model.vocab_size, 64)
    const parts = [`vocab=${vocab}`, `seed=${s.seed ?? c.training.seed}`, `train=${s.train_tokens ?? 1_000_000}`, `val=${s.val_tokens ?? 65_536}`, `successors=${s.successors ?? 4}`]
    return { dataset: `synthetic(${parts.join(',')})`, tokenizer: 'synthetic' }
  }
  const fromFolder = readRunJsonData(run)
  if (d.train_shards && d.val_shards) return { dataset: `shards:${d.val_shards.join(',')}`, tokenizer: fromFolder.tokenizer ?? d.tokenizer ?? 'unknown' }
  const dataset = fromFolder.dataset ?? run.dataset ?? (d.dataset === 'default' && d.tokenizer && d.tokenizer !== 'byte' ? `default-${d.tokenizer}` : d.dataset)
  return { dataset, tokenizer: fromFolder.tokenizer ?? d.tokenizer ?? 'unknown' }
}

/** One metric's value at exactly `step`, or null. */
function valueAt(store: Store, runId: number, key: string, step: number): number | null {
  const s = store.metrics.series(runId, key, { fromStep: step, toStep: step, maxPoints: 0 })
  return s.values.length ? s.values.at(-1)! : null
}

function evaluationZeros(e: Evaluation): number[] | null {
  const z = (e.gateStats as { zeros?: { mean?: unknown } } | null)?.zeros?.mean
  return Array.isArray(z) && z.every((x) => typeof x === 'number') ? (z as number[]) : null
}

/** Cost one stored run (never throws for a run that cannot be costed: the reasons come back). */
export function costRun(store: Store, runOrId: Run | number, o: CostOptions = {}): CostResult {
  const run = typeof runOrId === 'number' ? store.runs.get(runOrId) : runOrId
  if (!run) return { ok: false, id: `#${String(runOrId)}`, reasons: ['no such run'] }
  const id = recordId(run)
  const source = o.source ?? 'auto'
  if (run.status !== 'completed') return { ok: false, id, reasons: [`run is ${run.status}, not completed`] }
  let config: RunConfig
  try {
    config = parseRunConfig(run.config)
  } catch (e) {
    const issues = e instanceof ConfigError ? e.issues : [String(e)]
    return { ok: false, id, reasons: issues.map((m) => `invalid stored config: ${m}`) }
  }
  const T = config.training.train_steps
  const gated = !config.model.zero_init_masks
  const L = config.model.n_layers
  const reasons: string[] = []

  // validation
  let validation: CostedRun['validation'] | null = null
  let labels = dataLabels(run, config)
  if (source !== 'validation') {
    const evs = store.evaluations
      .list(run.id)
      .filter((e) => e.split === 'val' && e.loss !== null && Number.isFinite(e.loss) && e.tokens > 0 && (e.step === null || e.step === T) && (o.dataset === undefined || e.dataset === o.dataset))
    const e = evs.at(-1)
    if (e) {
      const zs = gated ? evaluationZeros(e) : null
      validation = {
        source: 'evaluation',
        evaluationId: e.id,
        step: e.step ?? T,
        loss: e.loss!,
        tokens: e.tokens,
        zeroFraction: zs ? clamp01(zs.reduce((a, b) => a + b, 0) / zs.length) : null,
        zeroFractions: zs && zs.length === L ? zs.map(clamp01) : null,
      }
      if (e.dataset !== labels.dataset) {
        const ds = store.datasets.byName(e.dataset)
        labels = { dataset: e.dataset, tokenizer: ds?.tokenizer ?? 'unknown' }
      }
      if (gated && validation.zeroFraction === null) reasons.push(`evaluation ${e.id} has no gate statistics (zeros.mean)`)
    } else if (source === 'evaluation') reasons.push(`no evaluation of the final checkpoint (step ${T})${o.dataset ? ` on ${o.dataset}` : ''}`)
  }
  if (!validation && source !== 'evaluation') {
    const loss = valueAt(store, run.id, 'val/loss', T)
    const tokens = valueAt(store, run.id, 'val/tokens', T)
    if (loss === null || tokens === null) {
      const steps = store.metrics.steps(run.id, 'val/loss')
      reasons.push(`no validation at the final step ${T} (val/loss logged at ${steps.length ? `steps ${steps.slice(-3).join(', ')}` : 'no step'})`)
    } else if (!Number.isFinite(loss)) reasons.push(`validation loss at step ${T} is ${loss}`)
    else {
      let zeroFraction: number | null = null
      let zeroFractions: number[] | null = null
      if (gated) {
        const z = valueAt(store, run.id, 'val/zeros/mean', T)
        if (z === null || !Number.isFinite(z)) reasons.push(`gated run without val/zeros/mean at step ${T}`)
        else zeroFraction = clamp01(z)
        const per = Array.from({ length: L }, (_, i) => valueAt(store, run.id, `val/zeros/mean/${layerKey(i)}`, T))
        if (per.every((x): x is number => x !== null && Number.isFinite(x))) zeroFractions = per.map(clamp01)
      }
      validation = { source: 'validation', evaluationId: null, step: T, loss, tokens: Math.round(tokens), zeroFraction, zeroFractions }
    }
  }

  // every step's training zero fraction
  let trainZeroFractions: Float64Array | null = null
  if (gated) {
    const s = store.metrics.series(run.id, 'train/zeros/mean', { maxPoints: 0 })
    const z = new Float64Array(T)
    const seen = new Uint8Array(T)
    let bad = 0
    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i]!
      const v = s.values[i]!
      if (!Number.isInteger(step) || step < 0 || step >= T || !Number.isFinite(v)) {
        bad++
        continue
      }
      z[step] = clamp01(v)
      seen[step] = 1
    }
    let have = 0
    for (let i = 0; i < T; i++) have += seen[i]!
    if (have < T) {
      const first = seen.indexOf(0)
      reasons.push(`train/zeros/mean logged at ${have} of ${T} optimizer steps (first missing: step ${first}); training FLOPs need every step`)
    } else if (bad) reasons.push(`train/zeros/mean has ${bad} values that are not finite or outside steps 0..${T - 1}`)
    trainZeroFractions = z
  }

  if (reasons.length || !validation) return { ok: false, id, reasons: reasons.length ? reasons : ['no validation'] }

  const batchSize = config.training.batch_size * config.training.grad_acc_steps
  const flops = {} as CostedRun['flops']
  const sparsity = gated ? (validation.zeroFractions ?? validation.zeroFraction ?? 0) : 0
  try {
    for (const estimator of FLOPS_ESTIMATORS) {
      flops[estimator] = {
        inference: inferenceFlops(config.model, { estimator, sparsity }).perSequence,
        training: trainingFlops(config.model, { estimator, batchSize, ...(gated ? { zeroFractions: trainZeroFractions! } : { steps: T }) }),
        executedTraining: trainingFlops(config.model, { estimator, batchSize, zeroFractions: new Float64Array(T) }),
      }
    }
  } catch (e) {
    return { ok: false, id, reasons: [`cannot estimate FLOPs: ${(e as Error).message}`] }
  }
  return {
    ok: true,
    costed: { run, config, dataset: labels.dataset, tokenizer: labels.tokenizer, validation, steps: T, batchSize, trainZeroFractions, flops },
  }
}

/** Where a measured cost comes from, as compared for fairness: machine, engine, threads, data and tokens. */
function measuredOnLabel(m: MeasuredCost): string {
  const data = m.data
    .split(',')
    .map((d) => basename(d.replace(/:\d+$/, '')))
    .join(',')
  return `${m.machine.label}; ${m.engine} ${m.backend}, ${m.threads} threads; ${m.tokens} tokens of ${data}, batch ${m.batchSize}`
}

/** This machine's latest measured evaluation cost of a run's final checkpoint (core/trainer/measured-cost.ts). */
function runMeasuredCost(run: Run): MeasuredCost | null {
  return run.runDir ? latestMeasuredCost(join(run.runDir, FINAL_DIR)) : null
}

/** The analysis record of a costed run under one estimator. */
export function toRunRecord(c: CostedRun, estimator: FlopsEstimator): RunRecord {
  const cfg = c.config
  const measured = runMeasuredCost(c.run)
  const { checkpoint_every: _ce, keep_checkpoints: _kc, val_every: _ve, val_batch_size: _vb, ...training } = cfg.training
  return {
    id: recordId(c.run),
    kind: runKind(cfg),
    config: { ...cfg.model },
    seed: cfg.training.seed,
    valLoss: c.validation.loss,
    valTokens: c.validation.tokens,
    dataset: c.dataset,
    tokenizer: c.tokenizer,
    estimator,
    inferenceFlops: c.flops[estimator].inference,
    trainingFlops: c.flops[estimator].training,
    zeroFraction: cfg.model.zero_init_masks ? null : c.validation.zeroFraction,
    measuredCost: measured?.secondsPerToken ?? null,
    ...(measured ? { measuredOn: measuredOnLabel(measured) } : {}),
    target_end: targetEnd(cfg),
    executedTrainingFlops: c.flops[estimator].executedTraining,
    trainTokens: cfg.training.train_steps * cfg.training.batch_size * cfg.training.grad_acc_steps * cfg.model.max_seq_len,
    lrSchedule: { lr: cfg.optimizer.lr, warmup_fraction: cfg.schedule.warmup_fraction, start_factor: cfg.schedule.start_factor, anneal: 'cosine to 0 over the run' },
    // what defines the run besides the model; engine, naming and checkpointing do not
    training: { training, optimizer: cfg.optimizer, schedule: cfg.schedule, controller: cfg.controller, data: cfg.data },
    runId: c.run.id,
    name: c.run.name,
    validationSource: c.validation.source,
    validationStep: c.validation.step,
  }
}

export interface RecordsOptions extends CostOptions {
  /** an experiment name or id */
  experiment?: string | number
  /** or these runs */
  runIds?: number[]
  estimator: FlopsEstimator
}

export function findExperiment(store: Store, experiment: string | number): Experiment {
  const e = typeof experiment === 'number' ? store.experiments.get(experiment) : (store.experiments.byName(experiment) ?? (/^\d+$/.test(experiment) ? store.experiments.get(Number(experiment)) : null))
  if (!e) {
    const names = store.experiments.list().map((x) => x.name)
    throw new NotFoundError(`experiment "${experiment}"`, `no experiment "${experiment}" in ${store.path}${names.length ? `; experiments: ${names.join(', ')}` : ' (it has no experiments)'}`)
  }
  return e
}

/** The stored runs of an experiment (or the given ids), oldest first. */
export function experimentRuns(store: Store, o: { experiment?: string | number; runIds?: number[] }): Run[] {
  if (o.runIds) return o.runIds.map((id) => store.runs.require(id))
  if (o.experiment === undefined) throw new UserError('give an experiment or run ids')
  const e = findExperiment(store, o.experiment)
  const rows = store.runs.list({ experimentId: e.id, limit: 10_000, sort: { by: 'id', dir: 'asc' }, summaries: [] }).rows
  return rows.map((r) => store.runs.require(r.id))
}

/** RunRecords for compareRuns, plus the runs that could not be costed (with reasons). */
export function runRecordsFromStore(store: Store, o: RecordsOptions): { records: RunRecord[]; excluded: Excluded[]; costed: CostedRun[] } {
  const records: RunRecord[] = []
  const excluded: Excluded[] = []
  const costed: CostedRun[] = []
  for (const run of experimentRuns(store, o)) {
    const r = costRun(store, run, o)
    if (r.ok) {
      costed.push(r.costed)
      records.push(toRunRecord(r.costed, o.estimator))
    } else excluded.push({ id: r.id, reasons: r.reasons, reason: r.reasons.join('; ') })
  }
  return { records, excluded, costed }
}

export interface ExperimentComparison extends Comparison {
  experiment: string | null
  /** runs considered (costed or not) */
  runs: number
}

/** Cost an experiment's runs and compare them (compareRuns); uncostable runs join the exclusions. */
export function compareExperiment(store: Store, o: RecordsOptions & Omit<CompareOptions, 'estimator'>): ExperimentComparison {
  const { records, excluded } = runRecordsFromStore(store, o)
  const { experiment, runIds: _r, source: _s, estimator, ...copts } = o
  const c = compareRuns(records, { ...copts, estimator })
  const name = experiment === undefined ? null : findExperiment(store, experiment).name
  addExclusions(c, excluded)
  return { ...c, experiment: name, runs: records.length + excluded.length }
}
