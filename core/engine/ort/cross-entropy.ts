/**
 * The LM head and token cross-entropy, chunked over positions so at most one chunk of logits (c × V) is live.
 *
 * Forward per chunk: logits = h·Woutᵀ, p = softmax(logits), ce = logsumexp(logits) − logits[target] with
 * logsumexp = max(logits) − log(max(p)): the softmax at the argmax is 1/Σexp(logits − max) ≥ 1/V, so this is
 * exact and never underflows, and costs two read-only ReduceMax passes instead of onnxruntime's ReduceLogSumExp
 * (about 6× slower than Softmax on the CPU provider).
 * Backward (hand-written, not through the autodiff): dlogits = softmax(logits) − onehot(target). The one-hot
 * part is applied on the small side, never on a (c × V) tensor:
 *   dh = p·Wout − Wout[target]              (Gemm per chunk, one Gather of N rows)
 *   dWout = Σ_chunks pᵀ·h − scatter_add(target rows, hn)   (Gemm with C accumulates in place; one
 *                                                          deterministic row scatter-add, Graph.scatterAddRows)
 * No one-hot or zero tensor is materialised, and the Gemm-with-C chain makes onnxruntime finish one chunk
 * before starting the next (its execution order is a DFS from the outputs).
 * Both gradients come out multiplied by `scale` (the loss scale: 1/(tokens · micro-batches)), folded into the
 * Gemms' alpha and the small one-hot terms, so no extra pass over (V × D) or (N × V) is needed.
 */
import type { Graph, Value } from './ir.js'

/** Rows per chunk so a chunk of logits stays under `maxElements` (default 16 M floats = 64 MB). */
function chunkRows(N: number, V: number, maxElements = 16 * 1024 * 1024): number[] {
  const per = Math.max(1, Math.min(N, Math.floor(maxElements / V)))
  const count = Math.ceil(N / per)
  const base = Math.floor(N / count)
  const rows = new Array<number>(count).fill(base)
  for (let i = 0; i < N - base * count; i++) rows[i]!++
  return rows
}

function splitRows(g: Graph, x: Value, rows: number[]): Value[] {
  return rows.length === 1 ? [x] : g.split(x, 0, rows)
}

/** Σ over tokens of cross-entropy. hn (N, D), W (V, D), targets (N) int32. Returns a scalar. */
export function ceSum(g: Graph, hn: Value, W: Value, targets: Value, maxElements?: number): Value {
  const N = hn.shape[0]!
  const rows = chunkRows(N, W.shape[0]!, maxElements)
  const hs = splitRows(g, hn, rows)
  const ts = splitRows(g, g.reshape(targets, [N, 1]), rows)
  const parts = hs.map((h, i) => {
    const logits = g.gemm(h, W, { transB: true }) // (c, V)
    return tokenCe(g, logits, g.softmax(logits, 1), ts[i]!)
  })
  return g.reduceSum(g.concat(parts, 0), [0, 1], false)
}

/** Per-token cross-entropy (c, 1) from logits (c, V), their softmax p and targets (c, 1). */
export function tokenCe(g: Graph, logits: Value, p: Value, t: Value): Value {
  const lse = g.sub(g.reduceMax(logits, [1], true), g.log(g.reduceMax(p, [1], true))) // (c, 1)
  return g.sub(lse, g.gatherElements(logits, t, 1))
}

export interface CeGrad {
  /** Σ over tokens of cross-entropy (scalar) */
  ceSum: Value
  /** scale · ∂(Σ ce)/∂hn (N, D) */
  dh: Value
  /** scale · ∂(Σ ce)/∂W (V, D) */
  dW: Value
}

export function ceForwardBackward(g: Graph, hn: Value, W: Value, targets: Value, scale: number, maxElements?: number): CeGrad {
  const N = hn.shape[0]!
  const rows = chunkRows(N, W.shape[0]!, maxElements)
  const hs = splitRows(g, hn, rows)
  // int32 indices throughout: onnxruntime's WebGPU provider has no int64 Reshape (it ran on the CPU)
  const t32 = g.reshape(targets, [N, 1]) // (N, 1)
  const ts = splitRows(g, t32, rows)
  const ces: Value[] = []
  const dhs: Value[] = []
  let dW: Value | null = null
  hs.forEach((h, i) => {
    const logits = g.gemm(h, W, { transB: true }) // (c, V)
    const p = g.softmax(logits, 1)
    ces.push(tokenCe(g, logits, p, ts[i]!))
    dhs.push(g.gemm(p, W, { alpha: scale })) // (c, D)
    dW = g.gemm(p, h, dW ? { transA: true, alpha: scale, c: dW } : { transA: true, alpha: scale }) // (V, D)
  })
  const dh = g.sub(g.concat(dhs, 0), g.mul(g.gather(W, g.reshape(targets, [N])), scale)) // (N, D)
  const dWfull = g.scatterAddRows(dW!, g.reshape(targets, [N]), g.mul(hn, -scale)) // rows of the targets −= scale · hn
  return { ceSum: g.reduceSum(g.concat(ces, 0), [0, 1], false), dh, dW: dWfull }
}
