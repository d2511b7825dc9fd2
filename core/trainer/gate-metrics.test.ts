import { describe, expect, it } from 'vitest'
import type { GateMoments } from '../engine/engine.js'
import { GateMetricsAccumulator, computeGateMetrics, gateMetricsToDict } from './gate-metrics.js'

/** moments of explicit per-layer token values */
function momentsOf(layers: number[][]): { mean: Float64Array; meanSq: Float64Array } {
  return {
    mean: Float64Array.from(layers, (xs) => xs.reduce((a, b) => a + b, 0) / xs.length),
    meanSq: Float64Array.from(layers, (xs) => xs.reduce((a, b) => a + b * b, 0) / xs.length),
  }
}

function gm(gates: number[][], masks: number[][], resid: number[][]): GateMoments {
  return {
    gates: momentsOf(gates),
    masks: momentsOf(masks),
    zeros: momentsOf(gates.map((xs) => xs.map((x) => (Math.abs(x) < 1e-8 ? 1 : 0)))),
    resid: momentsOf(resid),
    count: 1,
  }
}

describe('gate metrics (spec B.7)', () => {
  // L = 2: layer 0 gates [1, 0, 0.5, 0.5]; layer 1 mirrors layer 0
  const g = [
    [1, 0, 0.5, 0.5],
    [1, 0, 0.5, 0.5],
  ]
  const s = [[0, 1.5, 0.5, 0.5]]
  const r = [
    [1, 2, 3, 4],
    [2, 2, 2, 2],
  ]
  it('computes var = E[x²] − E[x]² and std per layer', () => {
    const m = computeGateMetrics(gm(g, s, r))
    expect(m.gates.mean).toEqual([0.5, 0.5])
    expect(m.gates.var[0]).toBeCloseTo(0.125, 15) // E[x²] = (1 + 0 + .25 + .25)/4 = .375; − .25
    expect(m.gates.std[0]).toBeCloseTo(Math.sqrt(0.125), 15)
    expect(m.zeros.mean).toEqual([0.25, 0.25])
    expect(m.zeros.var[0]).toBeCloseTo(0.1875, 15)
    expect(m.masks.mean).toEqual([0.625])
    expect(m.resid_l2_norm.var[1]).toBe(0)
    expect(m.resid_l2_norm.var[0]).toBeCloseTo(1.25, 15)
  })
  it('pools micro-batches before taking the variance (not the mean of variances)', () => {
    const a = new GateMetricsAccumulator()
    a.add(gm([[1, 1], [1, 1]], [[0, 0]], [[1, 1], [1, 1]]))
    a.add(gm([[0, 0], [0, 0]], [[1, 1]], [[1, 1], [1, 1]]))
    const m = a.compute()!
    expect(m.gates.mean).toEqual([0.5, 0.5])
    expect(m.gates.var).toEqual([0.25, 0.25]) // each batch alone has variance 0
    expect(m.zeros.mean).toEqual([0.5, 0.5])
  })
  it('weights by the given weight (tokens) when asked', () => {
    const a = new GateMetricsAccumulator()
    a.add(gm([[1, 1], [1, 1]], [[0, 0]], [[1, 1], [1, 1]]), 3)
    a.add(gm([[0, 0], [0, 0]], [[1, 1]], [[1, 1], [1, 1]]), 1)
    expect(a.compute()!.gates.mean[0]).toBeCloseTo(0.75, 15)
  })
  it('names metrics like the reference to_dict', () => {
    const d = gateMetricsToDict(computeGateMetrics(gm(g, s, r)), 'val/')
    expect(d['val/gates/mean']).toBe(0.5)
    expect(d['val/masks/mean/layer_00']).toBe(0.625)
    expect(d['val/masks/mean/layer_01']).toBeUndefined()
    expect(d['val/zeros/std/layer_01']).toBeCloseTo(Math.sqrt(0.1875), 15)
    expect(d['val/resid_l2_norm/var']).toBeCloseTo(0.625, 15)
    expect(Object.keys(d)).toHaveLength(12 + 3 + 3 * 2 * 3)
  })
})
