/**
 * Differentiable building blocks written for tfjs' fast paths (engine.md):
 * - linear: 2-D untransposed matmul with a custom gradient whose two matmuls are untransposed too
 *   (dx = dy·Wᵀ, dW = xᵀ·dy with explicit transposes; XNNPACK only takes NN matmuls fast);
 * - bmm: the same for the batched attention matmuls;
 * - embedding: gather with a scatter-add gradient (tf.scatterND sums duplicate rows on every backend; the default
 *   gather gradient needs UnsortedSegmentSum, which tfjs-backend-wasm 4.22 lacks and tfjs-cpu runs in O(V·N·D));
 * - rmsNorm, rope (interleaved pairs, no gathers), swiglu.
 * Shapes use N = B·T tokens.
 */
import * as tf from '@tensorflow/tfjs-core'

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
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(tf.reshape(saved[0]!, [ids.length, 1]), dy, [V, D])],
    }
  }) as (t: tf.Tensor2D) => tf.Tensor2D
  return op(table)
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. x (N, D), w (D). */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  const inv = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)) // (N, 1)
  return tf.mul(tf.mul(x, inv), w)
}

/**
 * Interleaved (Llama) RoPE on x (B, T, C) with C = heads·hd: pairs (2k, 2k+1) of each head rotate by t·f_k.
 * out = x ⊙ cos + swap(x) ⊙ sinSigned, where swap exchanges the members of each pair and the tables (T, C) hold
 * [cos_k, cos_k] and [−sin_k, +sin_k] per pair (built by ropeTables).
 */
export function rope(x: tf.Tensor3D, cos: tf.Tensor2D, sinSigned: tf.Tensor2D): tf.Tensor3D {
  const [B, T, C] = x.shape
  const pairs = tf.reshape(x, [B, T, C / 2, 2]) // (B, T, C/2, 2)
  const swapped = tf.reshape(tf.reverse(pairs, 3), [B, T, C]) // (B, T, C): x_{2k+1}, x_{2k}
  return tf.add(tf.mul(x, cos), tf.mul(swapped, sinSigned)) as tf.Tensor3D
}

/** SwiGLU's gate: silu(a) ⊙ b. */
export function swiglu(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(a, tf.sigmoid(a)), b)
}
