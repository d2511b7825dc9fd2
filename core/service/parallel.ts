/**
 * Parallel coordinates of an experiment's runs: the config fields that vary (up to maxConfigAxes, numeric first),
 * then val/loss, train/loss and val/zeros/mean (last values); and each config field's Spearman rank correlation with
 * validation CE. Booleans are 0/1 value axes; strings are category axes (no rank correlation: null).
 */
import type { ParallelAxis, ParallelData } from '../contract/api.js'
import { spearman } from '../analysis/stats.js'
import { flatten } from '../store/diff.js'
import type { Context } from './context.js'
import { notFound } from './errors.js'

const METRICS = ['val/loss', 'train/loss', 'val/zeros/mean']
const PARALLEL_TARGET = 'val/loss'
/** fields that identify rather than configure a run */
const SKIP = new Set(['name'])

export function getParallel(ctx: Context, q: { experimentId: number; where?: string | undefined; maxConfigAxes: number }): ParallelData {
  if (!ctx.store.experiments.get(q.experimentId)) throw notFound(`experiment ${q.experimentId}`)
  const rows = ctx.store.runs.list({ experimentId: q.experimentId, ...(q.where?.trim() ? { where: q.where } : {}), limit: 10_000, sort: { by: 'id', dir: 'asc' }, summaries: METRICS }).rows
  const configs = ctx.store.runs.configs(rows.map((r) => r.id))
  const flats = rows.map((r) => flatten(configs.get(r.id) ?? {}))
  const paths = new Set<string>()
  for (const f of flats) for (const k of f.keys()) if (!SKIP.has(k)) paths.add(k)

  const candidates: { axis: ParallelAxis; col: (number | string | null)[] }[] = []
  for (const path of [...paths].sort()) {
    const raw = flats.map((f) => f.get(path))
    const scalars = raw.map((v) => (v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean)))
    const distinct = new Set(scalars.map((v) => JSON.stringify(v)))
    if (distinct.size < 2) continue
    const numeric = scalars.every((v) => v === null || typeof v === 'number' || typeof v === 'boolean')
    if (numeric) candidates.push({ axis: { path, source: 'config', type: 'value' }, col: scalars.map((v) => (v === null ? null : typeof v === 'boolean' ? (v ? 1 : 0) : (v as number))) })
    else {
      const col = scalars.map((v) => (v === null ? null : String(v)))
      const categories = [...new Set(col.filter((v): v is string => v !== null))].sort()
      candidates.push({ axis: { path, source: 'config', type: 'category', categories }, col })
    }
  }
  const target = rows.map((r) => r.summaries[PARALLEL_TARGET]?.last ?? NaN).map((v) => (v === null ? NaN : v))
  const association = candidates.map((c) => {
    if (c.axis.type !== 'value') return { path: c.axis.path, rho: null, n: 0 }
    const s = spearman(c.col.map((v) => (v === null ? NaN : (v as number))), target)
    return { path: c.axis.path, rho: s.rho, n: s.n }
  })
  const strength = (r: number | null | undefined) => (r === null || r === undefined ? -1 : Math.abs(r))
  association.sort((a, b) => strength(b.rho) - strength(a.rho))
  // axes: numeric config fields by the strength of their association with val CE, then categories, then metrics
  const rank = new Map(association.map((a, i) => [a.path, i]))
  const byStrength = [...candidates].sort((a, b) => (a.axis.type === b.axis.type ? rank.get(a.axis.path)! - rank.get(b.axis.path)! : a.axis.type === 'value' ? -1 : 1))
  const chosen = byStrength.slice(0, q.maxConfigAxes)
  const metricCols = METRICS.map((k) => ({
    axis: { path: k, source: 'metric' as const, type: 'value' as const },
    col: rows.map((r) => {
      const v = r.summaries[k]?.last
      return v === null || v === undefined || !Number.isFinite(v) ? null : v
    }),
  })).filter((m) => m.col.some((v) => v !== null))
  const all = [...chosen, ...metricCols]
  return {
    runs: rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind })),
    axes: all.map((a) => a.axis),
    values: rows.map((_, i) => all.map((a) => a.col[i] ?? null)),
    association,
    target: PARALLEL_TARGET,
  }
}
