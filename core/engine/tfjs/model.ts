/**
 * The skip-middle transformer forward pass (spec A.3–A.6, H.1–H.4) in tfjs float32. Tokens are flattened to
 * N = B·T rows so every linear layer is one 2-D matmul.
 *
 * Gates (spec A.4): for ℓ < L/2, s_ℓ = ReLU(h_ℓ·w_ℓ + b_ℓ), S_ℓ = S_{ℓ−1} + s_ℓ, g_ℓ = 1 − clamp(S_ℓ, 0, 1); for
 * ℓ ≥ L/2, g_ℓ = 1 − clamp(S_{L−1−ℓ}, 0, 1). Block (A.5):
 *   x ← x + g ⊙ PostAttnNorm(Attn(PreAttnNorm(x), g));  x ← x + g ⊙ PostFFNNorm(FFN(PreFFNNorm(x))).
 * tfjs' gradient conventions match PyTorch: ReLU'(0) = 0 and clipByValue passes dy on the closed [min, max].
 */
import * as tf from '@tensorflow/tfjs-core'
import { dims, type ModelConfig } from '../../model/config.js'
import { crossEntropySum, crossEntropySumWithGrad } from './cross-entropy.js'
import './gradients.js'
import { bmm, embedding, linear, rmsNorm, rope, swiglu } from './ops.js'
import type { LayerParams, ModelParams } from './params.js'
import { disposeRopeTables, ropeTables, type RopeTables } from './rope-tables.js'

/** Constants per sequence length: RoPE tables for q and k heads and the causal mask. Kept until dispose(). */
export class ModelConstants {
  private byT = new Map<number, { q: RopeTables; k: RopeTables; causal: tf.Tensor2D }>()

  constructor(private readonly cfg: ModelConfig) {}

  get(T: number) {
    let c = this.byT.get(T)
    if (!c) {
      const { H, Hkv, nRep } = dims(this.cfg)
      const mask = new Float32Array(nRep * T * T) // (nRep·T, T): query rows of all heads sharing a kv head
      for (let r = 0; r < nRep; r++) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[(r * T + i) * T + j] = NEG_INF
      c = { q: ropeTables(this.cfg, T, H), k: ropeTables(this.cfg, T, Hkv), causal: tf.keep(tf.tensor2d(mask, [nRep * T, T])) }
      this.byT.set(T, c)
    }
    return c
  }

  dispose(): void {
    for (const c of this.byT.values()) {
      disposeRopeTables(c.q)
      disposeRopeTables(c.k)
      c.causal.dispose()
    }
    this.byT.clear()
  }
}

/** Masked score: finite so no ∞·0 can appear in gradients; exp underflows to exactly 0 in float32. */
const NEG_INF = -1e9

export interface BlockContext {
  cfg: ModelConfig
  B: number
  T: number
  consts: ModelConstants
}

/** Grouped-query causal self-attention with optional gated scores. x (N, D) normed, g (N) or null → (N, D). */
function attention(lp: LayerParams, x: tf.Tensor2D, g: tf.Tensor1D | null, ctx: BlockContext): tf.Tensor2D {
  const { cfg, B, T } = ctx
  const { H, Hkv, hd, nRep } = dims(cfg)
  const c = ctx.consts.get(T)
  const q = rope(tf.reshape(linear(x, lp.wq as tf.Tensor2D), [B, T, H * hd]) as tf.Tensor3D, c.q) // (B, T, H·hd)
  const k = rope(tf.reshape(linear(x, lp.wk as tf.Tensor2D), [B, T, Hkv * hd]) as tf.Tensor3D, c.k) // (B, T, Hkv·hd)
  const v = linear(x, lp.wv as tf.Tensor2D) // (N, Hkv·hd)
  // Query head h = kv·nRep + r uses kv head kv (repeat_kv): group the nRep query heads of one kv head into rows.
  const qg = tf.reshape(tf.transpose(tf.reshape(q, [B, T, Hkv, nRep, hd]), [0, 2, 3, 1, 4]), [B * Hkv, nRep * T, hd]) as tf.Tensor3D // (B·Hkv, nRep·T, hd)
  const kT = tf.reshape(tf.transpose(tf.reshape(k, [B, T, Hkv, hd]), [0, 2, 3, 1]), [B * Hkv, hd, T]) as tf.Tensor3D // (B·Hkv, hd, T)
  const vg = tf.reshape(tf.transpose(tf.reshape(v, [B, T, Hkv, hd]), [0, 2, 1, 3]), [B * Hkv, T, hd]) as tf.Tensor3D // (B·Hkv, T, hd)
  let scores: tf.Tensor = tf.add(
    tf.reshape(tf.mul(bmm(qg, kT), 1 / Math.sqrt(hd)), [B, Hkv, nRep * T, T]), // (B, Hkv, nRep·T, T)
    c.causal,
  )
  if (g && cfg.gated_attention !== 'none') {
    const logg = tf.log(tf.clipByValue(g, 1e-6, 1)) // (N)
    if (cfg.gated_attention === 'key') {
      scores = tf.add(scores, tf.reshape(logg, [B, 1, 1, T])) // + log g[b, j] on key index j
    } else {
      // 'query' (the reference code): + log g[b, i] on query index i — constant per row, a softmax no-op
      scores = tf.reshape(tf.add(tf.reshape(scores, [B, Hkv, nRep, T, T]), tf.reshape(logg, [B, 1, 1, T, 1])), [B, Hkv, nRep * T, T])
    }
  }
  const probs = tf.reshape(tf.softmax(scores), [B * Hkv, nRep * T, T]) as tf.Tensor3D // (B·Hkv, nRep·T, T)
  const o = bmm(probs, vg) // (B·Hkv, nRep·T, hd)
  const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, Hkv, nRep, T, hd]), [0, 3, 1, 2, 4]), [B * T, H * hd]) as tf.Tensor2D // (N, H·hd)
  return linear(merged, lp.wo as tf.Tensor2D)
}

function feedForward(lp: LayerParams, x: tf.Tensor2D): tf.Tensor2D {
  return linear(swiglu(linear(x, lp.w1 as tf.Tensor2D), linear(x, lp.w3 as tf.Tensor2D)), lp.w2 as tf.Tensor2D) // (N, D)
}

/** One block; g (N) is the gate per token, or null for g ≡ 1 (dense). x (N, D) → (N, D). */
export function block(lp: LayerParams, x: tf.Tensor2D, g: tf.Tensor1D | null, ctx: BlockContext): tf.Tensor2D {
  const eps = ctx.cfg.norm_eps
  const gate = (y: tf.Tensor2D): tf.Tensor2D => (g ? tf.mul(y, tf.reshape(g, [-1, 1])) : y) // g broadcast over D
  const a = attention(lp, rmsNorm(x, lp.preAttnNorm as tf.Tensor1D, eps), g, ctx)
  const x1: tf.Tensor2D = tf.add(x, gate(rmsNorm(a, lp.postAttnNorm as tf.Tensor1D, eps)))
  const f = feedForward(lp, rmsNorm(x1, lp.preFfnNorm as tf.Tensor1D, eps))
  return tf.add(x1, gate(rmsNorm(f, lp.postFfnNorm as tf.Tensor1D, eps)))
}

export interface ForwardOptions {
  /** next-token ids (N): compute ceSum */
  targets?: Int32Array
  /** make ceSum differentiable (training) */
  withGrad?: boolean
  /** also return logits (N, V) */
  logits?: boolean
  /** also return every block's output (N, D) */
  hidden?: boolean
  /** g ≡ 1 exactly: skip the gate computation (only valid when every mask weight and bias is 0) */
  dense?: boolean
}

export interface ForwardResult {
  ceSum?: tf.Scalar
  logits?: tf.Tensor2D
  /** (L, N) gates, null when dense */
  gates: tf.Tensor2D | null
  /** (L/2, N) accumulated masks S (pre-clamp), null when dense */
  masks: tf.Tensor2D | null
  /** (L, N) ‖block output‖₂ over D */
  residNorms: tf.Tensor2D
  hidden?: tf.Tensor2D[]
}

/** The whole model on ids (B·T, row-major). Call inside tf.tidy. */
export function forward(p: ModelParams, cfg: ModelConfig, consts: ModelConstants, ids: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ForwardResult {
  const { L, nMasks } = dims(cfg)
  const eps = cfg.norm_eps
  const ctx: BlockContext = { cfg, B, T, consts }
  let h = rmsNorm(embedding(p.tokEmb as tf.Tensor2D, ids), p.inputNorm as tf.Tensor1D, eps) // (N, D)
  const S: tf.Tensor1D[] = [] // accumulated masks, each (N)
  const gates: tf.Tensor1D[] = []
  const norms: tf.Tensor1D[] = []
  const hidden: tf.Tensor2D[] = []
  for (let l = 0; l < L; l++) {
    let g: tf.Tensor1D | null = null
    if (!opts.dense) {
      if (l < nMasks) {
        const m = p.masks[l]!
        const s = tf.relu(tf.add(tf.reshape(linear(h, m.w as tf.Tensor2D), [-1]), m.b)) as tf.Tensor1D // (N)
        S.push(l === 0 ? s : tf.add(S[l - 1]!, s))
        g = tf.sub(1, tf.clipByValue(S[l]!, 0, 1))
      } else {
        g = tf.sub(1, tf.clipByValue(S[L - 1 - l]!, 0, 1))
      }
      gates.push(g)
    }
    h = block(p.layers[l]!, h, g, ctx)
    norms.push(tf.sqrt(tf.sum(tf.square(h), -1)))
    if (opts.hidden) hidden.push(h)
  }
  const hn = rmsNorm(h, p.outputNorm as tf.Tensor1D, eps) // (N, D)
  const out: ForwardResult = {
    gates: opts.dense ? null : tf.stack(gates) as tf.Tensor2D,
    masks: opts.dense || nMasks === 0 ? null : tf.stack(S) as tf.Tensor2D,
    residNorms: tf.stack(norms) as tf.Tensor2D,
  }
  if (opts.targets) {
    if (opts.targets.length !== ids.length) throw new Error(`targets has ${opts.targets.length} ids, inputs ${ids.length}`)
    out.ceSum = opts.withGrad
      ? crossEntropySumWithGrad(hn, p.output as tf.Tensor2D, opts.targets)
      : crossEntropySum(hn, p.output as tf.Tensor2D, opts.targets)
  }
  if (opts.logits) out.logits = linear(hn, p.output as tf.Tensor2D)
  if (opts.hidden) out.hidden = hidden
  return out
}
