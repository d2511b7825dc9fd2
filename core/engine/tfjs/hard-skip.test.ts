/**
 * Hard skipping at evaluation (spec H.13) agrees with the dense forward pass: CE and every logit within 1e-4 on a
 * tiny key-gated model whose masks zero a good fraction of the gates; refused for "query"/"none" gating.
 * Runs on wasm, then cpu (one backend per process at a time: each describe disposes its engine).
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseModelConfig, type GatedAttention, type ModelConfig } from '../../model/config.js'
import { initWeights } from '../../model/init.js'
import type { Weights } from '../../model/params.js'
import { REFERENCE_OPTIMIZER, type Batch } from '../engine.js'
import type { BackendName } from './backend.js'
import type { TfjsEngine } from './engine.js'
import { evalHardSkip, HardSkipUnsupportedError } from './hard-skip.js'
import { createTfjsEngine } from './index.js'

const B = 2
const T = 32
const V = 64

function randomBatch(seed: number): Batch {
  let s = seed >>> 0
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % V)
  const ids = Int32Array.from({ length: B * T + 1 }, next)
  return { inputs: ids.slice(0, B * T), targets: ids.slice(1), batchSize: B, seqLen: T }
}

/**
 * dim 32, 4 layers, 4 heads sharing 2 kv heads. `skipping`: mask weights ×6 and biases 0.55 / 0.35, so S ≥ 1 (gate
 * exactly 0) for a good fraction of tokens, fractional gates for others; otherwise small masks keep 0 < S < 1.
 */
function tinyModel(gated_attention: GatedAttention, skipping: boolean): { config: ModelConfig; weights: Weights } {
  const config = parseModelConfig({ dim: 32, n_layers: 4, n_heads: 4, n_kv_heads: 2, vocab_size: V, max_seq_len: T, zero_init_masks: false, gated_attention })
  const weights = initWeights(config, 11)
  for (const [k, v] of weights) {
    if (k.startsWith('masks.') && k.endsWith('weight')) v.forEach((x, i) => (v[i] = x * (skipping ? 6 : 1)))
    if (k === 'masks.0.linear.bias') v.fill(skipping ? 0.55 : 0.05)
    if (k === 'masks.1.linear.bias') v.fill(skipping ? 0.35 : 0.05)
    if (/w[qk]\.weight$/.test(k)) v.forEach((x, i) => (v[i] = x * 4)) // non-trivial attention patterns
  }
  return { config, weights }
}

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  describe(`hard skipping on ${backend}`, () => {
    let engine: TfjsEngine
    beforeAll(async () => {
      engine = await createTfjsEngine({ backend })
    })
    afterAll(async () => engine.dispose())

    async function init(m: { config: ModelConfig; weights: Weights }) {
      await engine.init({ config: m.config, weights: m.weights, optimizer: REFERENCE_OPTIMIZER })
    }

    it('skipping blocks of zero-gate tokens gives the dense CE and logits within 1e-4', async () => {
      await init(tinyModel('key', true))
      let padded = false
      for (const seed of [1, 2]) {
        const batch = randomBatch(seed)
        const dense = await engine.evalStep(batch, { returnLogits: true, returnGates: true })
        const before = tf.memory().numTensors
        const r = await evalHardSkip(engine, batch, { repeats: 1, returnLogits: true })
        expect(tf.memory().numTensors).toBe(before) // no leaks
        // gates really are exactly 0 for a good fraction of (token, layer) pairs, and not for all of them
        const zerosDense = dense.rawGates!.filter((g) => g === 0).length / dense.rawGates!.length
        expect(r.zeroFraction).toBeGreaterThan(0.2)
        expect(r.zeroFraction).toBeLessThan(0.9)
        expect(r.zeroFraction).toBeCloseTo(zerosDense, 12)
        expect(dense.rawGates!.some((g) => g > 0 && g < 1)).toBe(true) // fractional gates too
        expect(r.tokens).toBe(B * T)
        // the gather/pad path ran: some layer is partly skipped, with different live counts per sequence (padding)
        const sk = r.skippedPerSequence
        expect(sk.length).toBe(B)
        padded ||= sk[0]!.some((z, l) => z > 0 && z < T && z !== sk[1]![l])
        expect(Math.abs(r.ceSum - dense.ceSum) / r.tokens).toBeLessThan(1e-4)
        expect(Math.abs(r.ceSum - dense.ceSum)).toBeLessThan(1e-4)
        expect(r.denseCeSum).toBeCloseTo(dense.ceSum, 4)
        let maxDiff = 0
        for (let i = 0; i < dense.logits!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.logits![i]! - dense.logits![i]!))
        expect(maxDiff).toBeLessThan(1e-4)
        if (process.env.HARD_SKIP_DEBUG) console.log({ backend, zeroFraction: r.zeroFraction, layers: r.layerZeroFractions, dCe: r.ceSum - dense.ceSum, maxDiff, pred: r.predictedSpeedup, predMean: r.predictedSpeedupMean, meas: r.measuredSpeedup })
        // speed-up bookkeeping: FLOPs predict a saving; timings are measured (not asserted: shared CPUs)
        expect(r.predictedSpeedup).toBeGreaterThan(1.1)
        expect(r.predictedSpeedupMean).toBeGreaterThan(1.1)
        expect(r.skipFlops).toBeLessThan(r.denseFlops)
        expect(r.denseMs).toBeGreaterThan(0)
        expect(r.skipMs).toBeGreaterThan(0)
        expect(r.measuredSpeedup).toBeCloseTo(r.denseMs / r.skipMs, 12)
      }
      expect(padded).toBe(true)
    })

    it("tf.gather row moves ('tf', the non-wasm/cpu path) give the same result as JS row copies", async () => {
      await init(tinyModel('key', true))
      const batch = randomBatch(1)
      const a = await evalHardSkip(engine, batch, { repeats: 0, returnLogits: true, rowGather: 'js' })
      const b = await evalHardSkip(engine, batch, { repeats: 0, returnLogits: true, rowGather: 'tf' })
      expect(b.ceSum).toBe(a.ceSum)
      expect(b.logits).toEqual(a.logits)
      expect(b.skippedPerSequence).toEqual(a.skippedPerSequence)
    })

    it('a sequence skipping every block and blocks skipped by every token', async () => {
      const m = tinyModel('key', true)
      // s₀ depends on the token alone (spec A.4): sequence 0 from tokens with S₀ ≥ 1 (skips all 4 blocks),
      // sequence 1 from tokens with s₀ = 0 (live in the blocks of mask 0)
      const D = m.config.dim
      const emb = m.weights.get('tok_embeddings.weight')!
      const w = m.weights.get('masks.0.linear.weight')!
      const bias = m.weights.get('masks.0.linear.bias')![0]!
      const s0 = Array.from({ length: V }, (_, id) => {
        const row = emb.subarray(id * D, (id + 1) * D)
        const r = 1 / Math.sqrt(row.reduce((a, x) => a + x * x, 0) / D + m.config.norm_eps)
        return Math.max(0, row.reduce((a, x, i) => a + x * r * w[i]!, 0) + bias)
      })
      const high = s0.flatMap((s, id) => (s > 1.05 ? [id] : []))
      const low = s0.flatMap((s, id) => (s === 0 ? [id] : []))
      expect(high.length).toBeGreaterThan(0)
      expect(low.length).toBeGreaterThan(0)
      const ids = Int32Array.from({ length: B * T + 1 }, (_, i) => (i < T ? high[i % high.length]! : low[(i * 7) % low.length]!))
      const batch: Batch = { inputs: ids.slice(0, B * T), targets: ids.slice(1), batchSize: B, seqLen: T }
      await init(m)
      const dense = await engine.evalStep(batch, { returnLogits: true })
      const r = await evalHardSkip(engine, batch, { repeats: 0, returnLogits: true })
      expect(r.skippedPerSequence[0]).toEqual([T, T, T, T])
      expect(r.skippedPerSequence[1]![0]).toBeLessThan(T)
      expect(Math.abs(r.ceSum - dense.ceSum)).toBeLessThan(1e-4)
      let maxDiff = 0
      for (let i = 0; i < dense.logits!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.logits![i]! - dense.logits![i]!))
      expect(maxDiff).toBeLessThan(1e-4)
      // every token skipping every block: the blocks are not run at all, the output is the dense one exactly
      const all: Batch = { inputs: Int32Array.from({ length: B * T }, (_, i) => high[i % high.length]!), targets: batch.targets, batchSize: B, seqLen: T }
      const d2 = await engine.evalStep(all, { returnLogits: true })
      const r2 = await evalHardSkip(engine, all, { repeats: 0, returnLogits: true })
      expect(r2.zeroFraction).toBe(1)
      expect(r2.ceSum).toBe(d2.ceSum)
      expect(r2.logits).toEqual(d2.logits)
    })

    it('with no zero gates it is the dense computation', async () => {
      await init(tinyModel('key', false))
      const batch = randomBatch(3)
      const dense = await engine.evalStep(batch, { returnLogits: true, returnGates: true })
      expect(dense.rawGates!.some((g) => g === 0)).toBe(false)
      expect(dense.rawGates!.some((g) => g < 1)).toBe(true)
      const r = await evalHardSkip(engine, batch, { repeats: 0, returnLogits: true })
      expect(r.zeroFraction).toBe(0)
      expect(r.predictedSpeedup).toBe(1)
      expect(Number.isNaN(r.denseMs)).toBe(true)
      expect(Math.abs(r.ceSum - dense.ceSum)).toBeLessThan(1e-5)
      let maxDiff = 0
      for (let i = 0; i < dense.logits!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.logits![i]! - dense.logits![i]!))
      expect(maxDiff).toBeLessThan(1e-6)
    })

    it('refuses "query" and "none" gating: skipping is exact only with key gating', async () => {
      for (const ga of ['query', 'none'] as GatedAttention[]) {
        await init(tinyModel(ga, true))
        const err = await evalHardSkip(engine, randomBatch(1)).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(HardSkipUnsupportedError)
        expect((err as Error).message).toMatch(new RegExp(`only with gated_attention "key".*"${ga}"`))
      }
    })

    it('rejects malformed batches', async () => {
      await init(tinyModel('key', true))
      const b = randomBatch(1)
      await expect(evalHardSkip(engine, { ...b, targets: b.targets.slice(1) })).rejects.toThrow(/needs 64 inputs and targets/)
      await expect(evalHardSkip(engine, { ...b, inputs: b.inputs.map(() => V) })).rejects.toThrow(/outside the vocabulary/)
    })
  })
}
