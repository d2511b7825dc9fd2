/**
 * The experiment's comparison, exactly as `skipbench compare` makes it: core/sweeps costs each stored run (final
 * evaluation or validation, per-layer zero fractions, training FLOPs over every step, with both estimators) and
 * core/analysis compares them. Costing is cached per run version, so estimator and FLOPs-kind toggles on thousands
 * of runs do not recompute.
 */
import type { ComparisonResult, FlopsKind } from '../contract/api.js'
import { compareRuns, costRun, notCostedReason, recordId, toRunRecord, type CostResult, type RunRecord } from '../analysis/index.js'
import { targetEnd } from '../config/index.js'
import type { Context } from './context.js'
import { notFound } from './errors.js'

const cache = new WeakMap<Context, Map<number, { key: string; cost: CostResult }>>()

export function compareExperiment(ctx: Context, q: { experimentId: number; estimator: 'paper' | 'corrected'; flopsKind: FlopsKind; level: number; runIds?: number[] | undefined; groupBy?: string | undefined }): ComparisonResult {
  if (!ctx.store.experiments.get(q.experimentId)) throw notFound(`experiment ${q.experimentId}`)
  let memo = cache.get(ctx)
  if (!memo) cache.set(ctx, (memo = new Map()))
  const rows = ctx.store.runs.list({ experimentId: q.experimentId, ...(q.runIds ? { ids: q.runIds } : {}), ...(q.groupBy ? { groupBy: q.groupBy } : {}), limit: 10_000, sort: { by: 'id', dir: 'asc' }, summaries: [] }).rows
  const records: RunRecord[] = []
  const runs: ComparisonResult['runs'] = []
  const skipped: ComparisonResult['skipped'] = []
  for (const row of rows) {
    // a new evaluation changes what is compared, so it is part of the version
    const key = `${row.updatedAt}:${row.lastStep}:${row.status}:${ctx.store.evaluations.list(row.id).length}`
    let hit = memo.get(row.id)
    if (!hit || hit.key !== key) {
      hit = { key, cost: costRun(ctx.store, row.id) }
      memo.set(row.id, hit)
    }
    const c = hit.cost
    if (!c.ok) {
      skipped.push({ runId: row.id, name: row.name, reason: c.reasons.join('; ') })
      continue
    }
    records.push(toRunRecord(c.costed, q.estimator))
    runs.push({ id: recordId(c.costed.run), runId: row.id, name: row.name, kind: row.kind, seed: c.costed.config.training.seed, targetEnd: targetEnd(c.costed.config), ...(row.group !== undefined ? { group: row.group } : {}) })
  }
  const comparison = compareRuns(records, { estimator: q.estimator, flopsKind: q.flopsKind, level: q.level })
  // the same reasons as `skipbench compare` (which lists these runs among the exclusions)
  if (skipped.length) comparison.verdict.reasons.push(notCostedReason(skipped.length))
  // plain JSON (no undefined, no class instances) so both transports carry it unchanged
  return { comparison: JSON.parse(JSON.stringify(comparison)), runs, skipped }
}
