/**
 * The skip-middle transformer forward pass (spec A.3–A.6) as IR nodes, shared by the evaluation, training and
 * export graphs. The residual stream is kept 2-D, (N, D) with N = B·T, so every linear layer is one Gemm with
 * transB (weights stay in PyTorch's (out, in) layout, no transposes).
 *
 * Gates: with `withGates`, the mask linears, accumulated masks S and gates g = 1 − clamp(S, 0, 1) are computed
 * exactly as the reference (also for dense baselines, whose zero masks give g ≡ 1). Without it the gate is the
 * constant 1 and every gate product is omitted — exactly equal when every mask parameter is zero
 * (ReLU(0) = 0 ⇒ g = 1, x·1 = x, log 1 = 0; the mask gradients are then exactly zero).
 */
import { dims, type ModelConfig } from '../../model/config.js'
import type { Graph, Value } from './ir.js'
import { pairSwap, ropeTables } from './rope.js'

export interface ForwardOptions {
  batch: number
  seqLen: number
  withGates: boolean
  /**
   * How RMSNorm is written: 'standard' = the ONNX op pattern onnxruntime fuses into its RMSNorm kernel (eval,
   * export); 'fused' = that kernel directly, with its inverse-rms output for the hand-written backward (training).
   */
  norm?: 'standard' | 'fused'
  /**
   * Dynamic sequence axis (export): `seqLen` is a placeholder whose run-time size is registered in
   * `g.dynamicSizes`; the position tables and the causal mask are stored for max_seq_len positions and sliced.
   */
  dynamicSeq?: boolean
}

export interface ForwardResult {
  /** output-normed final hidden state (N, D) */
  hn: Value
  /** gates of every layer (L, N), mirrored; null without gates */
  gates: Value | null
  /** accumulated pre-clamp masks (L/2, N); null without gates or when L < 2 */
  masks: Value | null
  /** block outputs' squared L2 norms over D, (L, N) */
  residSq: Value
}

/** Parameter lookup: graph inputs (training/eval) or constants (export). */
export type ParamLookup = (name: string) => Value

/** RMSNorm over the last axis, y = x / √(mean(x²) + eps) · w (spec A.3). */
export function rmsNorm(g: Graph, x: Value, w: Value, eps: number, form: 'standard' | 'fused' = 'standard'): Value {
  if (form === 'fused') return g.rmsNormFused(x, w, eps)
  // exactly the pattern of onnxruntime's SimplifiedLayerNormFusion: Pow → ReduceMean → Add → Sqrt → Div → Mul
  return g.mul(g.div(x, g.sqrt(g.add(g.reduceMean(g.pow(x, 2), [-1], true), eps))), w)
}

export function buildForward(g: Graph, cfg: ModelConfig, P: ParamLookup, tokens: Value, o: ForwardOptions): ForwardResult {
  const { L, H, Hkv, hd, nRep, nMasks } = dims(cfg)
  const B = o.batch
  const T = o.seqLen
  const N = B * T
  const eps = cfg.norm_eps
  const norm = (x: Value, w: string) => rmsNorm(g, x, P(w), eps, o.norm ?? 'standard')

  // position-indexed constants: T rows, or max_seq_len rows sliced to the run-time T on a dynamic sequence axis
  const Tc = o.dynamicSeq ? cfg.max_seq_len : T
  const Trun = o.dynamicSeq ? g.dynamicSizes.get(T) : undefined
  if (o.dynamicSeq && !Trun) throw new Error('buildForward: dynamicSeq needs the run-time size of the sequence axis')
  const sliceT = (v: Value, axes: number[], shape: number[]) => (Trun ? g.sliceTo(v, axes, g.concat(axes.map(() => Trun), 0), shape) : v)

  // RoPE tables (T, 1, hd) broadcasting over heads; 1/√hd folded into q's tables.
  const rope = { headDim: hd, theta: cfg.rope_theta, scaled: cfg.use_scaled_rope }
  const qt = ropeTables(rope, Tc, 1 / Math.sqrt(hd))
  const kt = ropeTables(rope, Tc, 1)
  const tbl = (a: Float64Array) => sliceT(g.constant(g.floatType === 'float32' ? Float32Array.from(a) : a, [Tc, 1, hd]), [0], [T, 1, hd])
  const qCos = tbl(qt.cos)
  const qSin = tbl(qt.sin)
  const kCos = tbl(kt.cos)
  const kSin = tbl(kt.sin)
  // swapping each pair (2k, 2k+1) as a product with a constant (hd, hd) permutation matrix: one small sgemm,
  // much faster than a Gather along the last axis on the CPU provider
  const swapMatrix = new Array<number>(hd * hd).fill(0)
  pairSwap(hd).forEach((src, dst) => (swapMatrix[src * hd + dst] = 1))
  const swap = g.constant(swapMatrix, [hd, hd])
  const applyRope = (x: Value, cos: Value, sin: Value) => g.add(g.mul(x, cos), g.mul(g.matmul(x, swap), sin)) // (B,T,h,hd)

  // causal mask (T, T): 0 on and below the diagonal, −∞ above
  const causalData = new Float32Array(Tc * Tc)
  for (let i = 0; i < Tc; i++) for (let j = i + 1; j < Tc; j++) causalData[i * Tc + j] = -Infinity
  const causal = sliceT(g.constant(g.floatType === 'float32' ? causalData : Float64Array.from(causalData), [Tc, Tc]), [0, 1], [T, T])

  const linear = (x: Value, w: string) => g.gemm(x, P(w), { transB: true }) // (N, in) · (out, in)ᵀ

  const attention = (x: Value, gate: Value | null, p: string): Value => {
    const q = g.reshape(linear(x, p + 'wq.weight'), [B, T, H, hd])
    const k = g.reshape(linear(x, p + 'wk.weight'), [B, T, Hkv, hd])
    const v = g.reshape(linear(x, p + 'wv.weight'), [B, T, Hkv, hd])
    const qh = g.transpose(applyRope(q, qCos, qSin), [0, 2, 1, 3]) // (B, H, T, hd), pre-scaled by 1/√hd
    let kT = g.transpose(applyRope(k, kCos, kSin), [0, 2, 3, 1]) // (B, Hkv, hd, T)
    let vh = g.transpose(v, [0, 2, 1, 3]) // (B, Hkv, T, hd)
    if (nRep > 1) {
      // repeat_kv: query head h uses kv head ⌊h / nRep⌋
      kT = g.reshape(g.expand(g.reshape(kT, [B, Hkv, 1, hd, T]), [B, Hkv, nRep, hd, T]), [B, H, hd, T])
      vh = g.reshape(g.expand(g.reshape(vh, [B, Hkv, 1, T, hd]), [B, Hkv, nRep, T, hd]), [B, H, T, hd])
    }
    let mask = causal // (T, T)
    if (gate && cfg.gated_attention !== 'none') {
      const bias = g.log(g.clip(gate, 1e-6, 1)) // (N, 1)
      // key: scores[b,h,i,j] += bias[b,j]; query: += bias[b,i] (the reference code's softmax no-op)
      const b4 = g.reshape(bias, cfg.gated_attention === 'key' ? [B, 1, 1, T] : [B, 1, T, 1])
      mask = g.add(causal, b4) // (B, 1, T, T)
    }
    const scores = g.add(g.matmul(qh, kT), mask) // (B, H, T, T)
    const probs = g.softmax(scores, -1)
    const out = g.transpose(g.matmul(probs, vh), [0, 2, 1, 3]) // (B, T, H, hd)
    return linear(g.reshape(out, [N, H * hd]), p + 'wo.weight')
  }

  const ffn = (x: Value, p: string): Value => {
    const h1 = linear(x, p + 'w1.weight') // (N, F)
    const h3 = linear(x, p + 'w3.weight')
    const silu = g.mul(h1, g.sigmoid(h1))
    return linear(g.mul(silu, h3), p + 'w2.weight')
  }

  // embedding and input norm
  let h = norm(g.gather(P('tok_embeddings.weight'), g.reshape(tokens, [N])), 'input_norm.weight') // (N, D)

  const firstHalfGates: Value[] = []
  const accMasks: Value[] = []
  const residSq: Value[] = []
  let S: Value | null = null
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}.`
    let gate: Value | null = null
    if (o.withGates) {
      if (l < nMasks) {
        const s = g.relu(g.gemm(h, P(`masks.${l}.linear.weight`), { transB: true, c: P(`masks.${l}.linear.bias`) })) // (N, 1)
        S = S ? g.add(s, S) : s
        accMasks.push(S)
        gate = g.sub(1, g.clip(S, 0, 1))
        firstHalfGates.push(gate)
      } else {
        // mirrored: block ℓ reuses layer L−1−ℓ's gate; the middle layer of an odd-depth dense model has none (g = 1)
        gate = firstHalfGates[L - 1 - l] ?? null
      }
    }
    const gated = (y: Value) => (gate ? g.mul(y, gate) : y)
    const a = attention(norm(h, p + 'pre_attention_norm.weight'), gate, p + 'attention.')
    h = g.add(h, gated(norm(a, p + 'post_attention_norm.weight')))
    const f = ffn(norm(h, p + 'pre_feed_forward_norm.weight'), p + 'feed_forward.')
    h = g.add(h, gated(norm(f, p + 'post_feed_forward_norm.weight')))
    residSq.push(g.reshape(g.reduceSumSquare(h, [1], true), [1, N]))
  }

  const row = (x: Value) => g.reshape(x, [1, N]) // (N, 1) → (1, N)
  let gates: Value | null = null
  if (o.withGates) {
    let ones: Value | null = null
    const all: Value[] = []
    for (let l = 0; l < L; l++) {
      const gl = l < nMasks ? firstHalfGates[l] : firstHalfGates[L - 1 - l]
      all.push(gl ?? (ones ??= g.constant(new Array<number>(N).fill(1), [N, 1])))
    }
    gates = g.concat(all.map(row), 0) // (L, N)
  }
  return {
    hn: norm(h, 'output_norm.weight'),
    gates,
    masks: o.withGates && accMasks.length ? g.concat(accMasks.map(row), 0) : null,
    residSq: g.concat(residSq, 0), // (L, N)
  }
}
