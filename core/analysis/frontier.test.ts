import { describe, expect, it } from 'vitest'
import { frontierFlopsAt, frontierLossAt, paretoFrontier } from './frontier.js'

// A 1e9 → 4.0, B 1e10 → 3.5, C 1e11 → 3.2 (a convex-ish dense frontier); log10 FLOPs 9, 10, 11.
const A = { flops: 1e9, loss: 4.0, ids: ['A'] }
const B = { flops: 1e10, loss: 3.5, ids: ['B'] }
const C = { flops: 1e11, loss: 3.2, ids: ['C'] }

describe('paretoFrontier', () => {
  it('keeps the non-dominated points sorted by FLOPs with strictly decreasing loss', () => {
    const D = { flops: 5e10, loss: 3.6, ids: ['D'] } // more FLOPs than B and worse: dominated by B
    const F = { flops: 1e10, loss: 3.7, ids: ['F'] } // same FLOPs as B, worse
    const G = { flops: 2e10, loss: 3.5, ids: ['G'] } // same loss as B, more FLOPs
    const f = paretoFrontier([C, D, F, A, G, B])
    expect(f.points.map((p) => p.ids)).toEqual([['A'], ['B'], ['C']])
    expect(f.points.map((p) => p.log10Flops)).toEqual([9, 10, 11])
    expect(f.dominated.map((d) => [d.ids[0], d.dominatedBy[0]])).toEqual([
      ['F', 'B'],
      ['G', 'B'],
      ['D', 'B'],
    ])
  })
  it('merges exact ties', () => {
    const f = paretoFrontier([A, B, { flops: 1e10, loss: 3.5, ids: ['B2'], label: 'twin' }])
    expect(f.points).toHaveLength(2)
    expect(f.points[1]!.ids).toEqual(['B', 'B2'])
    expect(f.dominated).toEqual([])
  })
  it('empty input gives an empty frontier', () => {
    expect(paretoFrontier([])).toEqual({ points: [], dominated: [] })
  })
  it('rejects zero, negative and non-finite FLOPs with a log-axis message', () => {
    expect(() => paretoFrontier([{ flops: 0, loss: 3, ids: ['z'] }])).toThrow(/FLOPs of frontier input z must be a finite number > 0 to sit on a log axis, got 0/)
    expect(() => paretoFrontier([{ flops: -5, loss: 3, ids: ['n'] }])).toThrow(/log axis, got -5/)
    expect(() => paretoFrontier([{ flops: Infinity, loss: 3, ids: ['i'] }])).toThrow(/log axis/)
    expect(() => paretoFrontier([{ flops: 1, loss: NaN, ids: ['l'] }])).toThrow(/loss of frontier input l/)
  })
})

describe('interpolation in log10 FLOPs', () => {
  const f = paretoFrontier([A, B, C])
  it('at equal FLOPs: linear in log10 FLOPs between neighbours, exact at the points and the edges', () => {
    expect(frontierLossAt(f, 1e9)).toEqual({ loss: 4.0, extrapolated: null })
    expect(frontierLossAt(f, 1e10)).toEqual({ loss: 3.5, extrapolated: null })
    expect(frontierLossAt(f, 1e11)).toEqual({ loss: 3.2, extrapolated: null })
    // 10^9.5: halfway between A and B → 4.0 + 0.5·(3.5 − 4.0) = 3.75
    expect(frontierLossAt(f, 10 ** 9.5).loss).toBeCloseTo(3.75, 12)
    // 10^10.25: a quarter from B to C → 3.5 + 0.25·(3.2 − 3.5) = 3.425
    expect(frontierLossAt(f, 10 ** 10.25).loss).toBeCloseTo(3.425, 12)
  })
  it('beyond the ends: null and flagged, never extrapolated', () => {
    expect(frontierLossAt(f, 9.99e8)).toEqual({ loss: null, extrapolated: 'below' })
    expect(frontierLossAt(f, 1.01e11)).toEqual({ loss: null, extrapolated: 'above' })
  })
  it('at equal loss: the inverse, with the same policy', () => {
    // 3.75 lies 0.5 of the way from A (4.0) to B (3.5) → 10^9.5
    const m = frontierFlopsAt(f, 3.75)
    expect(m.log10Flops).toBeCloseTo(9.5, 12)
    expect(m.flops).toBeCloseTo(10 ** 9.5, 0)
    // 3.35: halfway from B (3.5) to C (3.2) → 10^10.5
    expect(frontierFlopsAt(f, 3.35).log10Flops).toBeCloseTo(10.5, 12)
    expect(frontierFlopsAt(f, 3.5)).toEqual({ flops: 1e10, log10Flops: 10, extrapolated: null })
    expect(frontierFlopsAt(f, 4.0)).toEqual({ flops: 1e9, log10Flops: 9, extrapolated: null })
    expect(frontierFlopsAt(f, 3.2)).toEqual({ flops: 1e11, log10Flops: 11, extrapolated: null })
    // worse than the cheapest dense point: the equal-loss dense model would be smaller than any we have
    expect(frontierFlopsAt(f, 4.01)).toEqual({ flops: null, log10Flops: null, extrapolated: 'below' })
    // better than the biggest dense point
    expect(frontierFlopsAt(f, 3.19)).toEqual({ flops: null, log10Flops: null, extrapolated: 'above' })
  })
  it('a single-point frontier answers only at its point', () => {
    const one = paretoFrontier([B])
    expect(frontierLossAt(one, 1e10)).toEqual({ loss: 3.5, extrapolated: null })
    expect(frontierLossAt(one, 1e9)).toEqual({ loss: null, extrapolated: 'below' })
    expect(frontierLossAt(one, 1e11)).toEqual({ loss: null, extrapolated: 'above' })
    expect(frontierFlopsAt(one, 3.5)).toEqual({ flops: 1e10, log10Flops: 10, extrapolated: null })
    expect(frontierFlopsAt(one, 3.6).extrapolated).toBe('below')
    expect(frontierFlopsAt(one, 3.4).extrapolated).toBe('above')
  })
  it('rejects non-positive FLOPs and empty frontiers', () => {
    expect(() => frontierLossAt(f, 0)).toThrow(/FLOPs must be a finite number > 0 to sit on a log axis, got 0/)
    expect(() => frontierLossAt(f, -1e9)).toThrow(/log axis/)
    expect(() => frontierLossAt(paretoFrontier([]), 1e9)).toThrow(/frontier is empty/)
    expect(() => frontierFlopsAt(paretoFrontier([]), 3)).toThrow(/frontier is empty/)
    expect(() => frontierFlopsAt(f, NaN)).toThrow(/loss must be finite/)
  })
})
