/**
 * Behaviour of the onnxruntime engine beyond the golden numbers: dense baselines stay exactly dense, a gate-0
 * token passes through every block unchanged, repeated steps do not leak, resume is exact, the exported ONNX
 * model reproduces the engine's logits, controller losses match their definitions, and errors are clear.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { loadGoldenCase, maxAbsDiff } from '../../../tests/fixtures/golden/index.js'
import { dims, parseModelConfig, type ModelConfig } from '../../model/config.js'
import { initWeights } from '../../model/init.js'
import { paramSpecs } from '../../model/params.js'
import { REFERENCE_OPTIMIZER, type Batch, type ControllerLoss } from '../engine.js'
import { exportOnnxModel } from './export.js'
import { createOrtEngine, type OrtEngineOptions } from './ort-engine.js'
import { OrtProviderError } from './session.js'

function tinyConfig(over: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({ dim: 32, n_layers: 4, n_heads: 4, n_kv_heads: 2, vocab_size: 64, max_seq_len: 16, ...over })
}

function batchOf(B: number, T: number, V: number, seed = 1): Batch {
  let s = seed
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % V
  return { inputs: Int32Array.from({ length: B * T }, next), targets: Int32Array.from({ length: B * T }, next), batchSize: B, seqLen: T }
}

async function engineFor(cfg: ModelConfig, o: OrtEngineOptions = {}, seed = 0) {
  const e = await createOrtEngine({ provider: 'cpu', threads: 1, ...o })
  await e.init({ config: cfg, weights: initWeights(cfg, seed), optimizer: { ...REFERENCE_OPTIMIZER, lr: 1e-2 } })
  return e
}

const maskNames = (cfg: ModelConfig) => paramSpecs(cfg).filter((p) => p.group === 'masks').map((p) => p.name)

describe('dense baselines stay dense', () => {
  for (const fast of [true, false])
    it(`mask parameters and their moments stay exactly zero (${fast ? 'fast path' : 'full gate path'})`, async () => {
      const cfg = tinyConfig({ zero_init_masks: true, gated_attention: 'key' })
      const e = await engineFor(cfg, { denseFastPath: fast })
      const b = batchOf(2, 16, 64)
      for (let i = 0; i < 4; i++) {
        const r = await e.trainStep([b], 1e-2, { kind: 'none' })
        expect(r.gates).toBeNull()
      }
      const w = await e.getWeights()
      const st = await e.getOptimizerState()
      for (const n of maskNames(cfg)) {
        expect(w.get(n)!.every((x) => x === 0), n).toBe(true)
        expect(st.m.get(n)!.every((x) => x === 0) && st.v.get(n)!.every((x) => x === 0), n).toBe(true)
      }
      const ev = await e.evalStep(b, { returnGates: true })
      expect(ev.rawGates!.every((x) => x === 1)).toBe(true)
      await e.dispose()
    })

  it('the fast path and the full gate path train identically', async () => {
    const cfg = tinyConfig({ zero_init_masks: true })
    const b = batchOf(2, 16, 64)
    const losses: number[][] = []
    const weights = []
    for (const fast of [true, false]) {
      const e = await engineFor(cfg, { denseFastPath: fast })
      const l: number[] = []
      for (let i = 0; i < 3; i++) l.push((await e.trainStep([b], 1e-2, { kind: 'none' })).loss)
      losses.push(l)
      weights.push(await e.getWeights())
      await e.dispose()
    }
    expect(losses[0]).toEqual(losses[1])
    for (const [k, a] of weights[0]!) expect(maxAbsDiff(a, weights[1]!.get(k)!).diff, k).toBe(0)
  })
})

describe('depths', () => {
  it('odd-depth dense baselines (both paths) and a 2-layer gated model train and evaluate', async () => {
    const b = batchOf(2, 16, 64)
    const cases: [Record<string, unknown>, OrtEngineOptions][] = [
      [{ n_layers: 3, zero_init_masks: true }, { denseFastPath: true }],
      [{ n_layers: 3, zero_init_masks: true }, { denseFastPath: false }],
      [{ n_layers: 1, zero_init_masks: true }, { denseFastPath: false }],
      [{ n_layers: 2, zero_init_masks: false, gated_attention: 'key' }, {}],
    ]
    const losses: number[] = []
    for (const [over, o] of cases) {
      const cfg = tinyConfig(over)
      const e = await engineFor(cfg, o)
      const r = await e.trainStep([b], 1e-2, { kind: 'none' })
      expect(Number.isFinite(r.loss)).toBe(true)
      const ev = await e.evalStep(b, { returnGates: true })
      expect(ev.rawGates!.length).toBe(cfg.n_layers * 32)
      losses.push(r.loss)
      await e.dispose()
    }
    expect(losses[0]).toBe(losses[1]) // the fast path is exact for odd depth too
  })
})

describe('skipping', () => {
  it('a token whose gate is 0 passes through every block unchanged', async () => {
    const cfg = tinyConfig({ zero_init_masks: false, gated_attention: 'key' })
    const w = initWeights(cfg, 3)
    w.set('masks.0.linear.bias', Float32Array.of(5)) // S₀ ≥ 1 for every token ⇒ g = 0 in all blocks
    for (const n of paramSpecs(cfg).map((p) => p.name)) if (n.endsWith('norm.weight')) w.set(n, w.get(n)!.map((_, i) => 1 + 0.1 * Math.sin(i)))
    const e = await createOrtEngine({ provider: 'cpu', threads: 1 })
    await e.init({ config: cfg, weights: w, optimizer: REFERENCE_OPTIMIZER })
    const b = batchOf(1, 16, 64, 7)
    const r = await e.evalStep(b, { returnLogits: true, returnGates: true })
    expect(r.rawGates!.every((x) => x === 0)).toBe(true)
    // expected: logits = Wout · outnorm(innorm(emb[token])) computed on the host
    const { D, V } = dims(cfg)
    const rms = (x: Float64Array, g: Float32Array) => {
      const ms = x.reduce((s, v) => s + v * v, 0) / D
      const r = 1 / Math.sqrt(ms + cfg.norm_eps)
      return x.map((v, i) => v * r * g[i]!)
    }
    const emb = w.get('tok_embeddings.weight')!
    const out = w.get('output.weight')!
    const expected = new Float64Array(16 * V)
    for (let t = 0; t < 16; t++) {
      const tok = b.inputs[t]!
      const h0 = rms(Float64Array.from(emb.subarray(tok * D, (tok + 1) * D)), w.get('input_norm.weight')!)
      const hn = rms(h0, w.get('output_norm.weight')!)
      for (let v = 0; v < V; v++) {
        let s = 0
        for (let d = 0; d < D; d++) s += out[v * D + d]! * hn[d]!
        expected[t * V + v] = s
      }
    }
    expect(maxAbsDiff(r.logits!, expected).diff).toBeLessThan(1e-5)
    // every block output equals its input: all resid norms equal ‖h₀‖
    const res = r.gates!.resid.mean
    for (let l = 1; l < res.length; l++) expect(Math.abs(res[l]! - res[0]!)).toBeLessThan(1e-5)
    await e.dispose()
  })
})

describe('state', () => {
  it('repeated steps do not grow process memory', async () => {
    const cfg = tinyConfig({ dim: 64, vocab_size: 4096, zero_init_masks: false, gated_attention: 'key' }) // ~0.7 M params
    const e = await engineFor(cfg)
    const b = batchOf(2, 16, 4096)
    const ctrl: ControllerLoss = { kind: 'linear', meanCoefs: [0.01, 0.01, 0.01, 0.01], varCoefs: [0, 0, 0, 0] }
    for (let i = 0; i < 20; i++) await e.trainStep([b], 1e-3, ctrl)
    const before = process.memoryUsage().rss
    for (let i = 0; i < 80; i++) {
      await e.trainStep([b, b], 1e-3, ctrl)
      if (i % 10 === 0) await e.evalStep(b)
    }
    const grown = (process.memoryUsage().rss - before) / 2 ** 20
    // a leak of the step's outputs alone would be ~8 MB per step (>600 MB here)
    expect(grown).toBeLessThan(120)
    await e.dispose()
  })

  it('resume from getWeights/getOptimizerState continues exactly', async () => {
    const cfg = tinyConfig({ zero_init_masks: false, gated_attention: 'query' })
    const b = batchOf(2, 16, 64)
    const ctrl: ControllerLoss = { kind: 'linear', meanCoefs: [0.1, 0.1, 0.1, 0.1], varCoefs: [-0.1, -0.1, -0.1, -0.1] }
    const a = await engineFor(cfg)
    for (let i = 0; i < 3; i++) await a.trainStep([b], 1e-2, ctrl)
    const w = await a.getWeights()
    const st = await a.getOptimizerState()
    const la = await a.trainStep([b], 1e-2, ctrl)
    const c = await createOrtEngine({ provider: 'cpu', threads: 1 })
    await c.init({ config: cfg, weights: w, optimizer: { ...REFERENCE_OPTIMIZER, lr: 1e-2 }, optimizerState: st })
    const lc = await c.trainStep([b], 1e-2, ctrl)
    expect(lc).toEqual(la)
    const wa = await a.getWeights()
    const wc = await c.getWeights()
    for (const [k, x] of wa) expect(maxAbsDiff(x, wc.get(k)!).diff, k).toBe(0)
    await a.dispose()
    await c.dispose()
  })
})

describe('controller losses', () => {
  it('linear and l2 values match their definitions on the gates', async () => {
    const cfg = tinyConfig({ zero_init_masks: false, gated_attention: 'key' })
    const { L } = dims(cfg)
    const b = batchOf(2, 16, 64)
    const e = await engineFor(cfg, {}, 5)
    const { rawGates } = await e.evalStep(b, { returnGates: true })
    const N = 32
    const mHat = Array.from({ length: L }, (_, l) => rawGates!.slice(l * N, (l + 1) * N).reduce((s, x) => s + x, 0) / N)
    const vHat = Array.from({ length: L }, (_, l) => rawGates!.slice(l * N, (l + 1) * N).reduce((s, x) => s + (x - mHat[l]!) ** 2, 0) / (N - 1))
    const cm = [0.1, 0.2, 0.3, 0.4]
    const cv = [-0.2, 0.1, 0.05, -0.3]
    const lin = (await e.trainStep([b], 0, { kind: "linear", meanCoefs: cm, varCoefs: cv })).controllerLoss
    const expectLin = cm.reduce((s, c, l) => s + c * mHat[l]!, 0) / L + cv.reduce((s, c, l) => s + c * vHat[l]!, 0) / L
    expect(Math.abs(lin - expectLin)).toBeLessThan(1e-6)
    const mt = [1, 0.8, 0.8, 1]
    const vt = [0, 0.16, 0.16, 0]
    const l2 = (await e.trainStep([b], 0, { kind: 'l2', meanCoef: 0.5, varCoef: 0.25, meanTargets: mt, varTargets: vt })).controllerLoss
    const expectL2 = 0.5 * Math.hypot(...mHat.map((m, l) => m - mt[l]!)) + 0.25 * Math.hypot(...vHat.map((v, l) => v - vt[l]!))
    expect(Math.abs(l2 - expectL2)).toBeLessThan(1e-6)
    await e.dispose()
  })
})

describe('export', () => {
  it('the exported ONNX model reproduces the golden logits, and the engine logits at other batch and sequence sizes', async () => {
    const c = loadGoldenCase('gated_key')
    const dir = mkdtempSync(join(tmpdir(), 'skipbench-ort-'))
    try {
      const path = join(dir, 'model.onnx')
      await exportOnnxModel(c.config, c.weights, path)
      const s = await ort.InferenceSession.create(path)
      expect(s.inputNames).toEqual(['input_ids'])
      expect(s.outputNames).toEqual(['logits', 'gates'])
      const ids = new ort.Tensor('int64', BigInt64Array.from(Array.from(c.batch.inputs, BigInt)), [c.batch.batchSize, c.batch.seqLen])
      const r = await s.run({ input_ids: ids })
      expect(r.logits!.dims).toEqual([c.batch.batchSize, c.batch.seqLen, c.config.vocab_size])
      expect(maxAbsDiff(r.logits!.data as Float32Array, c.expected.logits).diff).toBeLessThan(1e-4)
      expect(maxAbsDiff(r.gates!.data as Float32Array, c.expected.gates).diff).toBeLessThan(1e-5)
      // dynamic axes: 3 sequences of 5 tokens, against the engine's own evaluation
      const e = await createOrtEngine({ provider: 'cpu', threads: 1 })
      await e.init({ config: c.config, weights: c.weights, optimizer: c.expected.trajectory.optimizer })
      const b = batchOf(3, 5, c.config.vocab_size)
      const ref = await e.evalStep(b, { returnLogits: true })
      const r2 = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(Array.from(b.inputs, BigInt)), [3, 5]) })
      expect(r2.logits!.dims).toEqual([3, 5, c.config.vocab_size])
      expect(maxAbsDiff(r2.logits!.data as Float32Array, ref.logits!).diff).toBeLessThan(1e-5)
      await e.dispose()
      await s.release()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('errors', () => {
  it('explains an unavailable CUDA provider', async () => {
    const err = await createOrtEngine({ provider: 'cuda' }).catch((x: unknown) => x)
    expect(err).toBeInstanceOf(OrtProviderError)
    expect(String((err as Error).message)).toMatch(/cuda/i)
  })
  it("'auto' falls back to the CPU and says why", async () => {
    const e = await createOrtEngine({ provider: 'auto', threads: 1 })
    expect(e.info.backend).toMatch(/^ort-(cpu|cuda)$/)
    if (e.info.backend === 'ort-cpu') expect(e.info.versions.notes).toMatch(/cuda/)
  })
  it('rejects token ids outside the vocabulary', async () => {
    const cfg = tinyConfig()
    const e = await engineFor(cfg)
    const b = batchOf(1, 16, 64)
    b.inputs[3] = 64
    await expect(e.evalStep(b)).rejects.toThrow(/outside the vocabulary/)
    await e.dispose()
  })
})
