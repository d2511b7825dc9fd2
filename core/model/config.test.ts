import { describe, expect, it } from 'vitest'
import { ConfigError, dims, parseModelConfig } from './config.js'
import { DEFAULT_GATED_ATTENTION, LEGACY_GATED_ATTENTION } from '../config/model.js'
import { paramCount } from './params.js'
import { initWeights } from './init.js'

describe('model config', () => {
  it('applies reference defaults and the H.1 gated_attention default', () => {
    const c = parseModelConfig({})
    expect(c).toMatchObject({ dim: 768, n_layers: 12, n_heads: 12, n_kv_heads: 12, vocab_size: 50257, zero_init_masks: true, gated_attention: 'query' })
    expect(dims(c).F).toBe(3072)
    // a config.json without gated_attention (a released checkpoint) means the reference code's "query"; new run
    // configs get "key" (core/config/model.ts keeps both, ADR 0005)
    expect(c.gated_attention).toBe(LEGACY_GATED_ATTENTION)
    expect([LEGACY_GATED_ATTENTION, DEFAULT_GATED_ATTENTION]).toEqual(['query', 'key'])
  })
  it('reproduces the spec A.2 parameter counts', () => {
    const counts: Record<number, number> = { 2: 96_077_569, 4: 114_958_850, 12: 190_483_974 }
    for (const [L, n] of Object.entries(counts)) expect(paramCount(parseModelConfig({ n_layers: Number(L) }))).toBe(n)
  })
  it('rejects odd depth for gated models with a message that says what to change', () => {
    expect(() => parseModelConfig({ n_layers: 3, zero_init_masks: false })).toThrow(/even n_layers.*Use n_layers 4 or 2/)
    expect(() => parseModelConfig({ n_layers: 3, zero_init_masks: true })).not.toThrow()
  })
  it('rejects indivisible heads and kv heads', () => {
    expect(() => parseModelConfig({ dim: 100, n_heads: 12 })).toThrow(ConfigError)
    expect(() => parseModelConfig({ dim: 96, n_heads: 12, n_kv_heads: 5 })).toThrow(/divisible by n_kv_heads/)
    expect(() => parseModelConfig({ dim: 'x' })).toThrow(/dim/)
  })
  it('accepts the legacy mask_zero_init key', () => {
    expect(parseModelConfig({ mask_zero_init: false, n_layers: 4 }).zero_init_masks).toBe(false)
  })
  it('initialises deterministically, masks zero for dense', () => {
    const cfg = parseModelConfig({ dim: 16, n_layers: 2, n_heads: 2, vocab_size: 32, zero_init_masks: false })
    const a = initWeights(cfg, 1), b = initWeights(cfg, 1), d = initWeights({ ...cfg, zero_init_masks: true }, 1)
    expect(a.get('output.weight')).toEqual(b.get('output.weight'))
    expect(Array.from(d.get('masks.0.linear.weight')!).every((x) => x === 0)).toBe(true)
    const e = a.get('tok_embeddings.weight')!
    const std = Math.sqrt(e.reduce((s, x) => s + x * x, 0) / e.length)
    expect(std).toBeGreaterThan(0.017); expect(std).toBeLessThan(0.023)
    expect(a.get('masks.0.linear.bias')![0]).toBe(0)
  })
})
