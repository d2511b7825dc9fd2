/**
 * In-graph gate statistics: the GateMetrics moments of one (micro-)batch (spec B.7), packed into one small
 * vector, and the controller's differentiable loss (spec C, engine.ts ControllerLoss).
 */
import type { ControllerLoss, GateMoments, Moments } from '../engine.js'
import type { Graph, Value } from './ir.js'

/** zeros = 1[|g| < zero_eps] with zero_eps = 1e-8 (--gates_zero_eps). */
const GATES_ZERO_EPS = 1e-8

/**
 * Packed moments, each a mean over the N = B·T tokens:
 * [masks mean (M), masks mean sq (M), gates mean (L), gates mean sq (L), zeros mean (L), resid mean (L), resid mean sq (L)]
 * with M = masks rows (L/2). zeros are 0/1, so their mean square equals their mean.
 */
export function packedMoments(g: Graph, gates: Value, masks: Value | null, residSq: Value): Value {
  const mean = (x: Value) => g.reduceMean(x, [1], false)
  const parts: Value[] = []
  if (masks) parts.push(mean(masks), mean(g.mul(masks, masks)))
  const zeros = g.cast(g.less(g.abs(gates), GATES_ZERO_EPS), gates.dtype)
  parts.push(mean(gates), mean(g.mul(gates, gates)), mean(zeros), mean(g.sqrt(residSq)), mean(residSq))
  return g.concat(parts, 0)
}

export function unpackMoments(packed: ArrayLike<number>, L: number, M: number): Omit<GateMoments, 'count'> {
  let o = 0
  const take = (n: number) => {
    const a = new Float64Array(n)
    for (let i = 0; i < n; i++) a[i] = packed[o + i]!
    o += n
    return a
  }
  const masksMean = take(M)
  const masksSq = take(M)
  const gatesMean = take(L)
  const gatesSq = take(L)
  const zerosMean = take(L)
  const residMean = take(L)
  const residSq = take(L)
  return {
    masks: { mean: masksMean, meanSq: masksSq },
    gates: { mean: gatesMean, meanSq: gatesSq },
    zeros: { mean: zerosMean, meanSq: Float64Array.from(zerosMean) },
    resid: { mean: residMean, meanSq: residSq },
  }
}

/** Average a list of per-micro-batch moments (GateMetrics accumulate then divide by the count). */
export function averageMoments(list: Omit<GateMoments, 'count'>[]): GateMoments {
  const avg = (pick: (m: Omit<GateMoments, 'count'>) => Moments): Moments => {
    const first = pick(list[0]!)
    const mean = new Float64Array(first.mean.length)
    const meanSq = new Float64Array(first.mean.length)
    for (const m of list) {
      const p = pick(m)
      for (let i = 0; i < mean.length; i++) {
        mean[i]! += p.mean[i]! / list.length
        meanSq[i]! += p.meanSq[i]! / list.length
      }
    }
    return { mean, meanSq }
  }
  return { masks: avg((m) => m.masks), gates: avg((m) => m.gates), zeros: avg((m) => m.zeros), resid: avg((m) => m.resid), count: list.length }
}

export type ControllerKind = ControllerLoss['kind']

/** Graph inputs of each controller-loss kind, with their shapes. */
export function controllerInputs(kind: ControllerKind, L: number): { name: string; shape: number[] }[] {
  switch (kind) {
    case 'none':
      return []
    case 'linear':
      return [
        { name: 'ctrl_mean_coefs', shape: [L] },
        { name: 'ctrl_var_coefs', shape: [L] },
      ]
    case 'l2':
      return [
        { name: 'ctrl_coefs', shape: [2] },
        { name: 'ctrl_mean_targets', shape: [L] },
        { name: 'ctrl_var_targets', shape: [L] },
      ]
  }
}

/** The controller loss value from gates (L, N); m̂ = mean over tokens, v̂ = unbiased variance over tokens. */
export function controllerLossGraph(g: Graph, kind: Exclude<ControllerKind, 'none'>, gates: Value, inputs: Record<string, Value>): Value {
  const [L, N] = gates.shape as [number, number]
  const mHat = g.reduceMean(gates, [1], true) // (L, 1)
  const centred = g.sub(gates, mHat)
  const vHat = g.mul(g.reduceSumSquare(centred, [1], false), 1 / (N - 1)) // (L)
  const m1 = g.reshape(mHat, [L])
  if (kind === 'linear') {
    const a = g.reduceSum(g.mul(inputs.ctrl_mean_coefs!, m1), [0], false)
    const b = g.reduceSum(g.mul(inputs.ctrl_var_coefs!, vHat), [0], false)
    return g.mul(g.add(a, b), 1 / L)
  }
  // l2: meanCoef·‖m̂ − m*‖₂ + varCoef·‖v̂ − v*‖₂; the norm's gradient is 0 at 0 as in PyTorch (max with a tiny floor)
  const norm = (d: Value) => g.sqrt(g.max(g.reduceSumSquare(d, [0], false), 1e-30))
  const [cm, cv] = g.split(inputs.ctrl_coefs!, 0, [1, 1])
  const a = g.mul(norm(g.sub(m1, inputs.ctrl_mean_targets!)), g.reshape(cm!, []))
  const b = g.mul(norm(g.sub(vHat, inputs.ctrl_var_targets!)), g.reshape(cv!, []))
  return g.add(a, b)
}

/** Feeds for the controller inputs (float32). */
export function controllerFeeds(c: ControllerLoss, L: number): Record<string, Float32Array> {
  const arr = (x: ArrayLike<number>, what: string) => {
    if (x.length !== L) throw new Error(`controller ${what} has ${x.length} values, expected n_layers = ${L}`)
    return Float32Array.from(x)
  }
  switch (c.kind) {
    case 'none':
      return {}
    case 'linear':
      return { ctrl_mean_coefs: arr(c.meanCoefs, 'meanCoefs'), ctrl_var_coefs: arr(c.varCoefs, 'varCoefs') }
    case 'l2':
      return {
        ctrl_coefs: Float32Array.from([c.meanCoef, c.varCoef]),
        ctrl_mean_targets: arr(c.meanTargets, 'meanTargets'),
        ctrl_var_targets: arr(c.varTargets, 'varTargets'),
      }
  }
}

/** The controller loss when every gate is exactly 1 (dense fast path): m̂ = 1, v̂ = 0. */
export function controllerLossAtOnes(c: ControllerLoss, L: number): number {
  switch (c.kind) {
    case 'none':
      return 0
    case 'linear': {
      let s = 0
      for (let l = 0; l < L; l++) s += Number(c.meanCoefs[l])
      return s / L
    }
    case 'l2': {
      const nm = Math.hypot(...c.meanTargets.map((t) => 1 - t))
      const nv = Math.hypot(...c.varTargets)
      return c.meanCoef * nm + c.varCoef * nv
    }
  }
}
