/**
 * Hard skipping at evaluation on onnxruntime (spec H.13; the choice and its measurements: docs/adr/0016).
 *
 * With gated_attention = "key", a token whose gate g_ℓ is exactly 0 leaves block ℓ's residual stream unchanged (A.5)
 * and, as a key, only receives the clamped score log(1e-6) (A.6/H.1). So the pass runs, per batch:
 *
 *   head   one graph (static B, T): embedding, input norm, first mask s₀ → h (N, D), s₀ (N)
 *   block  ONE graph for every layer, with dynamic axes (M live rows, n padded live slots per sequence); the layer's
 *          weights are inputs. It takes the M live rows of h (gathered on the host), their gates and RoPE rows at their
 *          ORIGINAL positions, attends within each sequence over its live tokens only (padded to (B, n), padding after
 *          the real tokens so the causal mask keeps it away from real queries; live keys still get
 *          + log(clamp(g, 1e-6, 1)); skipped keys are simply absent), and returns the M new rows plus, in the first
 *          half, the next layer's mask s_{ℓ+1} on those rows. Rows of skipped tokens are never touched.
 *   tail   one graph (static B, T): output norm, LM head and Σ cross-entropy (chunked like the dense evaluation).
 *
 * Gates are accumulated on the host in float32 exactly as the graph does (S_{ℓ+1} = s + S_ℓ, g = 1 − clamp(S, 0, 1)):
 * a token skipped by block ℓ has S ≥ 1 and stays skipped, so later masks are needed for live rows only.
 *
 * `attention: 'packed'` runs the same block graph with B = 1: all live tokens of the batch in one row set with a
 * block-diagonal causal mask (no padding, but M² score entries instead of B·n²); 'auto' picks the smaller.
 *
 * Difference from the dense pass: only the excluded ~1e-6 attention leak of skipped keys and float rounding from
 * different matmul shapes, so the cross-entropy agrees to ~1e-6 relative on sane models.
 */
import { dims, type ModelConfig } from '../../model/config.js'
import type { Batch } from '../engine.js'
import {
  assertHardSkippable,
  checkHardSkipBatch,
  checkRepeats,
  hardSkipFlops,
  liveSet,
  type HardSkipOptions,
  type HardSkipResult,
  type LiveSet,
  timeDenseAndSkip,
} from '../hard-skip.js'
import { ceSum, tokenCe } from './cross-entropy.js'
import { Graph, type Value } from './ir.js'
import { rmsNorm } from './model-graph.js'
import type { OrtEngine } from './ort-engine.js'
import { pairSwap, ropeTables } from './rope.js'
import { ort } from './session.js'

export type HardSkipAttention = 'auto' | 'padded' | 'packed'

export interface OrtHardSkipOptions extends HardSkipOptions {
  /** how each layer's live tokens attend: per sequence padded to the longest ('padded'), or packed ('packed') */
  attention?: HardSkipAttention
  /** called with each timed repeat's host/device split (bench diagnostics) */
  onTiming?: (t: { runMs: number; hostMs: number }) => void
}

// placeholder sizes of the block graph's dynamic axes (no real dimension of a model takes them)
const DYN_M = 1_000_003
const DYN_N = 1_000_033

const BLOCK_WEIGHTS = [
  'attention.wq.weight',
  'attention.wk.weight',
  'attention.wv.weight',
  'attention.wo.weight',
  'feed_forward.w1.weight',
  'feed_forward.w2.weight',
  'feed_forward.w3.weight',
  'pre_attention_norm.weight',
  'post_attention_norm.weight',
  'pre_feed_forward_norm.weight',
  'post_feed_forward_norm.weight',
] as const

function buildHeadGraph(cfg: ModelConfig, B: number, T: number): Graph {
  const g = new Graph('float32')
  const { D } = dims(cfg)
  const N = B * T
  const tokens = g.input('tokens', [B, T], 'int32')
  const emb = g.input('p.tok_embeddings.weight', [cfg.vocab_size, D])
  const h = rmsNorm(g, g.gather(emb, g.reshape(tokens, [N])), g.input('p.input_norm.weight', [D]), cfg.norm_eps)
  g.output(h, 'h')
  const s = g.relu(g.gemm(h, g.input('p.masks.0.linear.weight', [1, D]), { transB: true, c: g.input('p.masks.0.linear.bias', [1]) }))
  g.output(s, 's')
  return g
}

/** The block on M live rows; B sequences padded to n slots. `nextMask`: also output the next layer's mask on the rows. */
function buildBlockGraph(cfg: ModelConfig, B: number, nextMask: boolean): Graph {
  const g = new Graph('float32')
  const { D, H, Hkv, hd, nRep, F } = dims(cfg)
  const M = DYN_M
  const n = DYN_N
  const Bn = B * n
  g.dynamicDims.set(M, 'live_rows')
  g.dynamicDims.set(n, 'live_slots')
  g.dynamicDims.set(Bn, 'padded_rows')
  const eps = cfg.norm_eps
  const x = g.input('x', [M, D])
  const gate = g.input('gate', [M, 1])
  const qCos = g.input('q_cos', [M, 1, hd])
  const qSin = g.input('q_sin', [M, 1, hd])
  const kCos = g.input('k_cos', [M, 1, hd])
  const kSin = g.input('k_sin', [M, 1, hd])
  const padded = g.input('padded', [Bn], 'int32')
  const unpadded = g.input('unpadded', [M], 'int32')
  const causal = g.input('causal', [n, n])
  const keyBias = g.input('key_bias', [B, 1, 1, n])
  const shapes: Record<(typeof BLOCK_WEIGHTS)[number], number[]> = {
    'attention.wq.weight': [H * hd, D],
    'attention.wk.weight': [Hkv * hd, D],
    'attention.wv.weight': [Hkv * hd, D],
    'attention.wo.weight': [D, H * hd],
    'feed_forward.w1.weight': [F, D],
    'feed_forward.w2.weight': [D, F],
    'feed_forward.w3.weight': [F, D],
    'pre_attention_norm.weight': [D],
    'post_attention_norm.weight': [D],
    'pre_feed_forward_norm.weight': [D],
    'post_feed_forward_norm.weight': [D],
  }
  const W = Object.fromEntries(BLOCK_WEIGHTS.map((k) => [k, g.input('w.' + k, shapes[k])])) as Record<(typeof BLOCK_WEIGHTS)[number], Value>
  const linear = (v: Value, w: Value) => g.gemm(v, w, { transB: true })
  const swapMatrix = new Array<number>(hd * hd).fill(0)
  pairSwap(hd).forEach((src, dst) => (swapMatrix[src * hd + dst] = 1))
  const swap = g.constant(swapMatrix, [hd, hd])
  const rope = (v: Value, cos: Value, sin: Value) => g.add(g.mul(v, cos), g.mul(g.matmul(v, swap), sin))

  const xn = rmsNorm(g, x, W['pre_attention_norm.weight'], eps)
  const q = rope(g.reshapeTo(linear(xn, W['attention.wq.weight']), [M, H, hd], [-1, H, hd]), qCos, qSin) // pre-scaled by 1/√hd
  const k = rope(g.reshapeTo(linear(xn, W['attention.wk.weight']), [M, Hkv, hd], [-1, Hkv, hd]), kCos, kSin)
  const v = g.reshapeTo(linear(xn, W['attention.wv.weight']), [M, Hkv, hd], [-1, Hkv, hd])
  const pad = (t: Value, h: number) => g.reshapeTo(g.gather(t, padded), [B, n, h, hd], [B, -1, h, hd]) // (B, n, h, hd)
  const qh = g.transpose(pad(q, H), [0, 2, 1, 3]) // (B, H, n, hd)
  let kT = g.transpose(pad(k, Hkv), [0, 2, 3, 1]) // (B, Hkv, hd, n)
  let vh = g.transpose(pad(v, Hkv), [0, 2, 1, 3]) // (B, Hkv, n, hd)
  if (nRep > 1) {
    kT = g.reshapeTo(g.expand(g.reshapeTo(kT, [B, Hkv, 1, hd, n], [B, Hkv, 1, hd, -1]), [1, 1, nRep, 1, 1]), [B, H, hd, n], [B, H, hd, -1])
    vh = g.reshapeTo(g.expand(g.reshapeTo(vh, [B, Hkv, 1, n, hd], [B, Hkv, 1, -1, hd]), [1, 1, nRep, 1, 1]), [B, H, n, hd], [B, H, -1, hd])
  }
  const scores = g.add(g.add(g.matmul(qh, kT), causal), keyBias) // (B, H, n, n)
  const o = g.transpose(g.matmul(g.softmax(scores, -1), vh), [0, 2, 1, 3]) // (B, n, H, hd)
  const merged = g.gather(g.reshapeTo(o, [Bn, H * hd], [-1, H * hd]), unpadded) // (M, H·hd)
  const a = linear(merged, W['attention.wo.weight'])
  const x1 = g.add(x, g.mul(rmsNorm(g, a, W['post_attention_norm.weight'], eps), gate))
  const f1 = rmsNorm(g, x1, W['pre_feed_forward_norm.weight'], eps)
  const h1 = linear(f1, W['feed_forward.w1.weight'])
  const ff = linear(g.mul(g.mul(h1, g.sigmoid(h1)), linear(f1, W['feed_forward.w3.weight'])), W['feed_forward.w2.weight'])
  const y = g.add(x1, g.mul(rmsNorm(g, ff, W['post_feed_forward_norm.weight'], eps), gate))
  g.output(y, 'y')
  if (nextMask) g.output(g.relu(g.gemm(y, g.input('mask.weight', [1, D]), { transB: true, c: g.input('mask.bias', [1]) })), 's')
  return g
}

function buildTailGraph(cfg: ModelConfig, B: number, T: number, logits: boolean, ceChunkElements?: number): Graph {
  const g = new Graph('float32')
  const { D, V } = dims(cfg)
  const N = B * T
  const h = g.input('h', [N, D])
  const targets = g.input('targets', [B, T], 'int32')
  const W = g.input('p.output.weight', [V, D])
  const hn = rmsNorm(g, h, g.input('p.output_norm.weight', [D]), cfg.norm_eps)
  if (logits) {
    const lg = g.gemm(hn, W, { transB: true })
    g.output(g.reduceSum(tokenCe(g, lg, g.softmax(lg, 1), g.reshape(targets, [N, 1])), [0, 1], false), 'ce_sum')
    g.output(lg, 'logits')
  } else g.output(ceSum(g, hn, W, targets, ceChunkElements), 'ce_sum')
  return g
}

const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims)
const i32 = (data: Int32Array, dims: number[]) => new ort.Tensor('int32', data, dims)

/** Rows `idx` of a row-major (·, C) array. */
function gatherRows(src: Float32Array, C: number, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * C)
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i]! * C, idx[i]! * C + C), i * C)
  return out
}

interface Plan {
  /** sequences in the attention layout (B, or 1 when packed) */
  Bq: number
  n: number
  padded: Int32Array
  unpadded: Int32Array
  causal: Float32Array
  /** key slot → live row (or −1 for padding) */
  keyRow: Int32Array
}

/** Attention layout of one layer's live set: per-sequence padding, or every live token packed into one sequence. */
function attentionPlan(ls: LiveSet, B: number, mode: HardSkipAttention, causalCache: Map<number, Float32Array>): Plan {
  const M = ls.rows.length
  const packed = mode === 'packed' || (mode === 'auto' && M * M < B * ls.nMax * ls.nMax)
  if (!packed) {
    const n = ls.nMax
    let causal = causalCache.get(n)
    if (!causal) {
      causal = new Float32Array(n * n)
      for (let i = 0; i < n; i++) causal.fill(-Infinity, i * n + i + 1, i * n + n)
      causalCache.set(n, causal)
    }
    const keyRow = new Int32Array(B * n).fill(-1)
    for (let m = 0; m < M; m++) keyRow[ls.unpadded[m]!] = m
    return { Bq: B, n, padded: ls.padded, unpadded: ls.unpadded, causal, keyRow }
  }
  // packed: slot m = live row m; a query attends to earlier-or-equal live tokens of its own sequence
  const causal = new Float32Array(M * M).fill(-Infinity)
  let start = 0
  for (const c of ls.counts) {
    for (let i = 0; i < c; i++) causal.fill(0, (start + i) * M + start, (start + i) * M + start + i + 1)
    start += c
  }
  const ident = Int32Array.from({ length: M }, (_, i) => i)
  return { Bq: 1, n: M, padded: ident, unpadded: ident, causal, keyRow: ident }
}

/**
 * Evaluate `batch` with real block skipping (spec H.13) and, for comparison, densely with the engine's own evaluation
 * graph; timings interleave the two. Refuses (HardSkipUnsupportedError) unless gated_attention = "key".
 */
export async function evalHardSkipOrt(engine: OrtEngine, batch: Batch, opts: OrtHardSkipOptions = {}): Promise<HardSkipResult> {
  const { config: cfg, params, session } = engine.internals
  assertHardSkippable(cfg)
  const { L, D, V, hd, nMasks } = dims(cfg)
  checkHardSkipBatch(batch, V)
  const repeats = opts.repeats ?? 3
  checkRepeats(repeats)
  const mode = opts.attention ?? 'auto'
  if (!['auto', 'padded', 'packed'].includes(mode)) throw new RangeError(`attention must be 'auto', 'padded' or 'packed', got ${String(mode)}`)
  if (nMasks < 1) throw new Error(`hard-skip evaluation needs at least 2 layers (one mask); this model has ${L}`)
  const { batchSize: B, seqLen: T } = batch
  const N = B * T
  const P = (name: string) => {
    const t = params.get(name)
    if (!t) throw new Error(`ort hard-skip: no parameter ${name}`)
    return t
  }

  // RoPE tables at the original positions (1/√hd folded into q's), float32 like the dense graph's constants
  const rc = { headDim: hd, theta: cfg.rope_theta, scaled: cfg.use_scaled_rope }
  const qt = ropeTables(rc, T, 1 / Math.sqrt(hd))
  const kt = ropeTables(rc, T, 1)
  const tables = { qCos: Float32Array.from(qt.cos), qSin: Float32Array.from(qt.sin), kCos: Float32Array.from(kt.cos), kSin: Float32Array.from(kt.sin) }
  const causalCache = new Map<number, Float32Array>()

  const head = await session({ kind: 'hs-head', cfg, B, T }, () => buildHeadGraph(cfg, B, T))
  const tail = await session({ kind: 'hs-tail', cfg, B, T, logits: !!opts.returnLogits }, () => buildTailGraph(cfg, B, T, !!opts.returnLogits))
  const blockSession = (Bq: number, next: boolean) => session({ kind: 'hs-block', cfg, B: Bq, next }, () => buildBlockGraph(cfg, Bq, next))
  const blockWeights = (l: number) => Object.fromEntries(BLOCK_WEIGHTS.map((k) => ['w.' + k, P(`layers.${l}.${k}`)]))

  let zeros: number[][] = []
  let hostMs = 0
  let runMs = 0
  const run = async (s: ort.InferenceSession, feeds: Record<string, ort.Tensor>) => {
    const t0 = performance.now()
    const out = await s.run(feeds)
    runMs += performance.now() - t0
    return out
  }

  const skipPass = async (wantLogits: boolean) => {
    const tStart = performance.now()
    runMs = 0
    zeros = Array.from({ length: B }, () => new Array<number>(L).fill(0))
    const ho = await run(head, {
      tokens: i32(batch.inputs, [B, T]),
      'p.tok_embeddings.weight': P('tok_embeddings.weight'),
      'p.input_norm.weight': P('input_norm.weight'),
      'p.masks.0.linear.weight': P('masks.0.linear.weight'),
      'p.masks.0.linear.bias': P('masks.0.linear.bias'),
    })
    const h = ho.h!.data as Float32Array // (N, D), updated in place
    let S = Float32Array.from(ho.s!.data as Float32Array) // accumulated mask of the current first-half layer
    const gates: Float32Array[] = []
    for (let l = 0; l < L; l++) {
      let gl: Float32Array
      if (l < nMasks) {
        gl = new Float32Array(N)
        for (let i = 0; i < N; i++) gl[i] = 1 - Math.min(Math.max(S[i]!, 0), 1)
        gates.push(gl)
      } else gl = gates[L - 1 - l]!
      const ls = liveSet(gl, B, T)
      ls.counts.forEach((c, b) => (zeros[b]![l] = T - c))
      const M = ls.rows.length
      const next = l + 1 < nMasks
      if (M === 0) continue // every token skips this block (and, S ≥ 1, every later first-half block)
      const plan = attentionPlan(ls, B, mode, causalCache)
      const keyBias = new Float32Array(plan.Bq * plan.n)
      for (let j = 0; j < keyBias.length; j++) {
        const m = plan.keyRow[j]!
        keyBias[j] = m < 0 ? 0 : Math.log(Math.min(Math.max(gl[ls.rows[m]!]!, 1e-6), 1))
      }
      const gate = Float32Array.from(ls.rows, (r) => gl[r]!)
      const feeds: Record<string, ort.Tensor> = {
        x: f32(gatherRows(h, D, ls.rows), [M, D]),
        gate: f32(gate, [M, 1]),
        q_cos: f32(gatherRows(tables.qCos, hd, ls.pos), [M, 1, hd]),
        q_sin: f32(gatherRows(tables.qSin, hd, ls.pos), [M, 1, hd]),
        k_cos: f32(gatherRows(tables.kCos, hd, ls.pos), [M, 1, hd]),
        k_sin: f32(gatherRows(tables.kSin, hd, ls.pos), [M, 1, hd]),
        padded: i32(plan.padded, [plan.padded.length]),
        unpadded: i32(plan.unpadded, [M]),
        causal: f32(plan.causal, [plan.n, plan.n]),
        key_bias: f32(keyBias, [plan.Bq, 1, 1, plan.n]),
        ...blockWeights(l),
      }
      if (next) {
        feeds['mask.weight'] = P(`masks.${l + 1}.linear.weight`)
        feeds['mask.bias'] = P(`masks.${l + 1}.linear.bias`)
      }
      const out = await run(await blockSession(plan.Bq, next), feeds)
      const y = out.y!.data as Float32Array
      for (let m = 0; m < M; m++) h.set(y.subarray(m * D, m * D + D), ls.rows[m]! * D)
      if (next) {
        // S_{ℓ+1} = s_{ℓ+1} + S_ℓ on live rows (float32, as the graph's Add); skipped rows keep S ≥ 1
        const s = out.s!.data as Float32Array
        const S1 = Float32Array.from(S)
        for (let m = 0; m < M; m++) S1[ls.rows[m]!] = s[m]! + S[ls.rows[m]!]!
        S = S1
      }
    }
    const to = await run(tail, { h: f32(h, [N, D]), targets: i32(batch.targets, [B, T]), 'p.output.weight': P('output.weight'), 'p.output_norm.weight': P('output_norm.weight') })
    const total = performance.now() - tStart
    hostMs = total - runMs
    return { v: (to.ce_sum!.data as Float32Array)[0]!, logits: wantLogits ? (to.logits!.data as Float32Array) : undefined }
  }
  const runDense = async () => (await engine.evalStep(batch)).ceSum

  const denseCeSum = await runDense() // also the warm-up
  const first = await skipPass(opts.returnLogits ?? false)
  const { denseMs, skipMs } = await timeDenseAndSkip(runDense, () => skipPass(false), repeats, () => opts.onTiming?.({ runMs, hostMs }))
  const result: HardSkipResult = {
    ceSum: first.v,
    denseCeSum,
    tokens: N,
    skippedPerSequence: zeros,
    denseMs,
    skipMs,
    measuredSpeedup: denseMs / skipMs,
    ...hardSkipFlops(cfg, zeros, B, T),
  }
  if (first.logits) result.logits = first.logits
  return result
}
