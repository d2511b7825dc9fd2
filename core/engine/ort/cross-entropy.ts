/**
 * The LM head and token cross-entropy, chunked over positions so at most one chunk of logits (c × V) is live.
 *
 * Forward per chunk: logits = h·Woutᵀ, ce = logsumexp(logits) − logits[target].
 * Backward (hand-written, not through the autodiff): dlogits = softmax(logits) − onehot(target), made with a
 * ScatterElements(add −1) on the softmax — no one-hot or zero tensor is ever materialised. Per chunk
 * dh = dlogits·Wout and dWout += dlogitsᵀ·h (Gemm with C: the accumulation is in-place in one kernel, and it
 * chains the chunks so onnxruntime's DFS ordering finishes one chunk before starting the next).
 * The caller scales dh and dWout by the loss scale (cheaper than scaling N × V).
 */
import type { Graph, Value } from './ir.js'

/** Rows per chunk so a chunk of logits stays under `maxElements` (default 16 M floats = 64 MB). */
export function chunkRows(N: number, V: number, maxElements = 16 * 1024 * 1024): number[] {
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
  const parts = hs.map((h, i) => tokenCe(g, g.gemm(h, W, { transB: true }), ts[i]!))
  return g.reduceSum(g.concat(parts, 0), [0, 1], false)
}

/** Per-token cross-entropy (c, 1) of logits (c, V) and targets (c, 1). */
export function tokenCe(g: Graph, logits: Value, t: Value): Value {
  return g.sub(g.reduceLogSumExp(logits, [1], true), g.gatherElements(logits, t, 1))
}

export interface CeGrad {
  /** Σ over tokens of cross-entropy (scalar) */
  ceSum: Value
  /** ∂(Σ ce)/∂hn (N, D), unscaled */
  dh: Value
  /** ∂(Σ ce)/∂W (V, D), unscaled */
  dW: Value
}

export function ceForwardBackward(g: Graph, hn: Value, W: Value, targets: Value, maxElements?: number): CeGrad {
  const N = hn.shape[0]!
  const rows = chunkRows(N, W.shape[0]!, maxElements)
  const hs = splitRows(g, hn, rows)
  const ts = splitRows(g, g.cast(g.reshape(targets, [N, 1]), 'int64'), rows)
  const ces: Value[] = []
  const dhs: Value[] = []
  let dW: Value | null = null
  hs.forEach((h, i) => {
    const t = ts[i]!
    const logits = g.gemm(h, W, { transB: true }) // (c, V)
    ces.push(tokenCe(g, logits, t))
    const minusOne = g.constant(new Array<number>(t.shape[0]!).fill(-1), [t.shape[0]!, 1])
    const dl = g.scatterElements(g.softmax(logits, 1), t, minusOne, 1, 'add') // softmax − onehot (c, V)
    dhs.push(g.gemm(dl, W)) // (c, D)
    dW = g.gemm(dl, h, dW ? { transA: true, c: dW } : { transA: true }) // (V, D)
  })
  return { ceSum: g.reduceSum(g.concat(ces, 0), [0, 1], false), dh: g.concat(dhs, 0), dW: dW! }
}
