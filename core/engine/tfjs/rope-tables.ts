/**
 * The per-position RoPE tables used by ops.rope (frequencies from core/model/rope.ts). Angles are computed in float64
 * and rounded once to float32.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { ModelConfig } from '../../model/config.js'
import { ropeFrequencies } from '../../model/rope.js'

export interface RopeTables {
  /** (T, heads·hd): cos(t·f_k) at both members of pair k of every head */
  cos: tf.Tensor2D
  /** (T, heads·hd): −sin(t·f_k) at member 2k, +sin(t·f_k) at member 2k+1 */
  sinSigned: tf.Tensor2D
  /** (hd, hd) permutation exchanging members 2k and 2k+1 (symmetric) */
  swap: tf.Tensor2D
}

/** Tables for T positions and `heads` heads of size hd (kept: the caller disposes them with disposeRopeTables). */
export function ropeTables(cfg: ModelConfig, T: number, heads: number): RopeTables {
  const hd = cfg.dim / cfg.n_heads
  const f = ropeFrequencies(hd, cfg.rope_theta, cfg.use_scaled_rope)
  const C = heads * hd
  const cos = new Float32Array(T * C)
  const sin = new Float32Array(T * C)
  for (let t = 0; t < T; t++)
    for (let h = 0; h < heads; h++)
      for (let k = 0; k < hd / 2; k++) {
        const a = t * f[k]!
        const i = t * C + h * hd + 2 * k
        cos[i] = cos[i + 1] = Math.cos(a)
        sin[i] = -Math.sin(a)
        sin[i + 1] = Math.sin(a)
      }
  const swap = new Float32Array(hd * hd)
  for (let i = 0; i < hd; i++) swap[i * hd + (i ^ 1)] = 1
  return { cos: tf.keep(tf.tensor2d(cos, [T, C])), sinSigned: tf.keep(tf.tensor2d(sin, [T, C])), swap: tf.keep(tf.tensor2d(swap, [hd, hd])) }
}

export function disposeRopeTables(t: RopeTables): void {
  tf.dispose([t.cos, t.sinSigned, t.swap])
}
