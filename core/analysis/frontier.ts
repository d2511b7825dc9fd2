/**
 * The dense frontier: the non-dominated set of (FLOPs, cross-entropy) points, lower is better on both axes,
 * and piecewise-linear interpolation between its points in log10 FLOPs.
 *
 * - A point is dominated when another has FLOPs ≤ and loss ≤ with at least one strict; a point with the same
 *   FLOPs and the same loss as a frontier point is a tie and is merged into it (its ids are appended).
 * - After that, frontier losses are strictly decreasing in FLOPs, so the frontier is invertible: the FLOPs at
 *   which the dense frontier reaches a given loss is unique.
 * - Extrapolation policy: outside the frontier's FLOPs range (or loss range, for the inverse) nothing is
 *   extrapolated. The value is null and `extrapolated` says on which side ('below': fewer FLOPs than the cheapest
 *   frontier point, i.e. a loss above its highest loss; 'above': more FLOPs than the costliest, i.e. a loss below
 *   its lowest). A single-point frontier therefore answers only at that point.
 * - FLOPs must be finite and > 0 (log axis); anything else throws a RangeError that names the value.
 */

export interface FrontierInput {
  flops: number
  loss: number
  /** Run ids behind this point (several for a seed group or merged ties). */
  ids: readonly string[]
  /** Optional human-readable label (e.g. the seed group's); a merged tie keeps the first. */
  label?: string
}

export interface FrontierPoint {
  flops: number
  log10Flops: number
  loss: number
  ids: string[]
  label?: string
}

export interface Frontier {
  /** Sorted by FLOPs ascending; loss strictly decreasing. */
  points: FrontierPoint[]
  /** Inputs that are not on the frontier, with the frontier point that dominates each. */
  dominated: { flops: number; loss: number; ids: string[]; dominatedBy: string[] }[]
}

export type Extrapolation = 'below' | 'above'

/** Tolerance on log10 FLOPs when deciding whether a point lies at a frontier end (≈ 2e-12 relative). */
const LOG10_FLOPS_TOLERANCE = 1e-12
/** Tolerance on loss (nats) when deciding whether a loss lies at a frontier end. */
const LOSS_TOLERANCE = 1e-12

/** log10 of a FLOPs value, rejecting what a log axis cannot show. */
function log10Flops(flops: number, what = 'FLOPs'): number {
  if (typeof flops !== 'number' || !Number.isFinite(flops) || flops <= 0)
    throw new RangeError(`${what} must be a finite number > 0 to sit on a log axis, got ${String(flops)}`)
  return Math.log10(flops)
}

/** The non-dominated set of the inputs (lower FLOPs and lower loss are better). */
export function paretoFrontier(inputs: readonly FrontierInput[]): Frontier {
  const pts = inputs.map((p, i) => {
    const x = log10Flops(p.flops, `FLOPs of frontier input ${p.ids[0] ?? i}`)
    if (typeof p.loss !== 'number' || !Number.isFinite(p.loss))
      throw new RangeError(`loss of frontier input ${p.ids[0] ?? i} must be finite, got ${String(p.loss)}`)
    const q: FrontierPoint = { flops: p.flops, log10Flops: x, loss: p.loss, ids: [...p.ids] }
    if (p.label !== undefined) q.label = p.label
    return q
  })
  pts.sort((a, b) => a.flops - b.flops || a.loss - b.loss)
  const points: FrontierPoint[] = []
  const dominated: Frontier['dominated'] = []
  for (const p of pts) {
    const last = points[points.length - 1]
    if (last && p.flops === last.flops && p.loss === last.loss) last.ids.push(...p.ids) // tie: merge
    else if (!last || p.loss < last.loss) points.push(p)
    else dominated.push({ flops: p.flops, loss: p.loss, ids: p.ids, dominatedBy: [...last.ids] })
  }
  return { points, dominated }
}

function requirePoints(f: Frontier | readonly FrontierPoint[]): readonly FrontierPoint[] {
  const pts = Array.isArray(f) ? (f as readonly FrontierPoint[]) : (f as Frontier).points
  if (pts.length === 0) throw new RangeError('the dense frontier is empty: no dense runs to compare against')
  return pts
}

export interface LossAtFlops {
  /** Frontier loss at these FLOPs; null when outside the frontier's FLOPs range. */
  loss: number | null
  extrapolated: Extrapolation | null
}

/** The frontier's loss at the given FLOPs, linear in log10 FLOPs between neighbouring points. */
export function frontierLossAt(frontier: Frontier | readonly FrontierPoint[], flops: number): LossAtFlops {
  const pts = requirePoints(frontier)
  const x = log10Flops(flops)
  const first = pts[0]!
  const last = pts[pts.length - 1]!
  if (x < first.log10Flops - LOG10_FLOPS_TOLERANCE) return { loss: null, extrapolated: 'below' }
  if (x > last.log10Flops + LOG10_FLOPS_TOLERANCE) return { loss: null, extrapolated: 'above' }
  if (x <= first.log10Flops) return { loss: first.loss, extrapolated: null }
  if (x >= last.log10Flops) return { loss: last.loss, extrapolated: null }
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!
    const b = pts[i + 1]!
    if (x <= b.log10Flops) {
      const w = (x - a.log10Flops) / (b.log10Flops - a.log10Flops)
      return { loss: a.loss + w * (b.loss - a.loss), extrapolated: null }
    }
  }
  return { loss: last.loss, extrapolated: null } // unreachable: x ≤ last.log10Flops
}

export interface FlopsAtLoss {
  /** FLOPs at which the frontier reaches this loss; null when outside the frontier's loss range. */
  flops: number | null
  log10Flops: number | null
  extrapolated: Extrapolation | null
}

/** Inverse interpolation: the FLOPs (linear in log10) at which the frontier's loss equals `loss`. */
export function frontierFlopsAt(frontier: Frontier | readonly FrontierPoint[], loss: number): FlopsAtLoss {
  const pts = requirePoints(frontier)
  if (typeof loss !== 'number' || !Number.isFinite(loss)) throw new RangeError(`loss must be finite, got ${String(loss)}`)
  const first = pts[0]! // highest loss, fewest FLOPs
  const last = pts[pts.length - 1]! // lowest loss, most FLOPs
  const at = (p: FrontierPoint): FlopsAtLoss => ({ flops: p.flops, log10Flops: p.log10Flops, extrapolated: null })
  if (loss > first.loss + LOSS_TOLERANCE) return { flops: null, log10Flops: null, extrapolated: 'below' }
  if (loss < last.loss - LOSS_TOLERANCE) return { flops: null, log10Flops: null, extrapolated: 'above' }
  if (loss >= first.loss) return at(first)
  if (loss <= last.loss) return at(last)
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!
    const b = pts[i + 1]!
    if (loss === a.loss) return at(a)
    if (loss === b.loss) return at(b)
    if (loss > b.loss) {
      const w = (a.loss - loss) / (a.loss - b.loss) // a.loss > b.loss strictly
      const x = a.log10Flops + w * (b.log10Flops - a.log10Flops)
      return { flops: 10 ** x, log10Flops: x, extrapolated: null }
    }
  }
  return at(last) // unreachable
}
