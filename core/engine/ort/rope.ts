/**
 * Rotary position embedding tables (spec A.3), interleaved Llama pairing: dims (2k, 2k+1) of a head rotate by
 * t·f_k with f_k = θ^(−2k/hd), optionally with Llama-3.1 frequency scaling (rope.py:6-27). Computed in float64.
 *
 * The graph applies RoPE as y = x ⊙ C + swapPairs(x) ⊙ S with per-dimension tables
 *   C[t, 2k] = C[t, 2k+1] = cos(t f_k),   S[t, 2k] = −sin(t f_k),   S[t, 2k+1] = +sin(t f_k),
 * which is (x_{2k} + i x_{2k+1}) · e^{i t f_k} written out. Frequencies: core/model/rope.ts.
 */
import { ropeFrequencies } from '../../model/rope.js'

export interface RopeConfig {
  headDim: number
  theta: number
  scaled: boolean
}

/** Tables C and S, each (T, hd) row-major, for positions 0..T−1, multiplied by `scale` (folds 1/√hd into q). */
export function ropeTables(c: RopeConfig, T: number, scale = 1): { cos: Float64Array; sin: Float64Array } {
  const hd = c.headDim
  const f = ropeFrequencies(c.headDim, c.theta, c.scaled)
  const cos = new Float64Array(T * hd)
  const sin = new Float64Array(T * hd)
  for (let t = 0; t < T; t++)
    for (let k = 0; k < hd / 2; k++) {
      const a = t * f[k]!
      const cs = Math.cos(a) * scale
      const sn = Math.sin(a) * scale
      cos[t * hd + 2 * k] = cs
      cos[t * hd + 2 * k + 1] = cs
      sin[t * hd + 2 * k] = -sn
      sin[t * hd + 2 * k + 1] = sn
    }
  return { cos, sin }
}

/** The index permutation that swaps each pair (2k, 2k+1). It is its own inverse. */
export function pairSwap(hd: number): number[] {
  return Array.from({ length: hd }, (_, i) => i ^ 1)
}
