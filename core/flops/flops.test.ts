/**
 * Expected values are derived by hand from spec D.1 / H.6 (the arithmetic is written out beside each), never by
 * calling the implementation. One golden value beyond 2^53 comes from running the reference formulas in Python.
 */
import { describe, expect, it } from 'vitest'
import { parseModelConfig, type ModelConfig } from '../model/config.js'
import {
  correctedForwardFlops,
  cumulativeTrainingFlops,
  flopsReport,
  inferenceFlops,
  paperComponents,
  paperFlopsTransformer,
  paperTrainingFlopsExact,
  paramCount,
  trainingFlops,
} from './index.js'

/** D = 8, H = Hkv = 2, hd = 4, F = 32, V = 11, T = 3. */
const tiny = (extra: Record<string, unknown> = {}) =>
  parseModelConfig({ dim: 8, n_heads: 2, n_layers: 2, vocab_size: 11, max_seq_len: 3, ...extra })
/** Odd L is invalid for gated configs, so build it without validation for the reference-only odd-L checks. */
const tinyRaw = (n_layers: number): ModelConfig => ({ ...tiny(), n_layers })

// Paper components of `tiny`, by hand:
// R      = T·(4D + 2 + 8) = 3·(32 + 10)                                         = 126
// SwiGLU = 3·(2·T·D·F) + 14·T·F + T·F = 3·(2·3·8·32) + 14·96 + 96 = 4608 + 1344 + 96 = 6048
// RoPE   = 6·T·H·hd // 2 + 6·T·Hkv·hd // 2 = 144//2 + 144//2                      = 144
// Attn   = q,k,v 3·(2·T·D·H·hd) = 3·384 = 1152; RoPE 144; QKᵀ 2·T²·D = 144; ÷√hd H·T² = 18; mask 18;
//          softmax 12·H·T² = 216; P·V 144; wo 2·T·D² = 384                      → 2220
// Block  = 2220 + 6048 + 4·126 + 4·T·D = 2220 + 6048 + 504 + 96                  = 8868
// Head   = 2·T·D·V = 2·3·8·11                                                    = 528
const P = { R: 126, swiglu: 6048, rope: 144, attn: 2220, block: 8868, head: 528 }

describe('paper estimator (exact port of estimate_flops.py)', () => {
  it('reproduces the spec D.4 components and the worked example (default config, dense)', () => {
    const c = parseModelConfig({})
    const k = paperComponents(c)
    expect(k).toEqual({
      rmsNorm: 3_155_968n,
      swiglu: 14_542_700_544n,
      rotaryEmb: 4_718_592n,
      attention: 8_233_943_040n,
      block: 22_792_413_184n,
      lmHead: 79_047_426_048n,
    })
    // 2R + 2·12·Block + head = 6,311,936 + 547,017,916,416 + 79,047,426,048
    expect(6_311_936 + 547_017_916_416 + 79_047_426_048).toBe(626_071_654_400)
    expect(paperFlopsTransformer(c)).toBe(626_071_654_400n)
    const inf = inferenceFlops(c, { estimator: 'paper' })
    expect(inf.perSequence).toBe(626_071_654_400)
    expect(inf.perToken).toBe(626_071_654_400 / 1024)
    expect(inf.exact).toBe(true)
  })

  it('charges gated configs the mask term: 2·(L/2)·T·D + (L/2 − 1)·T = 9,437,184 + 5,120 at the defaults', () => {
    const g = parseModelConfig({ zero_init_masks: false })
    expect(inferenceFlops(g, { estimator: 'paper' }).perSequence).toBe(626_071_654_400 + 9_437_184 + 5_120)
    // the reference's plot script charges baselines the same term; H.6 says we do not (sparse=false for dense)
    expect(paperFlopsTransformer(parseModelConfig({}), true, 0n)).toBe(626_071_654_400n + 9_442_304n)
  })

  it('matches hand arithmetic on a tiny config', () => {
    const k = paperComponents(tiny())
    expect(k).toEqual({
      rmsNorm: BigInt(P.R),
      swiglu: BigInt(P.swiglu),
      rotaryEmb: BigInt(P.rope),
      attention: BigInt(P.attn),
      block: BigInt(P.block),
      lmHead: BigInt(P.head),
    })
    // dense L = 2: R + 2·(1 − 0)·2·Block + R + head = 126 + 35472 + 126 + 528
    expect(inferenceFlops(tiny(), { estimator: 'paper' }).perSequence).toBe(36_252)
    const g = tiny({ zero_init_masks: false })
    // gated s = 0: + mask 2·1·3·8 = 48 and accumulation (1 − 1)·3 = 0
    expect(inferenceFlops(g, { estimator: 'paper', sparsity: 0 }).perSequence).toBe(36_300)
    // s = 0.25: layers 2·0.75·2·8868 = 26604 → 126 + 48 + 26604 + 126 + 528
    expect(inferenceFlops(g, { estimator: 'paper', sparsity: 0.25 }).perSequence).toBe(27_432)
    // s = 0.1: layers 2·0.9·2·8868 = 31924.8 → 32752.8, int() truncates
    expect(inferenceFlops(g, { estimator: 'paper', sparsity: 0.1 }).perSequence).toBe(32_752)
    // s = 1: only norms, masks and head: 126 + 48 + 126 + 528
    expect(inferenceFlops(g, { estimator: 'paper', sparsity: 1 }).perSequence).toBe(828)
    // per token = per sequence / T
    expect(inferenceFlops(g, { estimator: 'paper', sparsity: 0.25 }).perToken).toBe(27_432 / 3)
    // a per-layer array enters through its mean, as the reference's logged zeros/mean
    expect(inferenceFlops(g, { estimator: 'paper', sparsity: [0, 0.5] }).perSequence).toBe(27_432)
  })

  it('odd L: L/2 is Python true division (0.5 * n_layers), so the L = 1 accumulation term is −T/2', () => {
    // L = 1, sparse: R 126 + mask 2·0.5·3·8 = 24 + accumulation (0.5 − 1)·3 = −1.5 + layers 2·1·1·8868 = 17736
    //               + R 126 + head 528 = 18538.5 → int() = 18538
    expect(paperFlopsTransformer(tinyRaw(1), true, 0n)).toBe(18_538n)
    // (floor division would give 126 + 2·0·24 + (0 − 1)·3 + 17736 + 126 + 528 = 18513: not what the reference does)
    expect(paperFlopsTransformer(tinyRaw(1), true, 0n)).not.toBe(18_513n)
    // L = 3, sparse, s = 0.1: mask 2·1.5·3·8 = 72, accumulation 0.5·3 = 1.5, layers 2·0.9·3·8868 = 47887.2
    //   → 126 + 72 + 1.5 + 47887.2 + 126 + 528 = 48740.7 → 48740
    expect(paperFlopsTransformer(tinyRaw(3), true, 0.1)).toBe(48_740n)
    // dense odd L (sparse=false) is plain: 126 + 2·3·8868 + 126 + 528 = 53988
    expect(inferenceFlops(tinyRaw(3), { estimator: 'paper' }).perSequence).toBe(53_988)
  })

  it('emulates Python float arithmetic beyond 2^53 (golden values from the reference formulas in CPython)', () => {
    const c = parseModelConfig({ dim: 12096, n_layers: 113, n_heads: 96, vocab_size: 43759, max_seq_len: 28878 })
    // int path (sparsity = 0, a Python int) and float path (sparsity = 0.0) round differently here
    expect(paperFlopsTransformer(c, false, 0n)).toBe(39_966_493_902_376_824n)
    expect(paperFlopsTransformer(c, false, 0)).toBe(39_966_493_902_376_832n)
    expect(paperFlopsTransformer(c, true, 0.3)).toBe(27_985_757_272_440_960n)
    const inf = inferenceFlops(c, { estimator: 'paper' })
    expect(inf.exact).toBe(false)
    expect(inf.perSequenceExact).toBe(39_966_493_902_376_824n)
    expect(flopsReport(c, { estimator: 'paper' }).inference_flops_per_sequence_exact).toBe('39966493902376824')
  })
})

// Corrected unit costs of `tiny`, by hand (per token unless stated):
// rms 4·8 + 2 + 8 = 42; wq 2·8·8 = 128; wk+wv 2·128 = 256; RoPE q 6·8/2 = 24, k 24; wo 128;
// FFN 3·(2·8·32) + 14·32 + 32 = 1536 + 448 + 32 = 2016; residual adds 2·8 = 16 (+ gate products 16 if gated);
// per attention entry: QKᵀ 2·2·4 = 16, scale 2, mask 2, softmax 12·2 = 24, P·V 16 → 60.
// Live token, all of it: 128 + 256 + 24 + 24 + 128 + 4·42 + 2016 = 2744, + residual.
// Query side only (no pre-attn norm, wk, wv, RoPE k): 128 + 24 + 128 + 3·42 + 2016 = 2422, + residual.
// K/V side: 42 + 256 + 24 = 322.
describe('corrected estimator (H.6)', () => {
  it('dense: each matmul once, causal triangle, no mask FLOPs', () => {
    // layer: 3·(2744 + 16) + 60·(3·4/2) = 8280 + 360 = 8640; total 2·3·42 + 2·8640 + 528 = 252 + 17280 + 528
    expect(inferenceFlops(tiny(), { estimator: 'corrected' }).perSequence).toBe(18_060)
    expect(inferenceFlops(tiny(), { estimator: 'corrected' }).perToken).toBe(18_060 / 3)
  })

  it('gated, key: a skipped (token, layer) costs nothing', () => {
    const g = tiny({ zero_init_masks: false, gated_attention: 'key' })
    // s = 0: layer 3·(2744 + 32) + 360 = 8688; masks 2·3·8 = 48, accumulation 0 → 252 + 48 + 17376 + 528
    expect(inferenceFlops(g, { estimator: 'corrected', sparsity: 0 }).perSequence).toBe(18_204)
    // s = 0.5: n = 1.5 live: 1.5·2776 = 4164 + 60·(1.5·2.5/2) = 112.5 → 4276.5; ×2 = 8553 → 252 + 48 + 8553 + 528
    expect(inferenceFlops(g, { estimator: 'corrected', sparsity: 0.5 }).perSequence).toBe(9_381)
    // s = 1: no layer work at all: 252 + 48 + 528
    expect(inferenceFlops(g, { estimator: 'corrected', sparsity: 1 }).perSequence).toBe(828)
    // per-layer: layer 0 s = 0 (8688), layer 1 s = 1 (0)
    expect(inferenceFlops(g, { estimator: 'corrected', sparsity: [0, 1] }).perSequence).toBe(252 + 48 + 8688 + 528)
  })

  it('gated, query/none: skipped tokens still pay pre-attention norm, K/V and RoPE on k', () => {
    for (const ga of ['query', 'none'] as const) {
      const g = tiny({ zero_init_masks: false, gated_attention: ga })
      // s = 0 equals key
      expect(inferenceFlops(g, { estimator: 'corrected', sparsity: 0 }).perSequence).toBe(18_204)
      // s = 0.5: 1.5·(2422 + 32) = 3681; 3·322 = 966; entries 60·0.5·6 = 180 → 4827; ×2 = 9654 → + 252 + 48 + 528
      expect(inferenceFlops(g, { estimator: 'corrected', sparsity: 0.5 }).perSequence).toBe(10_482)
      // s = 1: only the K/V side: 2·966 = 1932 → 252 + 48 + 1932 + 528
      expect(inferenceFlops(g, { estimator: 'corrected', sparsity: 1 }).perSequence).toBe(2_760)
    }
  })

  it('relationships that must hold', () => {
    const dense = parseModelConfig({ n_layers: 6 })
    expect(inferenceFlops(dense, { estimator: 'corrected' }).perSequence).toBeLessThan(
      inferenceFlops(dense, { estimator: 'paper' }).perSequence,
    )
    const key = parseModelConfig({ zero_init_masks: false, gated_attention: 'key' })
    const query = { ...key, gated_attention: 'query' as const }
    let prevKey = Infinity
    for (const s of [0, 0.1, 0.25, 0.5, 0.9, 1]) {
      const paper = inferenceFlops(key, { estimator: 'paper', sparsity: s }).perSequence
      const k = inferenceFlops(key, { estimator: 'corrected', sparsity: s }).perSequence
      const q = inferenceFlops(query, { estimator: 'corrected', sparsity: s }).perSequence
      // key-side skipping is never above the paper's count (equal when every layer is skipped: norms, masks, head)
      if (s < 1) expect(k).toBeLessThan(paper)
      else expect(k).toBe(paper)
      // the paper estimator does not depend on gated_attention
      expect(inferenceFlops(query, { estimator: 'paper', sparsity: s }).perSequence).toBe(paper)
      // query-side gating cannot skip K/V: never cheaper than key, equal only with nothing skipped
      if (s === 0) expect(q).toBe(k)
      else expect(q).toBeGreaterThan(k)
      expect(k).toBeLessThan(prevKey)
      prevKey = k
    }
    // gated at s = 0 costs more than the same dense model (mask matvecs and gate products)
    expect(inferenceFlops(key, { estimator: 'corrected' }).perSequence).toBeGreaterThan(
      inferenceFlops(parseModelConfig({}), { estimator: 'corrected' }).perSequence,
    )
  })

  it('scalar sparsity equals the same value per layer', () => {
    const g = parseModelConfig({ zero_init_masks: false, gated_attention: 'key', n_layers: 4 })
    expect(correctedForwardFlops(g, [0.3, 0.3, 0.3, 0.3])).toBe(inferenceFlops(g, { estimator: 'corrected', sparsity: 0.3 }).perSequence)
  })
})

describe('training FLOPs over every step', () => {
  const g = tiny({ zero_init_masks: false, gated_attention: 'key' })
  it('paper: Σ_steps forward(s_step) × batch, forward only', () => {
    // 36300 (s = 0) + 27432 (s = 0.25) + 32752 (s = 0.1) = 96484; × 4 sequences
    expect(trainingFlops(g, { estimator: 'paper', batchSize: 4, zeroFractions: [0, 0.25, 0.1] })).toBe(385_936)
    expect(paperTrainingFlopsExact(g, { batchSize: 4, zeroFractions: new Float64Array([0, 0.25, 0.1]) })).toBe(385_936n)
    // dense: steps alone; 5 · 36252 · 2
    expect(trainingFlops(tiny(), { estimator: 'paper', batchSize: 2, steps: 5 })).toBe(362_520)
    expect(trainingFlops(tiny(), { estimator: 'paper', batchSize: 2, zeroFractions: [0, 0, 0, 0, 0] })).toBe(362_520)
  })
  it('corrected: 3 × Σ_steps forward × batch', () => {
    // s = 0.25 key: n = 2.25: 2.25·2776 = 6246 + 60·(2.25·3.25/2) = 219.375 → 6465.375; ×2 = 12930.75
    //   → 252 + 48 + 12930.75 + 528 = 13758.75.   3 · (18204 + 13758.75) · 4 = 383553
    expect(trainingFlops(g, { estimator: 'corrected', batchSize: 4, zeroFractions: [0, 0.25] })).toBe(383_553)
    // dense: 3 · 5 · 18060 · 2
    expect(trainingFlops(tiny(), { estimator: 'corrected', batchSize: 2, steps: 5 })).toBe(541_800)
  })
  it('a realistic run: 19,560 steps of the default dense model at batch 512 (paper)', () => {
    // 626,071,654,400 · 19,560 · 512 = 6,269,944,710,512,640,000 (exact int; the number is its nearest double)
    const exact = paperTrainingFlopsExact(parseModelConfig({}), { batchSize: 512, steps: 19_560 })
    expect(exact).toBe(626_071_654_400n * 19_560n * 512n)
    expect(trainingFlops(parseModelConfig({}), { estimator: 'paper', batchSize: 512, steps: 19_560 })).toBe(Number(exact))
  })
  it('rejects bad inputs with messages that say what to change', () => {
    expect(() => trainingFlops(g, { estimator: 'paper', batchSize: 4, steps: 3 })).toThrow(/zeroFractions/)
    expect(() => trainingFlops(g, { estimator: 'paper', batchSize: 4, zeroFractions: [0, 1.5] })).toThrow(/\[0, 1\]/)
    expect(() => trainingFlops(g, { estimator: 'paper', batchSize: 4, zeroFractions: [0, NaN] })).toThrow(/zeroFractions\[1\]/)
    expect(() => trainingFlops(g, { estimator: 'paper', batchSize: 0, zeroFractions: [0] })).toThrow(/batchSize/)
    expect(() => trainingFlops(g, { estimator: 'paper', batchSize: 1, zeroFractions: [0], steps: 2 })).toThrow(/disagrees/)
    expect(() => trainingFlops(tiny(), { estimator: 'corrected', batchSize: 1, zeroFractions: [0.1] })).toThrow(/dense/)
    expect(() => trainingFlops(tiny(), { estimator: 'corrected', batchSize: 1 })).toThrow(/zeroFractions or steps/)
    expect(trainingFlops(g, { estimator: 'corrected', batchSize: 1, zeroFractions: [] })).toBe(0)
  })
})

describe('inference option checks and the report', () => {
  it('rejects out-of-range sparsity, dense sparsity and wrong per-layer lengths', () => {
    const g = tiny({ zero_init_masks: false })
    expect(() => inferenceFlops(g, { estimator: 'paper', sparsity: -0.1 })).toThrow(/\[0, 1\]/)
    expect(() => inferenceFlops(g, { estimator: 'corrected', sparsity: Infinity })).toThrow(/\[0, 1\]/)
    expect(() => inferenceFlops(g, { estimator: 'corrected', sparsity: [0.1] })).toThrow(/n_layers = 2/)
    expect(() => inferenceFlops(tiny(), { estimator: 'paper', sparsity: 0.2 })).toThrow(/dense config/)
    expect(() => inferenceFlops(tiny(), { estimator: 'nope' as 'paper' })).toThrow(/unknown FLOPs estimator/)
    expect(() => inferenceFlops({ ...g, n_layers: 3 }, { estimator: 'paper' })).toThrow(/even n_layers/)
  })
  it('flopsReport is JSON-able and carries params and per-sequence/per-token FLOPs', () => {
    const c = parseModelConfig({})
    const r = flopsReport(c, { estimator: 'paper', batchSize: 512, steps: 10 })
    expect(r).toMatchObject({
      estimator: 'paper',
      params: 190_483_974,
      inference_flops_per_sequence: 626_071_654_400,
      inference_flops_per_token: 626_071_654_400 / 1024,
      inference_flops_per_sequence_exact: '626071654400',
      training_flops: 626_071_654_400 * 10 * 512,
      training_flops_exact: String(626_071_654_400n * 5120n),
      training_steps: 10,
      batch_size: 512,
      exact: true,
      gated: false,
      gated_attention: null,
    })
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
    expect(paramCount(c)).toBe(190_483_974)
    const q = flopsReport(parseModelConfig({ zero_init_masks: false }), { estimator: 'corrected', sparsity: 0.2 })
    expect(q.gated_attention).toBe('query')
    expect(q.notes.join(' ')).toMatch(/K\/V/)
    expect(q.inference_flops_per_sequence_exact).toBeUndefined()
  })
})

describe('cumulative training FLOPs (the one step-by-step sum: run page axis, estimates, sweep costs)', () => {
  it('element n is the FLOPs of the first n steps; the last is trainingFlops; dense steps all cost the same', () => {
    const g = tiny({ zero_init_masks: false, gated_attention: 'query' })
    const zeros = [0, 0.5, 0.25, 0.5, 1]
    for (const estimator of ['paper', 'corrected'] as const) {
      const c = cumulativeTrainingFlops(g, { estimator, batchSize: 3, zeroFractions: zeros })
      expect(c.length).toBe(zeros.length + 1)
      expect(c[0]).toBe(0)
      for (let n = 1; n <= zeros.length; n++) expect(c[n]).toBe(trainingFlops(g, { estimator, batchSize: 3, zeroFractions: zeros.slice(0, n) }))
      // a step at sparsity s costs the forward pass at s × batch (× 3 for the corrected estimator's backward)
      const step2 = inferenceFlops(g, { estimator, sparsity: 0.25 }).perSequence * 3 * (estimator === 'corrected' ? 3 : 1)
      expect(c[3]! - c[2]!).toBeCloseTo(step2, 6)
      // more skipping, fewer FLOPs
      expect(c[5]! - c[4]!).toBeLessThan(c[1]! - c[0]!)
    }
    const d = tiny()
    const dense = cumulativeTrainingFlops(d, { estimator: 'corrected', batchSize: 2, steps: 4 })
    const perStep = 3 * 2 * inferenceFlops(d, { estimator: 'corrected' }).perSequence
    expect([...dense]).toEqual([0, perStep, 2 * perStep, 3 * perStep, 4 * perStep])
    expect(cumulativeTrainingFlops(d, { estimator: 'paper', batchSize: 2, steps: 0 })).toEqual(new Float64Array([0]))
    expect(() => cumulativeTrainingFlops(g, { estimator: 'corrected', batchSize: 1, steps: 3 })).toThrow(/zeroFractions/)
  })
})
