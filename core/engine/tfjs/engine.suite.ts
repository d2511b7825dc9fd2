/**
 * Behaviour of the tfjs engine beyond the golden numbers: skipped tokens, key-gated attention, finite differences,
 * tensor leaks, partial batches, state round trips. Shared by the per-backend test files.
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGoldenCase, sliceBatch } from '../../../tests/fixtures/golden/index.js'
import { parseModelConfig, type ModelConfig } from '../../model/config.js'
import { initWeights } from '../../model/init.js'
import type { Weights } from '../../model/params.js'
import { REFERENCE_OPTIMIZER, type Batch, type ControllerLoss } from '../engine.js'
import type { BackendName } from './backend.js'
import type { TfjsEngine } from './engine.js'
import { createTfjsEngine } from './index.js'
import { block, forward, ModelConstants } from './model.js'
import { ParamStore } from './params.js'

function randomBatch(V: number, B: number, T: number, seed: number): Batch {
  let s = seed >>> 0
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % V)
  const ids = Int32Array.from({ length: B * T + 1 }, next)
  return { inputs: ids.slice(0, B * T), targets: ids.slice(1), batchSize: B, seqLen: T }
}

/** A tiny gated model whose gates are 0, fractional and 1 (mask weights and attention scaled up). */
function tinyGated(): { config: ModelConfig; weights: Weights } {
  const config = parseModelConfig({ dim: 8, n_layers: 4, n_heads: 2, n_kv_heads: 1, vocab_size: 13, max_seq_len: 6, zero_init_masks: false, gated_attention: 'key' })
  const weights = initWeights(config, 7)
  for (const [k, v] of weights) {
    if (k.startsWith('masks.') && k.endsWith('weight')) v.forEach((x, i) => (v[i] = x * 8))
    if (k.startsWith('masks.') && k.endsWith('bias')) v.fill(0.3)
    if (/w[qk]\.weight$/.test(k)) v.forEach((x, i) => (v[i] = x * 10))
  }
  return { config, weights }
}

/** l2 controller loss in float64 from raw gates (L, N), as engine.ts defines it. */
function l2ControllerLoss(g: Float32Array, L: number, c: Extract<ControllerLoss, { kind: 'l2' }>): number {
  const N = g.length / L
  let dm = 0
  let dv = 0
  for (let l = 0; l < L; l++) {
    const row = Array.from(g.subarray(l * N, (l + 1) * N))
    const m = row.reduce((a, b) => a + b, 0) / N
    const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1)
    dm += (m - c.meanTargets[l]!) ** 2
    dv += (v - c.varTargets[l]!) ** 2
  }
  return c.meanCoef * Math.sqrt(dm) + c.varCoef * Math.sqrt(dv)
}

export function engineSuite(backend: BackendName) {
  describe(`tfjs engine behaviour on ${backend}`, () => {
    let engine: TfjsEngine
    beforeAll(async () => {
      engine = await createTfjsEngine({ backend })
    })
    afterAll(async () => engine.dispose())

    it('a token whose gate is 0 passes through a block unchanged', () => {
      const c = loadGoldenCase('gated_key')
      const store = new ParamStore(c.config, c.weights)
      const consts = new ModelConstants(c.config)
      try {
        tf.tidy(() => {
          const out = forward(store.model, c.config, consts, c.batch.inputs, c.batch.batchSize, c.batch.seqLen, { hidden: true })
          const gates = out.gates!.arraySync()
          const hidden = out.hidden!.map((h) => h.arraySync())
          let checked = 0
          for (let l = 1; l < c.config.n_layers; l++)
            for (let n = 0; n < gates[l]!.length; n++)
              if (gates[l]![n] === 0) {
                expect(hidden[l]![n]).toEqual(hidden[l - 1]![n]) // bit-identical
                checked++
              } else expect(hidden[l]![n]).not.toEqual(hidden[l - 1]![n])
          expect(checked).toBeGreaterThan(4)
        })
      } finally {
        store.dispose()
        consts.dispose()
      }
    })

    it("with gated_attention 'key', a skipped token's input does not reach other tokens of that block", () => {
      const c = loadGoldenCase('gated_key')
      const { B, T, D } = { B: 2, T: 8, D: c.config.dim }
      const results: Record<string, number> = {}
      for (const mode of ['key', 'none'] as const) {
        const config = { ...c.config, gated_attention: mode }
        const store = new ParamStore(config, c.weights)
        const consts = new ModelConstants(config)
        tf.tidy(() => {
          const x = tf.randomNormal([B * T, D], 0, 1, 'float32', 1) as tf.Tensor2D
          const gv = new Float32Array(B * T).fill(1)
          const skipped = 2 // batch 0, position 2
          gv[skipped] = 0
          gv[5] = 0.5
          const g = tf.tensor1d(gv)
          const bump = tf.tensor2d(Float32Array.from({ length: B * T * D }, (_, i) => (Math.floor(i / D) === skipped ? 3 : 0)), [B * T, D])
          const ctx = { cfg: config, B, T, consts }
          const y0 = block(store.model.layers[1]!, x, g, ctx).arraySync()
          const y1 = block(store.model.layers[1]!, tf.add(x, bump) as tf.Tensor2D, g, ctx).arraySync()
          let worst = 0
          for (let n = 0; n < B * T; n++) if (n !== skipped) for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(y1[n]![d]! - y0[n]![d]!))
          expect(y1[skipped]).toEqual((tf.add(x, bump) as tf.Tensor2D).arraySync()[skipped]) // its own residual passes unchanged
          results[mode] = worst
        })
        store.dispose()
        consts.dispose()
      }
      expect(results.key!).toBeLessThan(1e-4) // only the 1e-6 clamp floor of log(g) leaks
      expect(results.none!).toBeGreaterThan(1e-2) // without key gating later tokens do see it
    })

    it('gradients agree with central finite differences (tiny gated model, l2 controller)', async () => {
      const { config, weights } = tinyGated()
      const batch = randomBatch(13, 2, 6, 5)
      const L = config.n_layers
      const ctrl: ControllerLoss = { kind: 'l2', meanCoef: 0.3, varCoef: -0.2, meanTargets: [1, 0.8, 0.8, 1], varTargets: [0, 0.16, 0.16, 0] }
      await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
      const probe = await engine.evalStep(batch, { returnGates: true })
      const g0 = probe.rawGates!
      expect(g0.some((x) => x === 0)).toBe(true)
      expect(g0.some((x) => x > 0 && x < 1)).toBe(true)
      const N = batch.batchSize * batch.seqLen
      const lossAt = async (w: Weights) => {
        await engine.setWeights(w)
        const r = await engine.evalStep(batch, { returnGates: true })
        return r.ceSum / N + l2ControllerLoss(r.rawGates!, L, ctrl as Extract<ControllerLoss, { kind: 'l2' }>)
      }
      await engine.setWeights(weights)
      const { loss, grads } = await engine.gradients(batch, ctrl)
      expect(loss).toBeCloseTo(await lossAt(weights), 5)
      let tested = 0
      for (const [name, g] of grads) {
        const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0))
        const w = weights.get(name)!
        const eps = 5e-2 * Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length) // a 5% step of the tensor's RMS
        if (2 * eps * norm < 5e-5) continue // too close to the float32 resolution of the loss (~1e-6)
        // derivative along this tensor's own gradient direction: exactly ‖g‖ for a correct gradient
        const shifted = (sign: number) => new Map([...weights].map(([k, v]) => [k, k === name ? v.map((x, i) => x + (sign * eps * g[i]!) / norm) : v]))
        const fd = ((await lossAt(shifted(1))) - (await lossAt(shifted(-1)))) / (2 * eps)
        expect(Math.abs(fd - norm) / norm, `${name}: finite difference ${fd}, gradient norm ${norm}`).toBeLessThan(2e-2)
        tested++
      }
      expect(tested).toBeGreaterThan(20)
      expect(grads.get('masks.1.linear.weight')!.some((x) => x !== 0)).toBe(true)
    })

    it('leaks no tensors across 20 train and eval steps', async () => {
      const { config, weights } = tinyGated()
      await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
      const b = randomBatch(13, 2, 6, 9)
      const micro = [sliceBatch(b, 0, 1), sliceBatch(b, 1, 2)]
      const ctrl: ControllerLoss = { kind: 'linear', meanCoefs: [0.1, 0.1, 0.1, 0.1], varCoefs: [-0.1, -0.1, -0.1, -0.1] }
      const step = async () => {
        await engine.trainStep(micro, 1e-3, ctrl)
        await engine.evalStep(b, { returnLogits: true, returnGates: true })
      }
      await step() // builds the per-length constants (RoPE tables, causal mask)
      const before = tf.memory().numTensors
      for (let i = 0; i < 20; i++) await step()
      expect(tf.memory().numTensors).toBe(before)
    })

    it('averages gate moments over micro-batches (GateMetrics) and the controller loss per micro-batch', async () => {
      const c = loadGoldenCase('gated_key')
      await engine.init({ config: c.config, weights: c.weights, optimizer: REFERENCE_OPTIMIZER })
      const halves = [sliceBatch(c.batch, 0, 1), sliceBatch(c.batch, 1, 2)]
      const each = await Promise.all(halves.map((h) => engine.evalStep(h)))
      const r = await engine.trainStep(halves, 1e-3, c.expected.trajectory_acc2.controller)
      expect(r.gates!.count).toBe(2)
      for (const key of ['masks', 'gates', 'zeros', 'resid'] as const)
        for (const part of ['mean', 'meanSq'] as const)
          r.gates![key][part].forEach((x, l) => expect(x).toBeCloseTo((each[0]!.gates![key][part][l]! + each[1]!.gates![key][part][l]!) / 2, 5))
      expect(r.loss).toBeCloseTo(c.expected.trajectory_acc2.losses[0]!, 5)
      expect(r.ce).toBeCloseTo((each[0]!.ceSum + each[1]!.ceSum) / 16, 5)
    })

    it('evaluates a last partial batch (fewer sequences) consistently', async () => {
      const c = loadGoldenCase('gated_key')
      await engine.init({ config: c.config, weights: c.weights, optimizer: REFERENCE_OPTIMIZER })
      const full = await engine.evalStep(c.batch)
      const first = await engine.evalStep(sliceBatch(c.batch, 0, 1))
      const last = await engine.evalStep(sliceBatch(c.batch, 1, 2))
      expect(last.tokens).toBe(c.batch.seqLen)
      expect(first.ceSum + last.ceSum).toBeCloseTo(full.ceSum, 4)
      expect(full.ceSum / full.tokens).toBeCloseTo(c.expected.loss, 5)
      expect(last.gates!.count).toBe(1)
      const short = await engine.evalStep({ ...sliceBatch(c.batch, 1, 2), seqLen: 8 })
      expect(short.tokens).toBe(8)
    })

    it('round-trips weights and optimizer state exactly; resuming continues identically', async () => {
      const c = loadGoldenCase('gated_key')
      const opt = c.expected.trajectory.optimizer
      const ctrl = c.expected.trajectory.controller
      await engine.init({ config: c.config, weights: c.weights, optimizer: opt })
      const w0 = await engine.getWeights()
      for (const [k, v] of c.weights) expect(w0.get(k)).toEqual(v)
      for (let i = 0; i < 2; i++) await engine.trainStep([c.batch], 1e-3, ctrl)
      const w = await engine.getWeights()
      const st = await engine.getOptimizerState()
      expect(st.step).toBe(2)
      const next = await engine.trainStep([c.batch], 1e-3, ctrl)
      const wNext = await engine.getWeights()
      await engine.init({ config: c.config, weights: w, optimizer: opt, optimizerState: st })
      const again = await engine.trainStep([c.batch], 1e-3, ctrl)
      expect(again.loss).toBe(next.loss)
      expect(await engine.getWeights()).toEqual(wNext)
    })

    it('rejects bad inputs with messages that say what is wrong', async () => {
      const c = loadGoldenCase('dense_gqa')
      await engine.init({ config: c.config, weights: c.weights, optimizer: REFERENCE_OPTIMIZER })
      await expect(engine.evalStep({ ...c.batch, inputs: c.batch.inputs.map(() => 99) })).rejects.toThrow(/outside the vocabulary \[0, 32\)/)
      await expect(engine.evalStep({ ...c.batch, batchSize: 3 })).rejects.toThrow(/needs 24 inputs/)
      const missing = new Map(c.weights)
      missing.delete('output.weight')
      await expect(engine.setWeights(missing)).rejects.toThrow(/missing output.weight/)
      await expect(engine.trainStep([], 1e-3, { kind: 'none' })).rejects.toThrow(/at least one micro-batch/)
    })

    it('dense models report no gate moments and keep zero masks exactly zero', async () => {
      const c = loadGoldenCase('dense_gqa')
      await engine.init({ config: c.config, weights: c.weights, optimizer: REFERENCE_OPTIMIZER })
      const r = await engine.trainStep([c.batch], 1e-3, { kind: 'none' })
      expect(r.gates).toBeNull()
      expect(r.controllerLoss).toBe(0)
      const w = await engine.getWeights()
      for (const [k, v] of w) if (k.startsWith('masks.')) expect(v.every((x) => x === 0)).toBe(true)
    })
  })
}
