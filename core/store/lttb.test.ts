import { describe, expect, it } from 'vitest'
import { lttb } from './lttb.js'

describe('lttb', () => {
  it('returns the input when it is short enough', () => {
    expect(lttb([1, 2, 3], [4, 5, 6], 10)).toEqual({ xs: [1, 2, 3], ys: [4, 5, 6] })
  })

  it('keeps first and last, returns exactly the threshold, in x order, and keeps the spike', () => {
    const n = 10_000
    const xs = Array.from({ length: n }, (_, i) => i)
    const ys = xs.map((x) => Math.exp(-x / 2000) + 0.01 * Math.sin(x))
    ys[5000] = 5 // a spike must survive
    const d = lttb(xs, ys, 200)
    expect(d.xs).toHaveLength(200)
    expect(d.xs[0]).toBe(0)
    expect(d.xs.at(-1)).toBe(n - 1)
    for (let i = 1; i < d.xs.length; i++) expect(d.xs[i]!).toBeGreaterThan(d.xs[i - 1]!)
    expect(d.xs).toContain(5000)
    // every kept point is a real point
    for (let i = 0; i < d.xs.length; i++) expect(d.ys[i]).toBe(ys[d.xs[i]!])
  })

  it('keeps non-finite points (a diverged step) in order', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i)
    const ys = xs.map((x) => 1 / (x + 1))
    ys[400] = NaN
    const d = lttb(xs, ys, 50)
    expect(d.xs).toContain(400)
    for (let i = 1; i < d.xs.length; i++) expect(d.xs[i]!).toBeGreaterThan(d.xs[i - 1]!)
  })
})
