/**
 * Targets and EMAs of the gate controllers (spec C; reference gate_controller/utils.py:22-66).
 */

/** torch.linspace(start, end, n): the first half stepped from start, the second half from end (as PyTorch's kernel). */
export function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n)
  if (n === 1) {
    out[0] = start
    return out
  }
  const step = (end - start) / (n - 1)
  const half = Math.floor(n / 2)
  for (let i = 0; i < n; i++) out[i] = i < half ? start + step * i : end - step * (n - 1 - i)
  return out
}

/** concat(x, reverse(x)) */
function flipcat(x: ArrayLike<number>): Float64Array {
  const n = x.length
  const out = new Float64Array(2 * n)
  for (let i = 0; i < n; i++) {
    out[i] = x[i]!
    out[2 * n - 1 - i] = x[i]!
  }
  return out
}

/**
 * make_mean_targets: "auto" → linspace(start, end, L/2) flip-concatenated; else an explicit list (or the reference's
 * space-separated string) of L/2 values, flip-concatenated. Length L, symmetric.
 */
export function makeMeanTargets(nLayers: number, targets: 'auto' | number[] | string, start: number | null | undefined, end: number | null | undefined): Float64Array {
  if (nLayers % 2 !== 0 || nLayers < 2) throw new Error(`gate targets need an even number of layers ≥ 2, got n_layers ${nLayers}`)
  const n = nLayers / 2
  let x: ArrayLike<number>
  if (targets === 'auto') {
    if (start == null || end == null) throw new Error('mean_targets "auto" needs mean_target_start and mean_target_end')
    x = linspace(start, end, n)
  } else {
    const list = typeof targets === 'string' ? targets.trim().split(/\s+/).map(Number) : targets
    if (list.some((v) => !Number.isFinite(v))) throw new Error(`mean_targets must be numbers, got ${JSON.stringify(targets)}`)
    if (list.length !== n) throw new Error(`mean_targets needs ${n} values (n_layers / 2) for n_layers ${nLayers}, got ${list.length}`)
    x = list
  }
  return flipcat(x)
}

/** max(0, m(1 − m) + delta): the variance of a Bernoulli variable with mean m, shifted */
export function makeVarTargets(meanTargets: Float64Array, delta: number): Float64Array {
  return Float64Array.from(meanTargets, (m) => Math.max(0, m * (1 - m) + delta))
}

export interface EmaState {
  value: number[] | null
}

/** EMA(steps): β = 1 − 1/steps, initialised to the first value (steps = 1 → the latest value). */
export class Ema {
  readonly beta: number
  value: Float64Array | null = null
  constructor(steps: number) {
    this.beta = 1 - 1 / steps
  }
  update(x: ArrayLike<number>): Float64Array {
    if (!this.value) this.value = Float64Array.from(x)
    else for (let i = 0; i < this.value.length; i++) this.value[i] = this.value[i]! * this.beta + x[i]! * (1 - this.beta)
    return this.value
  }
  state(): EmaState {
    return { value: this.value ? Array.from(this.value) : null }
  }
  restore(s: EmaState, n: number): void {
    if (s.value !== null && s.value.length !== n) throw new Error(`EMA state has ${s.value.length} values, expected ${n}`)
    this.value = s.value ? Float64Array.from(s.value) : null
  }
}
