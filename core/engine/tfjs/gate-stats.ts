/**
 * The controller's differentiable loss on one micro-batch's gates, and the GateMetrics moments (spec B.7, C;
 * semantics in core/engine/engine.ts).
 */
import * as tf from '@tensorflow/tfjs-core'
import type { ControllerLoss, GateMoments, Moments } from '../engine.js'
import './gradients.js'

/** ‖x‖₂ with gradient x/‖x‖ and 0 at x = 0 (PyTorch's norm subgradient; tfjs' sqrt would give NaN there). */
const safeNorm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc]
  const n = tf.sqrt(tf.sum(tf.square(x)))
  save([x, n])
  return {
    value: n,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ns] = saved as [tf.Tensor, tf.Tensor]
      return [tf.mul(tf.where(tf.greater(ns, 0), tf.div(xs, tf.maximum(ns, 1e-30)), tf.zerosLike(xs)), dy)]
    },
  }
}) as (x: tf.Tensor1D) => tf.Scalar

/**
 * gates (L, N) of one micro-batch → scalar controller loss, or null for kind 'none'.
 * m̂_ℓ = mean over tokens, v̂_ℓ = unbiased variance over tokens (torch.var default).
 */
export function controllerLoss(gates: tf.Tensor2D, c: ControllerLoss): tf.Scalar | null {
  if (c.kind === 'none') return null
  const [L, N] = gates.shape
  const m = tf.mean(gates, 1) // (L)
  const v = tf.div(tf.sum(tf.square(tf.sub(gates, tf.reshape(m, [L, 1]))), 1), N - 1) // (L), unbiased
  if (c.kind === 'linear') {
    check(c.meanCoefs.length, L, 'meanCoefs')
    check(c.varCoefs.length, L, 'varCoefs')
    const cm = tf.tensor1d(Float32Array.from(c.meanCoefs))
    const cv = tf.tensor1d(Float32Array.from(c.varCoefs))
    return tf.add(tf.mean(tf.mul(cm, m)), tf.mean(tf.mul(cv, v))) as tf.Scalar
  }
  check(c.meanTargets.length, L, 'meanTargets')
  check(c.varTargets.length, L, 'varTargets')
  const dm = tf.sub(m, tf.tensor1d(c.meanTargets)) as tf.Tensor1D
  const dv = tf.sub(v, tf.tensor1d(c.varTargets)) as tf.Tensor1D
  return tf.add(tf.mul(safeNorm(dm), c.meanCoef), tf.mul(safeNorm(dv), c.varCoef)) as tf.Scalar
}

function check(got: number, L: number, what: string) {
  if (got !== L) throw new Error(`controller ${what} has ${got} values; the model has ${L} layers`)
}

/**
 * Per-layer mean and mean of squares over tokens, stacked into one (8, L) tensor so a single download serves all:
 * rows = masks mean/sq (first L/2 columns used), gates mean/sq, zeros mean/sq, resid mean/sq.
 * zeros = 1[|g| < 1e-8] (--gates_zero_eps).
 */
export function momentRows(gates: tf.Tensor2D, masks: tf.Tensor2D, resid: tf.Tensor2D): tf.Tensor2D {
  const L = gates.shape[0]
  const pad = (x: tf.Tensor1D) => (x.shape[0] === L ? x : tf.pad(x, [[0, L - x.shape[0]]]))
  const zeros = tf.cast(tf.less(tf.abs(gates), 1e-8), 'float32') as tf.Tensor2D
  const rows: tf.Tensor1D[] = []
  for (const x of [masks, gates, zeros, resid]) rows.push(pad(tf.mean(x, 1)), pad(tf.mean(tf.square(x), 1)))
  return tf.stack(rows) as tf.Tensor2D // (8, L)
}

/** Accumulates moment rows (downloaded) over micro-batches; `result()` averages them (GateMoments.count). */
export class MomentAccumulator {
  private sum: Float64Array | null = null
  private count = 0

  constructor(
    private readonly L: number,
    private readonly nMasks: number,
  ) {}

  add(rows: Float32Array | Float64Array): void {
    if (!this.sum) this.sum = new Float64Array(rows.length)
    for (let i = 0; i < rows.length; i++) this.sum[i]! += rows[i]!
    this.count++
  }

  result(): GateMoments | null {
    if (!this.sum) return null
    const L = this.L
    const row = (r: number, n: number) => {
      const a = new Float64Array(n)
      for (let i = 0; i < n; i++) a[i] = this.sum![r * L + i]! / this.count
      return a
    }
    const moments = (r: number, n: number): Moments => ({ mean: row(r, n), meanSq: row(r + 1, n) })
    return { masks: moments(0, this.nMasks), gates: moments(2, L), zeros: moments(4, L), resid: moments(6, L), count: this.count }
  }
}
