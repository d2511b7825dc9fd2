import { describe, expect, it } from 'vitest'
import { goldenCaseNames, loadGoldenCase } from '../../tests/fixtures/golden/index.js'
import { ropeFrequencies } from './rope.js'

describe('RoPE frequencies', () => {
  it.each(goldenCaseNames())('match the reference for %s (incl. Llama-3.1 scaling)', (name) => {
    const c = loadGoldenCase(name)
    const f = ropeFrequencies(c.config.dim / c.config.n_heads, c.config.rope_theta, c.config.use_scaled_rope)
    expect(f.length).toBe(c.expected.rope_freqs.length)
    f.forEach((x, k) => expect(x / c.expected.rope_freqs[k]!).toBeCloseTo(1, 12))
  })
  it('scaling leaves high frequencies alone, divides low ones by 8 and blends between', () => {
    const plain = ropeFrequencies(128, 500000, false)
    const scaled = ropeFrequencies(128, 500000, true)
    expect(scaled[0]).toBe(plain[0])
    expect(scaled[63]! * 8).toBeCloseTo(plain[63]!, 15)
    const k = plain.findIndex((f) => 2 * Math.PI / f > 2048 && 2 * Math.PI / f < 8192)
    expect(scaled[k]!).toBeLessThan(plain[k]!)
    expect(scaled[k]!).toBeGreaterThan(plain[k]! / 8)
  })
})
