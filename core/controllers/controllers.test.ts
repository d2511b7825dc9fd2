import { describe, expect, it } from 'vitest'
import { createController, makeMeanTargets, makeVarTargets, linspace, Ema, CONTROLLER_NAMES, paperController } from './index.js'

const close = (a: ArrayLike<number> | undefined, b: number[], digits = 12) => {
  expect(a).toBeDefined()
  expect(a!.length).toBe(b.length)
  b.forEach((v, i) => expect(a![i]).toBeCloseTo(v, digits))
}
const coefs = (c: ReturnType<typeof createController>) => {
  const l = c.loss()
  if (l.kind !== 'linear') throw new Error('expected a linear loss')
  return { m: Array.from(l.meanCoefs), v: Array.from(l.varCoefs) }
}

describe('targets (spec C)', () => {
  it('auto: linspace(1, 0.5, 6) flip-concatenated, variance targets m(1−m)', () => {
    const m = makeMeanTargets(12, 'auto', 1, 0.5)
    close(m, [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
    close(makeVarTargets(m, 0).slice(0, 6), [0, 0.09, 0.16, 0.21, 0.24, 0.25])
  })
  it('explicit list or space-separated string; delta shifts and clamps at 0', () => {
    close(makeMeanTargets(4, [0.9, 0.3], null, null), [0.9, 0.3, 0.3, 0.9])
    close(makeMeanTargets(4, '0.9 0.3', null, null), [0.9, 0.3, 0.3, 0.9])
    close(makeVarTargets(Float64Array.from([1, 0.5]), -0.1), [0, 0.15])
    expect(() => makeMeanTargets(4, [1, 2, 3], null, null)).toThrow(/needs 2 values/)
    expect(() => makeMeanTargets(3, 'auto', 1, 0.5)).toThrow(/even/)
  })
  it('linspace endpoints are exact', () => {
    const x = linspace(1, 0.1, 6)
    expect(x[0]).toBe(1)
    expect(x[5]).toBe(0.1)
    close(linspace(0, 1, 1), [0])
  })
  it('EMA: initialised to the first value; β = 1 − 1/steps', () => {
    const e = new Ema(10)
    close(e.update([1, 2]), [1, 2])
    close(e.update([0, 0]), [0.9, 1.8])
    const s = new Ema(1)
    s.update([1])
    close(s.update([5]), [5])
  })
})

describe('controllers (spec C), hand-computed updates, L = 4, targets [1, .5, .5, 1], var targets [0, .25, .25, 0]', () => {
  const base = { mean_target_start: 1, mean_target_end: 0.5 }
  const mean1 = [0.9, 0.7, 0.505, 1]
  const var1 = [0.05, 0.1, 0.3, 0]
  // Δm = [−0.1, 0.2, 0.005, 0], Δv = [0.05, −0.15, 0.05, 0]

  it('dummy: no loss, nothing logged', () => {
    const c = createController({ name: 'dummy' }, 4)
    expect(c.loss()).toEqual({ kind: 'none' })
    c.update(mean1, var1)
    expect(c.metrics('x/')).toEqual({})
  })

  it('sparsity and sparsity_variance: fixed coefficients', () => {
    const s = createController({ name: 'sparsity' }, 4)
    s.update(mean1, var1)
    expect(coefs(s)).toEqual({ m: [0.01, 0.01, 0.01, 0.01], v: [0, 0, 0, 0] })
    expect(s.metrics('c/')).toMatchObject({ 'c/mean/coefs/mean': 0.01, 'c/mean/coefs/layer_03': 0.01 })
    const sv = createController({ name: 'sparsity_variance' }, 4)
    sv.update(mean1, var1)
    expect(coefs(sv)).toEqual({ m: [0.01, 0.01, 0.01, 0.01], v: [-0.01, -0.01, -0.01, -0.01] })
  })

  it('proportional: c += k·1[|Δ| > 0.01]·Δ, k = 1e-3', () => {
    const c = createController({ name: 'proportional', ...base }, 4)
    expect(coefs(c)).toEqual({ m: [0, 0, 0, 0], v: [0, 0, 0, 0] })
    c.update(mean1, var1)
    const a = coefs(c)
    close(a.m, [-1e-4, 2e-4, 0, 0], 15)
    close(a.v, [5e-5, -1.5e-4, 5e-5, 0], 15)
    c.update([0.8, 0.5, 0.5, 1], [0, 0.25, 0.25, 0]) // Δm = [−0.2, 0, 0, 0]
    close(coefs(c).m, [-3e-4, 2e-4, 0, 0], 15)
    const m = c.metrics('controller/')
    close([m['controller/mean/deltas/short/layer_00']!], [-0.2])
    close([m['controller/mean/deltas/long/layer_00']!, m['controller/mean/deltas/long/layer_01']!], [-0.11, 0.18])
    expect(m['controller/mean/targets/mean']).toBeCloseTo(0.75, 15)
    expect(m['controller/var/targets/layer_01']).toBeCloseTo(0.25, 15)
    expect(m['controller/var/coefs/layer_01']).toBeCloseTo(-1.5e-4, 15)
  })

  it('proportional: coefficient clamps', () => {
    const c = createController({ name: 'proportional', ...base, coef_max: 1e-4, coef_min: -5e-5 }, 4)
    c.update(mean1, var1)
    close(coefs(c).m, [-5e-5, 1e-4, 0, 0], 15)
    close(coefs(c).v, [5e-5, -5e-5, 5e-5, 0], 15)
  })

  it('adaptive: bang-bang c += 1e-3·1[|Δ| > 0.01]·sign(Δ)', () => {
    const c = createController({ name: 'adaptive', ...base }, 4)
    c.update(mean1, var1)
    close(coefs(c).m, [-1e-3, 1e-3, 0, 0], 15)
    close(coefs(c).v, [1e-3, -1e-3, 1e-3, 0], 15)
  })

  it('proportional_derivative: moves only while the error grows (EMAs updated first)', () => {
    const c = createController({ name: 'proportional_derivative', ...base }, 4)
    c.update(mean1, var1) // short = long = Δ → derivative 0 → no update
    expect(coefs(c)).toEqual({ m: [0, 0, 0, 0], v: [0, 0, 0, 0] })
    // Δm2 = [−0.2, 0.1, 0, 0]; long = .9·Δm1 + .1·Δm2 = [−0.11, 0.19, .0045, 0]; deriv = [−0.09, −0.09, ...]
    // Δ·deriv: [+0.018 → update, −0.009 → none]
    c.update([0.8, 0.6, 0.5, 1], [0, 0.25, 0.25, 0])
    close(coefs(c).m, [-2e-3, 0, 0, 0], 15)
  })

  it('sparsity_variance_l2: mean(c)·‖m̂ − m*‖ loss; EMAs only', () => {
    const c = createController({ name: 'sparsity_variance_l2', ...base }, 4)
    const l = c.loss()
    expect(l).toEqual({ kind: 'l2', meanCoef: 0.1, varCoef: 0.1, meanTargets: [1, 0.5, 0.5, 1], varTargets: [0, 0.25, 0.25, 0] })
    c.update(mean1, var1)
    expect(c.loss()).toEqual(l)
    const m = c.metrics('')
    expect(m['mean/coefs/mean']).toBeUndefined()
    expect(m['var/deltas/short/layer_01']).toBeCloseTo(-0.15, 15)
  })

  it('state() / restore() continue identically', () => {
    for (const name of CONTROLLER_NAMES) {
      const a = createController({ name, ...(name.startsWith('sparsity') && name !== 'sparsity_variance_l2' ? {} : name === 'dummy' ? {} : base) } as never, 4)
      a.update(mean1, var1)
      a.update([0.8, 0.6, 0.5, 1], [0.01, 0.2, 0.25, 0.02])
      const b = createController(a.config, 4)
      b.restore(JSON.parse(JSON.stringify(a.state())))
      a.update([0.7, 0.4, 0.3, 0.9], [0.02, 0.2, 0.2, 0.05])
      b.update([0.7, 0.4, 0.3, 0.9], [0.02, 0.2, 0.2, 0.05])
      expect(b.loss()).toEqual(a.loss())
      expect(b.metrics('p/')).toEqual(a.metrics('p/'))
    }
    const p = createController({ name: 'proportional', ...base }, 4)
    expect(() => p.restore({ name: 'adaptive' })).toThrow(/"adaptive"/)
  })

  it('rejects invalid configs with clear messages', () => {
    expect(() => createController({ name: 'nope' } as never, 4)).toThrow(/invalid controller config/)
    expect(() => createController({ name: 'proportional', mean_targets: [1, 0.5, 0.2] }, 4)).toThrow(/needs 2 values/)
    expect(() => createController({ name: 'sparsity', coef_update: 1 } as never, 4)).toThrow(/coef_update/)
    expect(() => createController({ name: 'adaptive' }, 4).update([1], [1])).toThrow(/expects 4/)
  })

  it('the paper controller: proportional, k = 1e-3, targets 1 → E', () => {
    const c = paperController(0.5)
    expect(c).toMatchObject({ name: 'proportional', coef_update_multiplier: 1e-3, delta_min: 0.01, mean_coef_init: 0, var_coef_init: 0 })
  })
})
