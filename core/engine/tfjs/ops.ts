/**
 * Differentiable building blocks written for tfjs' fast paths (engine.md):
 * - linear: 2-D untransposed matmul with a custom gradient whose two matmuls are untransposed too
 *   (dx = dy·Wᵀ, dW = xᵀ·dy with explicit transposes; XNNPACK only takes NN matmuls fast);
 * - bmm: the same for the batched attention matmuls;
 * - embedding: gather with a scatter-add gradient (tf.scatterND sums duplicate rows on every backend; the default
 *   gather gradient needs UnsortedSegmentSum, which tfjs-backend-wasm 4.22 lacks and tfjs-cpu runs in O(V·N·D));
 * - rmsNorm, rope (interleaved pairs via a pair-swap matmul), swiglu: fused forward/backward, fewer kernels
 *   (each tfjs kernel call costs ~10–20 µs of overhead, which dominates small models).
 * Shapes use N = B·T tokens.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { RopeTables } from './rope-tables.js'

/** y = x·W for x (N, in), W (in, out) → (N, out). */
export const linear = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]
  save([x, w])
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D]
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)]
    },
  }
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D

/** c = a·b for a (G, m, k), b (G, k, n) → (G, m, n), with untransposed backward matmuls. */
export const bmm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc]
  save([a, b])
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D]
      const d = dy as tf.Tensor3D
      return [tf.matMul(d, tf.transpose(bs, [0, 2, 1])), tf.matMul(tf.transpose(as, [0, 2, 1]), d)]
    },
  }
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D

/**
 * Rows of `table` (V, D) for token ids (N) → (N, D). The gradient w.r.t. the table scatter-adds dy's rows
 * (O(N·D)); ids get no gradient.
 */
export function embedding(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const [V, D] = table.shape
  const idx1 = tf.tensor1d(ids, 'int32') // (N)
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc]
    save([idx1]) // tensors not saved are disposed when the forward pass of tf.variableGrads ends
    return {
      value: tf.gather(t, idx1),
      // ids as (N, 1) scatter indices; duplicate ids sum
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(tf.reshape(saved[0]!, [ids.length, 1]), dy, [V, D])],
    }
  }) as (t: tf.Tensor2D) => tf.Tensor2D
  return op(table)
}

/**
 * RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. x (N, D), w (D).
 * Custom gradient: r = rsqrt(mean(x²) + eps), x̂ = x·r, g = dy·w:
 *   dx = r · (g − x̂ · mean(g ⊙ x̂)),  dw = 1ᵀ·(dy ⊙ x̂) as a (1, N)·(N, D) matmul (a column sum on WASM is ~30× slower).
 */
export const rmsNorm = (x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D => {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, ws, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xs), -1, true), eps)) // (N, 1)
    const xhat = tf.mul(xs, r) // (N, D)
    save([xhat, r, ws])
    return {
      value: tf.mul(xhat, ws),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rr, wv] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D]
        const g = tf.mul(dy, wv) // (N, D)
        const dx = tf.mul(rr, tf.sub(g, tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true))))
        const dw = tf.reshape(tf.matMul(tf.ones([1, xh.shape[0]]), tf.mul(dy, xh) as tf.Tensor2D), [xh.shape[1]]) // (D)
        return [dx, dw]
      },
    }
  }) as (x: tf.Tensor2D, w: tf.Tensor1D) => tf.Tensor2D
  return op(x, w)
}

/** x (B, T, C) with members of each pair swapped, as a 2-D matmul (tf.reverse on a size-2 axis is ~20× slower). */
function swapPairs(x: tf.Tensor, swap: tf.Tensor2D): tf.Tensor {
  const hd = swap.shape[0]
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, hd]) as tf.Tensor2D, swap), x.shape) // (B·T·heads, hd) → (B, T, C)
}

/**
 * Interleaved (Llama) RoPE on x (B, T, C) with C = heads·hd: pairs (2k, 2k+1) of each head rotate by t·f_k.
 * out = x ⊙ cos + swap(x) ⊙ sinSigned, where swap exchanges the members of each pair and the tables (T, C) hold
 * [cos_k, cos_k] and [−sin_k, +sin_k] per pair and `swap` is the (hd, hd) pair-swap permutation (rope-tables.ts).
 * swap is symmetric, so the gradient is dx = dy ⊙ cos + swap(dy ⊙ sinSigned).
 */
export function rope(x: tf.Tensor3D, t: RopeTables): tf.Tensor3D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, save] = args as [tf.Tensor3D, tf.GradSaveFunc]
    save([])
    return {
      value: tf.add(tf.mul(xs, t.cos), tf.mul(swapPairs(xs, t.swap), t.sinSigned)),
      gradFunc: (dy: tf.Tensor) => [tf.add(tf.mul(dy, t.cos), swapPairs(tf.mul(dy, t.sinSigned), t.swap))],
    }
  }) as (x: tf.Tensor3D) => tf.Tensor3D
  return op(x)
}

/**
 * SwiGLU's gate silu(a) ⊙ b, with σ = sigmoid(a):
 *   da = dy ⊙ b ⊙ σ ⊙ (1 + a ⊙ (1 − σ)),  db = dy ⊙ a ⊙ σ.
 */
export const swiglu = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]
  const sig = tf.sigmoid(a)
  const silu = tf.mul(a, sig)
  save([b, sig, silu])
  return {
    value: tf.mul(silu, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [bs, sg, sl] = saved as tf.Tensor2D[]
      const dsilu = tf.add(sg!, tf.mul(sl!, tf.sub(1, sg!))) // d silu / da = σ + silu·(1 − σ)
      return [tf.mul(tf.mul(dy, bs!), dsilu), tf.mul(dy, sl!)]
    },
  }
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D
