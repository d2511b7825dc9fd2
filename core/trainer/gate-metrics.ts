/**
 * Gate metrics (spec B.7, reference projects/skip_middle/gate_metrics.py): per-layer first and second moments of the
 * accumulated masks S (L/2 layers), the gates g, the zero indicators 1[|g| < zero_eps] and the block-output L2 norms
 * (L layers each), accumulated over the micro-batches of a step or over all validation batches, then
 * var = E[x²] − E[x]² (population variance of the pooled moments) and std = √var.
 */
import type { GateMoments, Moments } from '../engine/engine.js'

const GATE_METRIC_NAMES = ['masks', 'gates', 'zeros', 'resid_l2_norm'] as const
export type GateMetricName = (typeof GATE_METRIC_NAMES)[number]

/** Per-layer statistics of one quantity. */
export interface LayerStats {
  mean: number[]
  var: number[]
  std: number[]
}

export type GateMetrics = Record<GateMetricName, LayerStats>

const KEY: Record<GateMetricName, keyof Omit<GateMoments, 'count'>> = {
  masks: 'masks',
  gates: 'gates',
  zeros: 'zeros',
  resid_l2_norm: 'resid',
}

function stats(m: Moments, div = 1): LayerStats {
  const mean = Array.from(m.mean, (x) => x / div)
  const v = Array.from(m.meanSq, (x, i) => x / div - mean[i]! ** 2)
  // std of a variance that rounding pushed a hair below 0 is 0, not NaN (the reference would give NaN there)
  return { mean, var: v, std: v.map((x) => Math.sqrt(Math.max(0, x))) }
}

/** compute() for moments that are already averaged (what Engine.trainStep returns). */
export function computeGateMetrics(m: GateMoments): GateMetrics {
  return {
    masks: stats(m.masks),
    gates: stats(m.gates),
    zeros: stats(m.zeros),
    resid_l2_norm: stats(m.resid),
  }
}

/**
 * Accumulates averaged moments from several steps/batches. `weight` defaults to the moments' batch count (the
 * reference weights every batch equally); validation passes the token count so a last partial batch counts for
 * exactly its tokens.
 */
export class GateMetricsAccumulator {
  private sums: Record<GateMetricName, Moments> | null = null
  private total = 0

  add(m: GateMoments, weight: number = m.count): void {
    if (!this.sums) {
      const z = (mm: Moments): Moments => ({ mean: new Float64Array(mm.mean.length), meanSq: new Float64Array(mm.meanSq.length) })
      this.sums = { masks: z(m.masks), gates: z(m.gates), zeros: z(m.zeros), resid_l2_norm: z(m.resid) }
    }
    for (const name of GATE_METRIC_NAMES) {
      const src = m[KEY[name]] as Moments
      const dst = this.sums[name]
      if (src.mean.length !== dst.mean.length) throw new Error(`gate moments for ${name}: ${src.mean.length} layers, expected ${dst.mean.length}`)
      for (let i = 0; i < dst.mean.length; i++) {
        dst.mean[i]! += src.mean[i]! * weight
        dst.meanSq[i]! += src.meanSq[i]! * weight
      }
    }
    this.total += weight
  }

  get empty(): boolean {
    return this.sums === null
  }

  compute(): GateMetrics | null {
    if (!this.sums || this.total === 0) return null
    const s = this.sums
    return {
      masks: stats(s.masks, this.total),
      gates: stats(s.gates, this.total),
      zeros: stats(s.zeros, this.total),
      resid_l2_norm: stats(s.resid_l2_norm, this.total),
    }
  }
}

const avg = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0)
export const layerKey = (i: number) => `layer_${String(i).padStart(2, '0')}`

/**
 * The reference's to_dict: `{prefix}{name}/{mean,var,std}` averaged over layers, plus `/layer_XX` per layer
 * (masks over the first L/2 layers only).
 */
export function gateMetricsToDict(g: GateMetrics, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of GATE_METRIC_NAMES) {
    const s = g[name]
    for (const k of ['mean', 'var', 'std'] as const) out[`${prefix}${name}/${k}`] = avg(s[k])
  }
  for (const name of GATE_METRIC_NAMES) {
    const s = g[name]
    for (let i = 0; i < s.mean.length; i++)
      for (const k of ['mean', 'var', 'std'] as const) out[`${prefix}${name}/${k}/${layerKey(i)}`] = s[k][i]!
  }
  return out
}
