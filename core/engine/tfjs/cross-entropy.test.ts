import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireBackend, releaseBackend } from './backend.js'
import { crossEntropySum, crossEntropySumWithGrad } from './cross-entropy.js'
import './gradients.js'

describe('chunked LM head + cross-entropy', () => {
  beforeAll(async () => {
    await acquireBackend('wasm')
  })
  afterAll(() => releaseBackend())

  it('gives the same value and gradients with one chunk (kept softmax) and with recomputed chunks', () => {
    const [N, D, V] = [10, 6, 7]
    const h = tf.randomNormal([N, D], 0, 1, 'float32', 3) as tf.Tensor2D
    const w = tf.randomNormal([D, V], 0, 1, 'float32', 4) as tf.Tensor2D
    const targets = Int32Array.from({ length: N }, (_, i) => (i * 3) % V)
    // reference: plain log-softmax on all logits
    const ref = tf.tidy(() => {
      const logp = tf.logSoftmax(tf.matMul(h, w))
      return -tf.sum(tf.mul(logp, tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), V), 'float32'))).dataSync()[0]!
    })
    const run = (budget: number) =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor) => crossEntropySumWithGrad(a as tf.Tensor2D, b as tf.Tensor2D, targets, budget)
        const { value, grads } = tf.valueAndGrads(f)([h, w])
        return { value: value.dataSync()[0]!, dh: grads[0]!.dataSync(), dw: grads[1]!.dataSync() }
      })
    const one = run(1 << 24)
    const chunked = run(3 * V) // chunks of 3 tokens: 3 + 3 + 3 + 1
    expect(one.value).toBeCloseTo(ref, 4)
    expect(chunked.value).toBeCloseTo(ref, 4)
    one.dh.forEach((x, i) => expect(chunked.dh[i]).toBeCloseTo(x, 5))
    one.dw.forEach((x, i) => expect(chunked.dw[i]).toBeCloseTo(x, 5))
    // d/dlogits = softmax − onehot: rows of dh sum to (softmax − onehot)·wᵀ; check one entry against autodiff-free math
    const p = tf.tidy(() => tf.softmax(tf.matMul(h, w)).arraySync()) as number[][]
    const wa = w.arraySync()
    const dh00 = p[0]!.reduce((a, pv, v) => a + (pv - (v === targets[0] ? 1 : 0)) * wa[0]![v]!, 0)
    expect(one.dh[0]).toBeCloseTo(dh00, 5)
    expect(tf.tidy(() => crossEntropySum(h, w, targets, 2 * V).dataSync()[0])).toBeCloseTo(ref, 4)
    tf.dispose([h, w])
  })
})
