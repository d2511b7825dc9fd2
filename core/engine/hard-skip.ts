/**
 * Hard skipping at evaluation (spec H.13), the engine-neutral part: the result shape, the refusal for models whose
 * skipped tokens are still attended to, the per-layer live sets of a batch, and the FLOPs-predicted speed-up.
 * The evaluators are engine-specific: core/engine/ort/hard-skip.ts (default engine) and core/engine/tfjs/hard-skip.ts.
 */
import { correctedForwardFlops, inferenceFlops } from '../flops/index.js'
import { dims, type ModelConfig } from '../model/config.js'
import type { Batch } from './engine.js'
import { UserError } from '../user-errors.js'

export interface HardSkipOptions {
  /** timed runs of each pass after one warm-up each (default 3); the minimum is reported. 0: no timing (ms = NaN) */
  repeats?: number
  /** also return the hard-skip logits (N, V) */
  returnLogits?: boolean
}

export interface HardSkipResult {
  /** Σ CE of the hard-skip pass over the batch's tokens */
  ceSum: number
  /** Σ CE of the dense pass (the engine's own evaluation) */
  denseCeSum: number
  tokens: number
  /** fraction of (token, layer) pairs skipped: the mean of `layerZeroFractions` */
  zeroFraction: number
  /** per layer: fraction of the B·T tokens whose gate is exactly 0 */
  layerZeroFractions: number[]
  /** [b][ℓ]: tokens of sequence b skipped by block ℓ */
  skippedPerSequence: number[][]
  /** wall-clock ms of one dense forward pass with CE (min over repeats) */
  denseMs: number
  /** wall-clock ms of one hard-skip forward pass with CE (min over repeats; includes the per-layer gate read-backs) */
  skipMs: number
  /** denseMs / skipMs */
  measuredSpeedup: number
  /** corrected forward FLOPs dense / hard-skip, from each sequence's per-layer live counts (exact for this batch) */
  predictedSpeedup: number
  /** corrected forward FLOPs ratio from the batch's per-layer zero fractions (inferenceFlops, independence assumption) */
  predictedSpeedupMean: number
  denseFlops: number
  skipFlops: number
  /** hard-skip logits (N, V), when asked */
  logits?: Float32Array
}

export class HardSkipUnsupportedError extends UserError {
  override name = 'HardSkipUnsupportedError'
}

export function assertHardSkippable(config: ModelConfig): void {
  if (config.gated_attention !== 'key')
    throw new HardSkipUnsupportedError(
      `hard skipping is exact only with gated_attention "key"; this model has "${config.gated_attention}": later tokens still ` +
        'attend to a skipped token\'s key and value, so its block cannot be skipped (spec A.6, H.1, H.13)',
    )
}

export function checkHardSkipBatch(b: Batch, V: number): void {
  const n = b.batchSize * b.seqLen
  if (!(b.batchSize > 0 && b.seqLen > 0)) throw new Error(`batch needs batchSize and seqLen ≥ 1, got ${b.batchSize}×${b.seqLen}`)
  if (b.inputs.length !== n || b.targets.length !== n)
    throw new Error(`batch ${b.batchSize}×${b.seqLen} needs ${n} inputs and targets, got ${b.inputs.length} and ${b.targets.length}`)
  for (const ids of [b.inputs, b.targets])
    for (let i = 0; i < n; i++) if (!(ids[i]! >= 0 && ids[i]! < V)) throw new Error(`token id ${ids[i]} at position ${i} is outside the vocabulary [0, ${V})`)
}

export function checkRepeats(repeats: number): void {
  if (!(Number.isInteger(repeats) && repeats >= 0)) throw new RangeError(`repeats must be a non-negative integer, got ${repeats}`)
}

/** Index bookkeeping of one layer's live tokens (gate ≠ 0). */
export interface LiveSet {
  /** M flat row indices (b·T + t) of the live tokens, sequence by sequence, t increasing */
  rows: Int32Array
  /** M original positions t */
  pos: Int32Array
  /** B·nMax: row in the live set (0..M−1) of padded slot (b, i); padding points at row 0 */
  padded: Int32Array
  /** M: padded slot b·nMax + i of each live row */
  unpadded: Int32Array
  /** N: n for a skipped row, N + (its index in the live set) for a live one (gather from concat([h, out])) */
  scatter: Int32Array
  nMax: number
  /** live count per sequence */
  counts: number[]
}

export function liveSet(g: ArrayLike<number>, B: number, T: number): LiveSet {
  const N = B * T
  const counts: number[] = []
  let M = 0
  for (let b = 0; b < B; b++) {
    let n = 0
    for (let t = 0; t < T; t++) if (g[b * T + t] !== 0) n++
    counts.push(n)
    M += n
  }
  const nMax = Math.max(...counts)
  const rows = new Int32Array(M)
  const pos = new Int32Array(M)
  const padded = new Int32Array(B * nMax)
  const unpadded = new Int32Array(M)
  const scatter = new Int32Array(N)
  let m = 0
  for (let b = 0; b < B; b++) {
    let i = 0
    for (let t = 0; t < T; t++) {
      const n = b * T + t
      if (g[n] !== 0) {
        rows[m] = n
        pos[m] = t
        padded[b * nMax + i] = m
        unpadded[m] = b * nMax + i
        scatter[n] = N + m
        m++
        i++
      } else scatter[n] = n
    }
  }
  return { rows, pos, padded, unpadded, scatter, nMax, counts }
}

/**
 * The FLOPs side of a hard-skip result: `zeros[b][ℓ]` skipped tokens of sequence b in layer ℓ, for a batch of B
 * sequences of T tokens. Corrected estimator (spec H.6) with max_seq_len = T.
 */
export function hardSkipFlops(config: ModelConfig, zeros: number[][], B: number, T: number) {
  const { L } = dims(config)
  const layerZeroFractions = Array.from({ length: L }, (_, l) => zeros.reduce((a, z) => a + z[l]!, 0) / (B * T))
  const zeroFraction = layerZeroFractions.reduce((a, b) => a + b, 0) / L
  const cfgT: ModelConfig = { ...config, max_seq_len: T } // the estimators count one sequence of max_seq_len tokens
  const denseFlops = B * correctedForwardFlops(cfgT, new Array<number>(L).fill(0))
  const skipFlops = zeros.reduce((a, z) => a + correctedForwardFlops(cfgT, z.map((c) => c / T)), 0)
  const meanSparse = inferenceFlops(cfgT, { estimator: 'corrected', sparsity: layerZeroFractions }).perSequence
  const meanDense = inferenceFlops(cfgT, { estimator: 'corrected', sparsity: 0 }).perSequence
  return {
    layerZeroFractions,
    zeroFraction,
    denseFlops,
    skipFlops,
    predictedSpeedup: denseFlops / skipFlops,
    predictedSpeedupMean: meanDense / meanSparse,
  }
}

/** Times the dense and the hard-skip pass side by side: `repeats` rounds, each running dense then skip, keeping the
 * fastest of each (ms). Alternating makes both see the same load. repeats = 0: no timing (both NaN). */
export async function timeDenseAndSkip(
  runDense: () => Promise<unknown>,
  runSkip: () => Promise<unknown>,
  repeats: number,
  afterRound?: () => void,
): Promise<{ denseMs: number; skipMs: number }> {
  if (repeats === 0) return { denseMs: NaN, skipMs: NaN }
  let denseMs = Infinity
  let skipMs = Infinity
  for (let i = 0; i < repeats; i++) {
    let t0 = performance.now()
    await runDense()
    denseMs = Math.min(denseMs, performance.now() - t0)
    t0 = performance.now()
    await runSkip()
    skipMs = Math.min(skipMs, performance.now() - t0)
    afterRound?.()
  }
  return { denseMs, skipMs }
}
