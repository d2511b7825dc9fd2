// The corrected estimator's key-gated attention term is evaluated at the mean live count; the per-sequence truth is
// higher by perAttentionEntry·Var(n)/2 per layer (issue 13). Checked against per-sequence exact sums.
import { describe, expect, it } from 'vitest'
import { parseModelConfig } from '../model/config.js'
import { correctedBlockFlops, correctedForwardFlops, correctedUnitCosts, flopsReport, keyAttentionUnderestimate, keyAttentionWorstCase } from './index.js'

const cfg = (gated_attention: 'key' | 'query') => parseModelConfig({ dim: 32, n_heads: 4, n_layers: 4, vocab_size: 64, max_seq_len: 32, zero_init_masks: false, gated_attention })

describe('key-gated attention: mean live count vs per sequence', () => {
  it('the underestimate is exactly perAttentionEntry · Var(n) / 2 per layer', () => {
    const c = cfg('key')
    const T = c.max_seq_len
    // four sequences, per-layer live counts (tokens with gate ≠ 0)
    const live = [
      [32, 20, 8, 32],
      [32, 4, 30, 16],
      [32, 12, 12, 24],
      [32, 28, 2, 0],
    ]
    const L = c.n_layers
    const exactMean = live.reduce((sum, n) => sum + correctedForwardFlops(c, n.map((x) => 1 - x / T)), 0) / live.length
    const meanLive = Array.from({ length: L }, (_, l) => live.reduce((s, n) => s + n[l]!, 0) / live.length)
    const varLive = Array.from({ length: L }, (_, l) => live.reduce((s, n) => s + (n[l]! - meanLive[l]!) ** 2, 0) / live.length)
    const atMean = correctedForwardFlops(c, meanLive.map((x) => 1 - x / T))
    expect(exactMean).toBeGreaterThan(atMean)
    expect(atMean + keyAttentionUnderestimate(c, varLive)).toBeCloseTo(exactMean, 6)
    // a single block, by hand: n ∈ {20, 4, 12, 28}, mean 16, Var 80 → 40 extra attention entries
    const blockExact = [20, 4, 12, 28].reduce((s, n) => s + correctedBlockFlops(c, 1 - n / T), 0) / 4
    expect(blockExact - correctedBlockFlops(c, 0.5)).toBeCloseTo(40 * correctedUnitCosts(c).perAttentionEntry, 6)
  })

  it('query gating is linear in s (no such error), and the report states the key case with its worst-case share', () => {
    expect(keyAttentionUnderestimate(cfg('query'), [100, 100, 100, 100])).toBe(0)
    const c = cfg('key')
    expect(keyAttentionWorstCase(c)).toBeCloseTo(c.n_layers * correctedUnitCosts(c).perAttentionEntry * (32 * 32) / 8, 6)
    const notes = flopsReport(c, { estimator: 'corrected', sparsity: 0.3 }).notes.join('\n')
    expect(notes).toMatch(/approximation: the key-gated attention term is taken at the mean live count .* at most \d\.\d{3}e\+\d+ FLOPs per sequence \(\d+\.\d{2}% of this estimate/)
  })
})
