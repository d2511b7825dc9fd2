/**
 * The seven gate controllers of spec C (reference projects/skip_middle/gate_controller/*.py).
 *
 * A controller supplies the differentiable loss term of every micro-batch (as the engine's `ControllerLoss`) and is
 * updated once per optimizer step, AFTER the step, with the pooled population statistics μ_ℓ, σ²_ℓ of the step's
 * gates (GateMetrics; spec B.3). Only gated runs call update(); dense runs have no gate metrics.
 *
 * Update order of the target controllers (utils.py:145-158): Δ = stats − targets; update the four EMAs; update the
 * mean coefficients, clamp; update the variance coefficients, clamp.
 */
import type { ControllerLoss } from '../engine/engine.js'
import {
  ControllerConfigSchema,
  type ControllerConfig,
  type ControllerConfigInput,
  type ControllerName,
  type L2ControllerConfig,
  type TargetControllerConfig,
} from '../config/controller.js'
import { Ema, makeMeanTargets, makeVarTargets, type EmaState } from './targets.js'

export interface ControllerState {
  name: ControllerName
  meanCoefs?: number[]
  varCoefs?: number[]
  emas?: { meanShort: EmaState; meanLong: EmaState; varShort: EmaState; varLong: EmaState }
}

export interface GateController {
  readonly name: ControllerName
  readonly config: ControllerConfig
  /** the loss term for the coming step's micro-batches */
  loss(): ControllerLoss
  /** after the optimizer step: μ_ℓ and σ²_ℓ (population variance) of the step's gates, L values each */
  update(gatesMean: ArrayLike<number>, gatesVar: ArrayLike<number>): void
  /** reference to_dict names (`mean/targets/mean`, `mean/coefs/layer_00`, ...), with a prefix */
  metrics(prefix?: string): Record<string, number>
  state(): ControllerState
  restore(s: ControllerState): void
}

const layerKey = (i: number) => `layer_${String(i).padStart(2, '0')}`

/** lab/utils.py layers_to_dict: `{prefix}/mean` plus `{prefix}/layer_XX` */
function layersToDict(values: ArrayLike<number>, prefix: string, out: Record<string, number>): void {
  const a = Array.from(values)
  out[`${prefix}/mean`] = a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0
  a.forEach((v, i) => (out[`${prefix}/${layerKey(i)}`] = v))
}

function checkStats(n: number, mean: ArrayLike<number>, v: ArrayLike<number>): void {
  if (mean.length !== n || v.length !== n)
    throw new Error(`controller update expects ${n} per-layer gate means and variances, got ${mean.length} and ${v.length}`)
}

function restoreCoefs(into: Float64Array, from: number[] | undefined, what: string): void {
  if (!from || from.length !== into.length) throw new Error(`controller state: ${what} has ${from?.length ?? 0} values, expected ${into.length}`)
  into.set(from)
}

function checkName(self: GateController, s: ControllerState): void {
  if (s.name !== self.name) throw new Error(`controller state is for "${s.name}", but this run uses "${self.name}"`)
}

class DummyController implements GateController {
  readonly name = 'dummy' as const
  constructor(readonly config: ControllerConfig) {}
  loss(): ControllerLoss {
    return { kind: 'none' }
  }
  update(): void {}
  metrics(): Record<string, number> {
    return {}
  }
  state(): ControllerState {
    return { name: this.name }
  }
  restore(s: ControllerState): void {
    checkName(this, s)
  }
}

/** sparsity / sparsity_variance: fixed coefficients, no update. */
class FixedController implements GateController {
  readonly meanCoefs: Float64Array
  readonly varCoefs: Float64Array | null
  constructor(
    readonly name: 'sparsity' | 'sparsity_variance',
    readonly config: ControllerConfig,
    nLayers: number,
    meanInit: number,
    varInit: number | null,
  ) {
    this.meanCoefs = new Float64Array(nLayers).fill(meanInit)
    this.varCoefs = varInit === null ? null : new Float64Array(nLayers).fill(varInit)
  }
  loss(): ControllerLoss {
    return { kind: 'linear', meanCoefs: Float64Array.from(this.meanCoefs), varCoefs: this.varCoefs ? Float64Array.from(this.varCoefs) : new Float64Array(this.meanCoefs.length) }
  }
  update(gatesMean: ArrayLike<number>, gatesVar: ArrayLike<number>): void {
    checkStats(this.meanCoefs.length, gatesMean, gatesVar)
  }
  metrics(prefix = ''): Record<string, number> {
    const out: Record<string, number> = {}
    layersToDict(this.meanCoefs, `${prefix}mean/coefs`, out)
    if (this.varCoefs) layersToDict(this.varCoefs, `${prefix}var/coefs`, out)
    return out
  }
  state(): ControllerState {
    return { name: this.name, meanCoefs: Array.from(this.meanCoefs), ...(this.varCoefs ? { varCoefs: Array.from(this.varCoefs) } : {}) }
  }
  restore(s: ControllerState): void {
    checkName(this, s)
    restoreCoefs(this.meanCoefs, s.meanCoefs, 'meanCoefs')
    if (this.varCoefs) restoreCoefs(this.varCoefs, s.varCoefs, 'varCoefs')
  }
}

/** Shared by the target controllers and sparsity_variance_l2: targets and the four delta EMAs. */
abstract class TargetsBase implements GateController {
  abstract readonly name: ControllerName
  readonly meanTargets: Float64Array
  readonly varTargets: Float64Array
  readonly meanCoefs: Float64Array
  readonly varCoefs: Float64Array
  readonly meanShort: Ema
  readonly meanLong: Ema
  readonly varShort: Ema
  readonly varLong: Ema

  constructor(
    readonly config: TargetControllerConfig | L2ControllerConfig,
    readonly nLayers: number,
  ) {
    this.meanTargets = makeMeanTargets(nLayers, config.mean_targets, config.mean_target_start, config.mean_target_end)
    this.varTargets = makeVarTargets(this.meanTargets, config.var_target_delta)
    this.meanCoefs = new Float64Array(nLayers).fill(config.mean_coef_init)
    this.varCoefs = new Float64Array(nLayers).fill(config.var_coef_init)
    this.meanShort = new Ema(config.ema_steps_short)
    this.meanLong = new Ema(config.ema_steps_long)
    this.varShort = new Ema(config.ema_steps_short)
    this.varLong = new Ema(config.ema_steps_long)
  }

  abstract loss(): ControllerLoss

  /** Δ and the EMA updates; returns the deltas */
  protected updateDeltas(gatesMean: ArrayLike<number>, gatesVar: ArrayLike<number>): { dm: Float64Array; dv: Float64Array } {
    checkStats(this.nLayers, gatesMean, gatesVar)
    const dm = Float64Array.from(this.meanTargets, (t, i) => gatesMean[i]! - t)
    const dv = Float64Array.from(this.varTargets, (t, i) => gatesVar[i]! - t)
    this.meanShort.update(dm)
    this.meanLong.update(dm)
    this.varShort.update(dv)
    this.varLong.update(dv)
    return { dm, dv }
  }

  abstract update(gatesMean: ArrayLike<number>, gatesVar: ArrayLike<number>): void

  protected withCoefs(): boolean {
    return true
  }

  metrics(prefix = ''): Record<string, number> {
    const out: Record<string, number> = {}
    const z = new Float64Array(this.nLayers) // the reference logs `.ema` only after the first update; 0 before it
    layersToDict(this.meanTargets, `${prefix}mean/targets`, out)
    if (this.withCoefs()) layersToDict(this.meanCoefs, `${prefix}mean/coefs`, out)
    layersToDict(this.meanShort.value ?? z, `${prefix}mean/deltas/short`, out)
    layersToDict(this.meanLong.value ?? z, `${prefix}mean/deltas/long`, out)
    layersToDict(this.varTargets, `${prefix}var/targets`, out)
    if (this.withCoefs()) layersToDict(this.varCoefs, `${prefix}var/coefs`, out)
    layersToDict(this.varShort.value ?? z, `${prefix}var/deltas/short`, out)
    layersToDict(this.varLong.value ?? z, `${prefix}var/deltas/long`, out)
    return out
  }

  state(): ControllerState {
    return {
      name: this.name,
      meanCoefs: Array.from(this.meanCoefs),
      varCoefs: Array.from(this.varCoefs),
      emas: { meanShort: this.meanShort.state(), meanLong: this.meanLong.state(), varShort: this.varShort.state(), varLong: this.varLong.state() },
    }
  }

  restore(s: ControllerState): void {
    checkName(this, s)
    restoreCoefs(this.meanCoefs, s.meanCoefs, 'meanCoefs')
    restoreCoefs(this.varCoefs, s.varCoefs, 'varCoefs')
    if (!s.emas) throw new Error('controller state: missing EMAs')
    this.meanShort.restore(s.emas.meanShort, this.nLayers)
    this.meanLong.restore(s.emas.meanLong, this.nLayers)
    this.varShort.restore(s.emas.varShort, this.nLayers)
    this.varLong.restore(s.emas.varLong, this.nLayers)
  }
}

/** sparsity_variance_l2: mean_ℓ(c^m)·‖m̂ − m*‖₂ + mean_ℓ(c^v)·‖v̂ − v*‖₂; fixed coefficients, EMAs for logging. */
class SparsityVarianceL2Controller extends TargetsBase {
  readonly name = 'sparsity_variance_l2' as const
  loss(): ControllerLoss {
    const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length
    return {
      kind: 'l2',
      meanCoef: mean(this.meanCoefs),
      varCoef: mean(this.varCoefs),
      meanTargets: Array.from(this.meanTargets),
      varTargets: Array.from(this.varTargets),
    }
  }
  update(gatesMean: ArrayLike<number>, gatesVar: ArrayLike<number>): void {
    this.updateDeltas(gatesMean, gatesVar)
  }
  protected override withCoefs(): boolean {
    return false // the reference's to_dict logs no coefficients for this controller
  }
}

/** adaptive, proportional and proportional_derivative: linear loss, coefficients driven by the deltas. */
class TargetController extends TargetsBase {
  declare readonly config: TargetControllerConfig
  constructor(
    readonly name: TargetControllerConfig['name'],
    config: TargetControllerConfig,
    nLayers: number,
  ) {
    super(config, nLayers)
  }

  loss(): ControllerLoss {
    return { kind: 'linear', meanCoefs: Float64Array.from(this.meanCoefs), varCoefs: Float64Array.from(this.varCoefs) }
  }

  update(gatesMean: ArrayLike<number>, gatesVar: ArrayLike<number>): void {
    const { dm, dv } = this.updateDeltas(gatesMean, gatesVar)
    this.step(this.meanCoefs, dm, this.meanShort, this.meanLong)
    this.clamp(this.meanCoefs)
    this.step(this.varCoefs, dv, this.varShort, this.varLong)
    this.clamp(this.varCoefs)
  }

  private step(c: Float64Array, d: Float64Array, short: Ema, long: Ema): void {
    const cfg = this.config
    for (let i = 0; i < c.length; i++) {
      const big = Math.abs(d[i]!) > cfg.delta_min
      switch (cfg.name) {
        case 'adaptive':
          if (big) c[i]! += cfg.coef_update * Math.sign(d[i]!)
          break
        case 'proportional':
          if (big) c[i]! += cfg.coef_update_multiplier * d[i]!
          break
        case 'proportional_derivative': {
          // derivative of the error from the EMAs, AFTER their update this step (as the reference)
          const deriv = short.value![i]! - long.value![i]!
          if (big && d[i]! * deriv > cfg.deriv_min) c[i]! += cfg.coef_update_multiplier * d[i]!
          break
        }
      }
    }
  }

  private clamp(c: Float64Array): void {
    const lo = this.config.coef_min ?? -Infinity
    const hi = this.config.coef_max ?? Infinity
    for (let i = 0; i < c.length; i++) c[i] = Math.min(hi, Math.max(lo, c[i]!)) // torch clamp_(min, max)
  }
}

/** Build a controller from its (partial) config for a model of `nLayers` layers. Throws with a clear message. */
export function createController(input: ControllerConfigInput | ControllerConfig, nLayers: number): GateController {
  const parsed = ControllerConfigSchema.safeParse(input)
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || 'controller'}: ${i.message}`).join('; ')
    throw new Error(`invalid controller config: ${msg}`)
  }
  const cfg = parsed.data
  switch (cfg.name) {
    case 'dummy':
      return new DummyController(cfg)
    case 'sparsity':
      return new FixedController('sparsity', cfg, nLayers, cfg.mean_coef_init, null)
    case 'sparsity_variance':
      return new FixedController('sparsity_variance', cfg, nLayers, cfg.mean_coef_init, cfg.var_coef_init)
    case 'sparsity_variance_l2':
      return new SparsityVarianceL2Controller(cfg, nLayers)
    case 'adaptive':
    case 'proportional':
    case 'proportional_derivative':
      return new TargetController(cfg.name, cfg, nLayers)
  }
}
