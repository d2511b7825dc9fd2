import { describe, expect, it } from 'vitest'
import { studentTCdf, studentTQuantile, summarize } from './stats.js'

describe('Student-t quantile', () => {
  it('matches closed forms for df 1, 2 and 4', () => {
    // df 1 (Cauchy): t = tan(π(p − ½)); p = 0.975 → tan(0.475π) = 12.7062047361747
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(0.475 * Math.PI), 10)
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047361747, 9)
    // df 2: t = (2p − 1)·√(2 / (4p(1 − p))) = 0.95·√(2/0.0975) = 4.30265272974946
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(0.95 * Math.sqrt(2 / 0.0975), 10)
    // df 4: α = 4p(1 − p), q = cos(acos(√α)/3)/√α, t = 2√(q − 1)
    const a = 4 * 0.975 * 0.025
    const q = Math.cos(Math.acos(Math.sqrt(a)) / 3) / Math.sqrt(a)
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2 * Math.sqrt(q - 1), 10)
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445105, 8)
  })
  it('matches the printed two-sided 95% table and tends to the normal', () => {
    const table: [number, number][] = [[3, 3.182], [5, 2.571], [10, 2.228], [20, 2.086], [30, 2.042], [60, 2.0], [120, 1.98]]
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3)
    expect(studentTQuantile(0.975, Infinity)).toBeCloseTo(1.959963984540054, 10)
    expect(studentTQuantile(0.995, Infinity)).toBeCloseTo(2.575829303548901, 10)
    // large df: z + (z³ + z)/(4ν) to first order
    const z = 1.959963984540054
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(z + (z ** 3 + z) / 4e7, 11)
  })
  it('is symmetric and inverts the CDF', () => {
    for (const df of [1, 2.5, 7, 40, 500])
      for (const p of [0.001, 0.05, 0.3, 0.5, 0.8, 0.999]) {
        const t = studentTQuantile(p, df)
        expect(studentTCdf(t, df)).toBeCloseTo(p, 10)
        expect(studentTQuantile(1 - p, df)).toBeCloseTo(-t, 8)
      }
    expect(studentTCdf(-1, 1)).toBeCloseTo(0.25, 14) // Cauchy: ½ + atan(−1)/π
  })
  it('rejects impossible arguments', () => {
    expect(() => studentTQuantile(0, 3)).toThrow(/\(0, 1\)/)
    expect(() => studentTQuantile(1, 3)).toThrow(/\(0, 1\)/)
    expect(() => studentTQuantile(0.9, 0)).toThrow(/degrees of freedom/)
  })
})

describe('summarize (seed statistics)', () => {
  it('three values: mean, sample SD (n − 1) and the t interval, by hand', () => {
    // [3.0, 3.2, 3.4]: mean 3.2; squared deviations 0.04 + 0 + 0.04 = 0.08; var 0.08/2 = 0.04; sd 0.2
    // se 0.2/√3 = 0.115470; t(0.975, 2) = 4.302653; half-width 0.496828
    const s = summarize([3.0, 3.2, 3.4])
    expect(s.n).toBe(3)
    expect(s.mean).toBeCloseTo(3.2, 12)
    expect(s.sd).toBeCloseTo(0.2, 12)
    expect(s.se).toBeCloseTo(0.2 / Math.sqrt(3), 12)
    expect(s.ci![0]).toBeCloseTo(3.2 - 0.496828, 6)
    expect(s.ci![1]).toBeCloseTo(3.2 + 0.496828, 6)
  })
  it('two values use t with df 1', () => {
    // [1, 2]: mean 1.5; sd √0.5; se 0.5; half-width 12.706205·0.5 = 6.353102
    const s = summarize([1, 2])
    expect(s.sd).toBeCloseTo(Math.SQRT1_2, 12)
    expect(s.ci![0]).toBeCloseTo(1.5 - 6.353102, 6)
    expect(s.ci![1]).toBeCloseTo(1.5 + 6.353102, 6)
  })
  it('one value has no spread; identical values a zero-width interval', () => {
    expect(summarize([4.2])).toEqual({ n: 1, mean: 4.2, sd: null, se: null, level: 0.95, ci: null })
    expect(summarize([2, 2, 2]).ci).toEqual([2, 2])
  })
  it('other confidence levels', () => {
    // [3.0, 3.2, 3.4] at 90%: t(0.95, 2) = 0.9·√(2/(4·0.95·0.05)) = 0.9·√(2/0.19) = 2.919986;
    // half-width 2.919986·0.2/√3 = 2.919986·0.115470 = 0.337171
    const s = summarize([3.0, 3.2, 3.4], 0.9)
    expect(s.ci![1] - 3.2).toBeCloseTo(0.9 * Math.sqrt(2 / 0.19) * (0.2 / Math.sqrt(3)), 10)
    expect(s.ci![1] - 3.2).toBeCloseTo(0.337171, 6)
  })
  it('rejects empty and non-finite input', () => {
    expect(() => summarize([])).toThrow(/no values/)
    expect(() => summarize([1, NaN])).toThrow(/value 1/)
    expect(() => summarize([1, 2], 1)).toThrow(/level/)
  })
})

describe('spearman', () => {
  it('matches hand-computed values, with ties averaged', async () => {
    const { spearman, averageRanks } = await import('./stats.js')
    expect(averageRanks([5, 6, 7, 8, 7])).toEqual([1, 2, 3.5, 5, 3.5])
    // scipy.stats.spearmanr([1,2,3,4,5],[5,6,7,8,7]) = 0.8207826816681233
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).rho).toBeCloseTo(0.8207826816681233, 14)
    expect(spearman([1, 2, 3], [3, 2, 1]).rho).toBeCloseTo(-1, 14)
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16]).rho).toBeCloseTo(1, 14) // monotone, not linear
    expect(spearman([1, 2, NaN, 4, 5], [2, 1, 0, 4, 3])).toEqual({ rho: 0.6, n: 4 })
    expect(spearman([1, 1, 1], [1, 2, 3]).rho).toBeNull()
    expect(spearman([1, 2], [1, 2])).toEqual({ rho: null, n: 2 })
  })
})
