/**
 * Hard skipping at evaluation (spec H.13). With gated_attention = "key", a token whose gate g_ℓ is exactly 0
 * (accumulated mask S ≥ 1) leaves block ℓ's residual stream unchanged (A.5) and, as a key, only receives the clamped
 * score log(1e-6) (A.6/H.1): every later token gives it weight ≈ 1e-6·exp(s_ij)/Z, which is the only thing the dense
 * computation does with it. So, for each block, this evaluator
 *
 *   1. computes the gates for all N = B·T tokens exactly as model.forward (the mask matvec is charged for every
 *      token by the FLOPs estimators too),
 *   2. gathers the live tokens (g ≠ 0) and runs the block on them only: norms, projections and FFN on the M live
 *      rows; attention among the live tokens of each sequence, RoPE at their ORIGINAL positions, causal on the
 *      original order (gathering keeps positions increasing, so a causal mask over the gathered index is the causal
 *      mask over original positions), live keys still gated by + log(clamp(g, 1e-6, 1)), skipped keys excluded,
 *   3. scatters the block outputs back; skipped rows are copied bit for bit (exactly what g = 0 does).
 *
 * Per-sequence live counts differ: attention pads each sequence to the largest live count n_max of the layer, with
 * padding AFTER the real tokens, so the causal mask alone keeps padded keys away from real queries; padded query rows
 * are dropped. A layer where every token is live runs model.block itself (bit-identical to the dense pass); a layer
 * where none is live is skipped entirely. Row gathers/scatters are JS row copies on wasm/cpu (see gatherRows: WASM's
 * GatherV2 would cost as much as the skipped matmuls) and tf.gather elsewhere.
 *
 * Difference from the dense pass: only the excluded ~1e-6 attention leak of skipped keys (and float rounding from
 * different matmul shapes), so CE agrees to ~1e-6 relative on sane models.
 *
 * Speed-up: measured as dense model.forward time / hard-skip time (min over repeats, after one warm-up each), and
 * predicted by the `corrected` FLOPs estimator (spec H.6) evaluated with max_seq_len = the batch's seqLen:
 * `predictedSpeedup` uses each sequence's own per-layer live counts (exact for this batch: the key-gated attention
 * term is quadratic in the live count), `predictedSpeedupMean` the batch's per-layer zero fractions through
 * inferenceFlops (what a report computes from logged fractions).
 */
import * as tf from '@tensorflow/tfjs-core'
import { dims, type ModelConfig } from '../../model/config.js'
import type { Batch } from '../engine.js'
import {
  assertHardSkippable,
  checkHardSkipBatch,
  checkRepeats,
  hardSkipFlops,
  HardSkipUnsupportedError,
  liveSet,
  type HardSkipOptions as BaseHardSkipOptions,
  type HardSkipResult,
  type LiveSet,
  timeDenseAndSkip,
} from '../hard-skip.js'
import { crossEntropySum } from './cross-entropy.js'
import type { TfjsEngine } from './engine.js'
import { block, forward, type ModelConstants } from './model.js'
import { embedding, linear, rmsNorm, swiglu } from './ops.js'
import type { LayerParams, ModelParams } from './params.js'

export interface HardSkipOptions extends BaseHardSkipOptions {
  /**
   * how live rows are gathered and scattered: 'js' copies rows of the tensors' data (fast on the CPU-resident wasm
   * and cpu backends), 'tf' uses tf.gather; 'auto' (default) picks 'js' on wasm/cpu, else 'tf'
   */
  rowGather?: 'auto' | 'js' | 'tf'
}
export { HardSkipUnsupportedError, type HardSkipResult }

/** Causal masks (nRep·n, n) per live count n, local to one evaluation. */
class CausalCache {
  private byN = new Map<number, tf.Tensor2D>()
  constructor(private readonly nRep: number) {}
  get(n: number): tf.Tensor2D {
    let c = this.byN.get(n)
    if (!c) {
      const mask = new Float32Array(this.nRep * n * n)
      for (let r = 0; r < this.nRep; r++) for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[(r * n + i) * n + j] = -1e9
      c = tf.keep(tf.tensor2d(mask, [this.nRep * n, n]))
      this.byN.set(n, c)
    }
    return c
  }
  dispose(): void {
    for (const c of this.byN.values()) c.dispose()
    this.byN.clear()
  }
}

/**
 * Rows `idx` of x (R, C) → (idx.length, C). On the CPU-resident backends (wasm, cpu) the rows are copied in JS from
 * the tensor's data: WASM's GatherV2 costs ~50 ns per element (a 512×128 gather takes ~5 ms, as long as a 512×128×128
 * matmul), a row copy ~0.1 ns. Elsewhere tf.gather.
 */
function gatherRows(x: tf.Tensor2D, idx: Int32Array, js: boolean): tf.Tensor2D {
  if (!js) return tf.gather(x, tf.tensor1d(idx, 'int32'))
  const C = x.shape[1]
  const src = x.dataSync() as Float32Array
  const out = new Float32Array(idx.length * C)
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i]! * C, idx[i]! * C + C), i * C)
  return tf.tensor2d(out, [idx.length, C])
}

/** h (N, D) with row rows[m] replaced by row m of y (M, D); the other rows copied bit for bit. */
function scatterRows(h: tf.Tensor2D, y: tf.Tensor2D, ls: LiveSet, js: boolean): tf.Tensor2D {
  if (!js) return tf.gather(tf.concat([h, y], 0), tf.tensor1d(ls.scatter, 'int32'))
  const D = h.shape[1]
  const out = (h.dataSync() as Float32Array).slice()
  const src = y.dataSync() as Float32Array
  for (let m = 0; m < ls.rows.length; m++) out.set(src.subarray(m * D, m * D + D), ls.rows[m]! * D)
  return tf.tensor2d(out, h.shape)
}

/** Interleaved RoPE (as ops.rope) with per-row tables: x, cos, sin (M, C); swap (hd, hd). */
function ropeRows(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, swap: tf.Tensor2D): tf.Tensor2D {
  const hd = swap.shape[0]
  const swapped = tf.reshape(tf.matMul(tf.reshape(x, [-1, hd]) as tf.Tensor2D, swap), x.shape)
  return tf.add(tf.mul(x, cos), tf.mul(swapped, sin))
}

interface SkipContext {
  cfg: ModelConfig
  B: number
  T: number
  consts: ModelConstants
  causal: CausalCache
  /** gather rows in JS (wasm, cpu backends) */
  js: boolean
}

/**
 * Block ℓ on the live tokens only. h (N, D), gLive (M) gates of the live rows (all ≠ 0) → new h (N, D); skipped rows
 * copied unchanged. Mirrors model.block/attention with T replaced by the padded live count.
 */
function sparseBlock(lp: LayerParams, h: tf.Tensor2D, gLive: tf.Tensor1D, ls: LiveSet, ctx: SkipContext): tf.Tensor2D {
  const { cfg, B, T } = ctx
  const { H, Hkv, hd, nRep } = dims(cfg)
  const eps = cfg.norm_eps
  const n = ls.nMax
  const full = ctx.consts.get(T) // RoPE tables over the original positions 0..T−1
  const js = ctx.js
  const x = gatherRows(h, ls.rows, js) // (M, D)
  const xn = rmsNorm(x, lp.preAttnNorm as tf.Tensor1D, eps)
  const q = ropeRows(linear(xn, lp.wq as tf.Tensor2D), gatherRows(full.q.cos, ls.pos, js), gatherRows(full.q.sinSigned, ls.pos, js), full.q.swap) // (M, H·hd)
  const k = ropeRows(linear(xn, lp.wk as tf.Tensor2D), gatherRows(full.k.cos, ls.pos, js), gatherRows(full.k.sinSigned, ls.pos, js), full.k.swap) // (M, Hkv·hd)
  const v = linear(xn, lp.wv as tf.Tensor2D) // (M, Hkv·hd)
  // pad to (B, n, ·): slot (b, i) holds the i-th live token of sequence b; padding after the real tokens
  const qp = gatherRows(q, ls.padded, js)
  const kp = gatherRows(k, ls.padded, js)
  const vp = gatherRows(v, ls.padded, js)
  const qg = tf.reshape(tf.transpose(tf.reshape(qp, [B, n, Hkv, nRep, hd]), [0, 2, 3, 1, 4]), [B * Hkv, nRep * n, hd]) as tf.Tensor3D
  const kT = tf.reshape(tf.transpose(tf.reshape(kp, [B, n, Hkv, hd]), [0, 2, 3, 1]), [B * Hkv, hd, n]) as tf.Tensor3D
  const vg = tf.reshape(tf.transpose(tf.reshape(vp, [B, n, Hkv, hd]), [0, 2, 1, 3]), [B * Hkv, n, hd]) as tf.Tensor3D
  const logg = tf.gather(tf.log(tf.clipByValue(gLive, 1e-6, 1)), tf.tensor1d(ls.padded, 'int32')) // (B·n): key gating of the live keys
  const scores = tf.add(tf.add(tf.reshape(tf.mul(tf.matMul(qg, kT), 1 / Math.sqrt(hd)), [B, Hkv, nRep * n, n]), ctx.causal.get(n)), tf.reshape(logg, [B, 1, 1, n]))
  const probs = tf.reshape(tf.softmax(scores), [B * Hkv, nRep * n, n]) as tf.Tensor3D
  const o = tf.matMul(probs, vg) // (B·Hkv, nRep·n, hd)
  const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, Hkv, nRep, n, hd]), [0, 3, 1, 2, 4]), [B * n, H * hd]) as tf.Tensor2D
  const a = linear(gatherRows(merged, ls.unpadded, js), lp.wo as tf.Tensor2D) // (M, D)
  const gcol = tf.reshape(gLive, [-1, 1])
  const x1: tf.Tensor2D = tf.add(x, tf.mul(rmsNorm(a, lp.postAttnNorm as tf.Tensor1D, eps), gcol))
  const f1 = rmsNorm(x1, lp.preFfnNorm as tf.Tensor1D, eps)
  const f = linear(swiglu(linear(f1, lp.w1 as tf.Tensor2D), linear(f1, lp.w3 as tf.Tensor2D)), lp.w2 as tf.Tensor2D)
  const out: tf.Tensor2D = tf.add(x1, tf.mul(rmsNorm(f, lp.postFfnNorm as tf.Tensor1D, eps), gcol))
  return scatterRows(h, out, ls, js)
}

interface SkipPass {
  ceSum: tf.Scalar
  logits?: tf.Tensor2D
  /** zeros[b][ℓ]: skipped tokens of sequence b in layer ℓ */
  zeros: number[][]
}

/** The hard-skip forward pass. Reads gates back once per first-half layer (dataSync). Call inside tf.tidy. */
function skipForward(p: ModelParams, cfg: ModelConfig, consts: ModelConstants, causal: CausalCache, batch: Batch, dense: boolean, wantLogits: boolean, js: boolean): SkipPass {
  const { L, nMasks } = dims(cfg)
  const { batchSize: B, seqLen: T } = batch
  const eps = cfg.norm_eps
  const ctx: SkipContext = { cfg, B, T, consts, causal, js }
  const zeros = Array.from({ length: B }, () => new Array<number>(L).fill(0))
  // embedding as model.forward (tf.gather), so the fixed costs of both passes match
  let h = rmsNorm(embedding(p.tokEmb as tf.Tensor2D, batch.inputs), p.inputNorm as tf.Tensor1D, eps) // (N, D)
  const S: tf.Tensor1D[] = []
  const gv: Float32Array[] = [] // gate values of the first half, reused mirrored
  for (let l = 0; l < L; l++) {
    const lp = p.layers[l]!
    if (dense) {
      h = block(lp, h, null, { cfg, B, T, consts })
      continue
    }
    let g: tf.Tensor1D
    let vals: Float32Array
    if (l < nMasks) {
      const m = p.masks[l]!
      const s = tf.relu(tf.add(tf.reshape(linear(h, m.w as tf.Tensor2D), [-1]), m.b)) as tf.Tensor1D
      S.push(l === 0 ? s : tf.add(S[l - 1]!, s))
      g = tf.sub(1, tf.clipByValue(S[l]!, 0, 1))
      vals = g.dataSync() as Float32Array
      gv.push(vals)
    } else {
      g = tf.sub(1, tf.clipByValue(S[L - 1 - l]!, 0, 1))
      vals = gv[L - 1 - l]!
    }
    const ls = liveSet(vals, B, T)
    ls.counts.forEach((c, b) => (zeros[b]![l] = T - c))
    const M = ls.rows.length
    if (M === B * T) h = block(lp, h, g, { cfg, B, T, consts }) // nothing to skip: exactly the dense block
    else if (M > 0) h = sparseBlock(lp, h, tf.tensor1d(Float32Array.from(ls.rows, (n) => vals[n]!)), ls, ctx)
    // M = 0: every token skips this block; h passes through
  }
  const hn = rmsNorm(h, p.outputNorm as tf.Tensor1D, eps)
  const out: SkipPass = { ceSum: crossEntropySum(hn, p.output as tf.Tensor2D, batch.targets), zeros }
  if (wantLogits) out.logits = linear(hn, p.output as tf.Tensor2D)
  return out
}

/**
 * Evaluate `batch` with real block skipping (spec H.13) and, for comparison, densely; see the file comment.
 * Refuses (HardSkipUnsupportedError) unless gated_attention = "key".
 */
export async function evalHardSkip(engine: TfjsEngine, batch: Batch, opts: HardSkipOptions = {}): Promise<HardSkipResult> {
  const { config, model, consts, dense } = engine.internals
  assertHardSkippable(config)
  const { V } = dims(config)
  checkHardSkipBatch(batch, V)
  const repeats = opts.repeats ?? 3
  checkRepeats(repeats)
  const gatherMode = opts.rowGather ?? 'auto'
  if (!['auto', 'js', 'tf'].includes(gatherMode)) throw new RangeError(`rowGather must be 'auto', 'js' or 'tf', got ${String(gatherMode)}`)
  const js = gatherMode === 'js' || (gatherMode === 'auto' && ['wasm', 'cpu'].includes(tf.getBackend()))
  const { batchSize: B, seqLen: T } = batch
  const causal = new CausalCache(dims(config).nRep)
  try {
    let zeros: number[][] = []
    const runDense = async () => {
      const ce = tf.tidy(() => forward(model, config, consts, batch.inputs, B, T, { targets: batch.targets, dense }).ceSum!)
      const v = (await ce.data())[0]!
      ce.dispose()
      return v
    }
    const runSkip = async (wantLogits: boolean) => {
      const r = tf.tidy(() => {
        const o = skipForward(model, config, consts, causal, batch, dense, wantLogits, js)
        zeros = o.zeros
        return o.logits ? [o.ceSum, o.logits] : [o.ceSum]
      })
      const v = (await r[0]!.data())[0]!
      const logits = r[1] ? ((await r[1].data()) as Float32Array) : undefined
      tf.dispose(r)
      return { v, logits }
    }
    const denseCeSum = await runDense() // also the warm-up
    const first = await runSkip(opts.returnLogits ?? false)
    const { denseMs, skipMs } = await timeDenseAndSkip(runDense, () => runSkip(false), repeats)

    const result: HardSkipResult = {
      ceSum: first.v,
      denseCeSum,
      tokens: B * T,
      skippedPerSequence: zeros,
      denseMs,
      skipMs,
      measuredSpeedup: denseMs / skipMs,
      ...hardSkipFlops(config, zeros, B, T),
    }
    if (first.logits) result.logits = first.logits
    return result
  } finally {
    causal.dispose()
  }
}
