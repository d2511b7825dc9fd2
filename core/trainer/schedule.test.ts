import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lrAt, warmupSteps } from './schedule.js'

describe('lr schedule (spec B.2)', () => {
  const T = 19560
  it('uses W = int(0.1·T)', () => {
    expect(warmupSteps(T, 0.1)).toBe(1956)
    expect(warmupSteps(25, 0.1)).toBe(2)
  })
  it('reproduces the spec table for T = 19560', () => {
    const lr = (s: number) => lrAt(s, T, 1e-3)
    expect(lr(0)).toBeCloseTo(1e-4, 15)
    expect(lr(1954)).toBeCloseTo(9.9908e-4, 8)
    expect(lr(1955)).toBe(1e-3) // the switch one step early: cos(0)
    expect(lr(9780)).toBeCloseTo(5.867e-4, 7)
    expect(lr(19558) / 8e-12).toBeCloseTo(1, 2)
    expect(lr(19559)).toBeCloseTo(0, 18)
  })
  it('is linear during warm-up and monotone non-increasing after the switch', () => {
    for (let s = 1; s <= 1954; s++) expect(lrAt(s, T, 1e-3) - lrAt(s - 1, T, 1e-3)).toBeCloseTo(0.9e-3 / 1956, 15)
    for (let s = 1956; s < T; s += 37) expect(lrAt(s, T, 1e-3)).toBeLessThanOrEqual(lrAt(s - 1, T, 1e-3))
  })
  it('handles tiny runs (W = 0 or 1) without dividing by zero', () => {
    for (const t of [1, 2, 5, 10, 11]) for (let s = 0; s < t; s++) expect(Number.isFinite(lrAt(s, t, 1e-3))).toBe(true)
    // W = 1: torch keeps start_factor·base and anneals from it: 0.1·½(1 + cos(8π/9)) at the last step
    expect(lrAt(9, 10, 1)).toBeCloseTo(0.1 * 0.5 * (1 + Math.cos((8 * Math.PI) / 9)), 15)
  })
  it('equals torch SequentialLR(LinearLR, CosineAnnealingLR) step by step, fewer than two warm-up steps included', () => {
    const cases = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures/golden/lr_schedule.json'), 'utf8')) as {
      total_steps: number
      warmup_fraction: number
      start_factor: number
      warmup_steps: number
      lr: number[]
    }[]
    expect(cases.filter((c) => c.warmup_steps <= 1).length).toBeGreaterThanOrEqual(8)
    for (const c of cases) {
      expect(warmupSteps(c.total_steps, c.warmup_fraction)).toBe(c.warmup_steps)
      c.lr.forEach((want, s) => expect(Math.abs(lrAt(s, c.total_steps, 1, { warmup_fraction: c.warmup_fraction, start_factor: c.start_factor }) - want), `T ${c.total_steps} W ${c.warmup_steps} f ${c.start_factor} step ${s}`).toBeLessThan(1e-15))
    }
  })
})
