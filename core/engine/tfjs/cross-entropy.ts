/**
 * The LM head fused with cross-entropy, in token chunks so that at most ~2^24 logits exist at once (engine.md: WASM
 * memory is capped at 4 GB; the GPT-2 head of 8192 tokens alone is 1.6 GB of logits). The custom gradient is
 * dlogits = softmax − onehot, pushed through the head as untransposed 2-D matmuls. When all logits fit in the budget
 * the forward keeps (softmax − onehot) for the backward; otherwise the backward recomputes each chunk's logits.
 */
import * as tf from '@tensorflow/tfjs-core'

/** Largest number of logits materialised at once. */
const LOGITS_BUDGET = 1 << 24

function chunkTokens(V: number, budget = LOGITS_BUDGET): number {
  return Math.max(1, Math.floor(budget / V))
}

interface ChunkOut {
  ceSum: tf.Scalar
  /** softmax − onehot (n, V), only when requested */
  dlogits?: tf.Tensor2D
}

/** One chunk: hc (n, D), w (D, V), targets tc (n). */
function chunk(hc: tf.Tensor2D, w: tf.Tensor2D, tc: Int32Array, wantGrad: boolean): ChunkOut {
  const n = tc.length
  const V = w.shape[1]
  const logits = tf.matMul(hc, w) // (n, V)
  const m = tf.max(logits, -1, true) // (n, 1)
  const shifted = tf.sub(logits, m) // (n, V)
  const lse = tf.log(tf.sum(tf.exp(shifted), -1)) // (n)
  const flatIdx = new Int32Array(n)
  for (let i = 0; i < n; i++) flatIdx[i] = i * V + tc[i]!
  const picked = tf.gather(tf.reshape(shifted, [n * V]), tf.tensor1d(flatIdx, 'int32')) // (n)
  const ceSum = tf.sum(tf.sub(lse, picked)) as tf.Scalar
  if (!wantGrad) return { ceSum }
  const probs = tf.exp(tf.sub(shifted, tf.reshape(lse, [n, 1]))) // (n, V)
  const onehot = tf.cast(tf.oneHot(tf.tensor1d(tc, 'int32'), V), 'float32') // int32 then cast (engine.md)
  return { ceSum, dlogits: tf.sub(probs, onehot) }
}

function ranges(N: number, size: number): Array<[number, number]> {
  const r: Array<[number, number]> = []
  for (let s = 0; s < N; s += size) r.push([s, Math.min(size, N - s)])
  return r
}

/** Σ over tokens of −log softmax(h·w)[target], no gradient. h (N, D), w (D, V). */
export function crossEntropySum(h: tf.Tensor2D, w: tf.Tensor2D, targets: Int32Array, budget = LOGITS_BUDGET): tf.Scalar {
  const [N, D] = h.shape
  // each chunk in its own tidy: only its scalar outlives it, so at most one chunk of logits exists at a time
  const parts = ranges(N, chunkTokens(w.shape[1], budget)).map(([s, n]) =>
    tf.tidy(() => chunk(tf.slice(h, [s, 0], [n, D]), w, targets.subarray(s, s + n), false).ceSum),
  )
  return parts.length === 1 ? parts[0]! : (tf.addN(parts) as tf.Scalar)
}

/** Same value as crossEntropySum, differentiable w.r.t. h and w. */
export function crossEntropySumWithGrad(h: tf.Tensor2D, w: tf.Tensor2D, targets: Int32Array, budget = LOGITS_BUDGET): tf.Scalar {
  const [N, D] = h.shape
  const V = w.shape[1]
  const chunks = ranges(N, chunkTokens(V, budget))
  const keep = N * V <= budget
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [hs, ws, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]
    let value: tf.Scalar
    if (keep) {
      const out = chunk(hs, ws, targets, true) // one chunk: N·V ≤ budget
      save([hs, ws, out.dlogits!])
      value = out.ceSum
    } else {
      save([hs, ws])
      value = crossEntropySum(hs, ws, targets, budget)
    }
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [hS, wS, dl] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D | undefined]
        const wT = tf.transpose(wS) // (V, D)
        if (dl) return [tf.mul(tf.matMul(dl, wT), dy), tf.mul(tf.matMul(tf.transpose(hS), dl), dy)]
        const dh: tf.Tensor2D[] = []
        let dw: tf.Tensor2D | null = null
        for (const [s, n] of chunks) {
          const prev: tf.Tensor2D | null = dw
          const [dhc, next]: [tf.Tensor2D, tf.Tensor2D] = tf.tidy(() => {
            const hc = tf.slice(hS, [s, 0], [n, D])
            const d = chunk(hc, wS, targets.subarray(s, s + n), true).dlogits! // (n, V), recomputed
            const part = tf.matMul(tf.transpose(hc), d) // (D, V)
            return [tf.matMul(d, wT), prev ? tf.add(prev, part) : part] as [tf.Tensor2D, tf.Tensor2D] // (n, D), (D, V)
          }) as [tf.Tensor2D, tf.Tensor2D]
          prev?.dispose()
          dh.push(dhc)
          dw = next
        }
        return [tf.mul(tf.concat(dh, 0), dy), tf.mul(dw!, dy)]
      },
    }
  }) as (h: tf.Tensor2D, w: tf.Tensor2D) => tf.Scalar
  return op(h, w)
}
