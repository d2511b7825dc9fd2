/**
 * The experiment's comparison (core/analysis compareRuns) built from the store: each completed run becomes a run
 * record (final validation loss and zero fraction, FLOPs from core/flops with the chosen estimator), cached per run
 * version so a chart toggle does not recompute thousands of runs.
 */
import type { ComparisonResult } from '../contract/api.js'
import { compareRuns } from '../analysis/index.js'
import { inferenceFlops, trainingFlops } from '../flops/index.js'
import type { Run } from '../store/types.js'
import type { Context } from './context.js'
import { finite } from './context.js'
import { notFound } from './errors.js'

type Estimator = 'paper' | 'corrected'

interface Built {
  record: Record<string, unknown> | null
  reason: string | null
}

const cache = new WeakMap<Context, Map<string, Built>>()

function buildRecord(ctx: Context, run: Run, estimator: Estimator): Built {
  if (run.status !== 'completed') return { record: null, reason: `not finished (${run.status})` }
  const d = ctx.derived(run)
  if (!d.config || !d.model || !d.batch) return { record: null, reason: 'its config does not parse with this skipbench' }
  const sums = new Map(ctx.store.metrics.summaries(run.id).map((s) => [s.key, s]))
  const val = sums.get('val/loss')
  if (!val || finite(val.lastValue) === null) return { record: null, reason: 'no finite validation loss' }
  const cfg = d.config
  const valTokens = Math.round(sums.get('val/tokens')?.lastValue ?? cfg.training.val_tokens)
  const dataset = run.dataset ?? cfg.data.dataset
  const tokenizer = cfg.data.tokenizer ?? (dataset === 'synthetic' ? 'synthetic' : (ctx.store.datasets.byName(dataset)?.tokenizer ?? 'byte'))
  let zero: number | null = null
  let zeroFractions: Float64Array | undefined
  if (d.gated) {
    zero = finite(sums.get('val/zeros/mean')?.lastValue)
    if (zero === null) return { record: null, reason: 'gated run without a validation zero fraction' }
    const z = ctx.store.metrics.series(run.id, 'train/zeros/mean', { maxPoints: 0 })
    zeroFractions = Float64Array.from(z.values, (v) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0))
  }
  try {
    const inf = inferenceFlops(d.model, { estimator, sparsity: zero ?? 0 }).perSequence
    const steps = cfg.training.train_steps
    const train = trainingFlops(d.model, { estimator, batchSize: d.batch, ...(zeroFractions ? { zeroFractions } : { steps }) })
    const { seed: _seed, ...training } = cfg.training
    return {
      record: {
        id: String(run.id),
        kind: run.kind,
        config: { ...d.model },
        seed: run.seed ?? cfg.training.seed,
        valLoss: val.lastValue,
        valTokens: Math.max(1, valTokens),
        dataset,
        tokenizer,
        estimator,
        inferenceFlops: inf,
        trainingFlops: train,
        zeroFraction: d.gated ? zero : null,
        target_end: d.targetEnd,
        training: { training, optimizer: cfg.optimizer, schedule: cfg.schedule, controller: cfg.controller, data: cfg.data },
      },
      reason: null,
    }
  } catch (e) {
    return { record: null, reason: `FLOPs: ${(e as Error).message}` }
  }
}

export function compareExperiment(ctx: Context, q: { experimentId: number; estimator: Estimator; flopsKind: 'inference' | 'training'; level: number }): ComparisonResult {
  if (!ctx.store.experiments.get(q.experimentId)) throw notFound(`experiment ${q.experimentId}`)
  let memo = cache.get(ctx)
  if (!memo) cache.set(ctx, (memo = new Map()))
  const rows = ctx.store.runs.list({ experimentId: q.experimentId, limit: 10_000, summaries: [] }).rows
  const records: Record<string, unknown>[] = []
  const runs: ComparisonResult['runs'] = []
  const skipped: ComparisonResult['skipped'] = []
  for (const row of rows) {
    const key = `${row.id}:${row.updatedAt}:${row.lastStep}:${q.estimator}`
    let b = memo.get(key)
    if (!b) {
      const run = ctx.store.runs.get(row.id)
      if (!run) continue
      b = buildRecord(ctx, run, q.estimator)
      if (row.status === 'completed') memo.set(key, b)
    }
    if (!b.record) {
      skipped.push({ runId: row.id, name: row.name, reason: b.reason ?? 'unknown' })
      continue
    }
    records.push(b.record)
    runs.push({ id: String(row.id), runId: row.id, name: row.name, kind: row.kind, seed: row.seed, targetEnd: ctx.derived(row.id).targetEnd })
  }
  const comparison = compareRuns(records, { estimator: q.estimator, flopsKind: q.flopsKind, level: q.level })
  // plain JSON (no undefined, no class instances) so both transports carry it unchanged
  return { comparison: JSON.parse(JSON.stringify(comparison)), runs, skipped }
}
