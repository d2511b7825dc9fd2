/**
 * The engine interface: everything the trainer and evaluator need from a tensor runtime, nothing more.
 * Engines (tfjs in core/engine/tfjs, onnxruntime in core/engine/ort) implement it; the trainer, controllers,
 * data loader and checkpoints stay engine-agnostic. All values crossing this boundary are plain typed arrays.
 *
 * Semantics follow spec B.3/B.7/C exactly:
 * - A train step takes grad_acc micro-batches. For each micro-batch the loss is CE (mean over B·T) plus the
 *   controller loss on that micro-batch's gates; gradients are summed over micro-batches and divided by their
 *   count; then ONE AdamW update (three parameter groups, same hyper-parameters, no clipping) with the given lr.
 * - Gate moments are per-layer means over (B,T) per micro-batch, averaged over the micro-batches (GateMetrics).
 */
import type { ModelConfig } from '../model/config.js'
import type { ParamGroup, Weights } from '../model/params.js'

export interface OptimizerConfig {
  lr: number // base lr (the schedule passes the step's lr to trainStep)
  beta1: number
  beta2: number
  eps: number
  weight_decay: number
}

export const REFERENCE_OPTIMIZER: OptimizerConfig = { lr: 1e-3, beta1: 0.8, beta2: 0.95, eps: 1e-10, weight_decay: 0 }

/** AdamW state: step count and first/second moments per parameter (same names as Weights). */
export interface OptimizerState {
  step: number
  m: Weights
  v: Weights
}

/**
 * The controller's differentiable loss on one micro-batch's gates G (L, B, T) (spec C):
 * m̂_ℓ = mean_{B,T} G_ℓ, v̂_ℓ = unbiased var_{B,T} G_ℓ.
 * - none:   0
 * - linear: mean_ℓ(meanCoefs_ℓ · m̂_ℓ) + mean_ℓ(varCoefs_ℓ · v̂_ℓ)        (targets controllers, sparsity*)
 * - l2:     meanCoef · ‖m̂ − meanTargets‖₂ + varCoef · ‖v̂ − varTargets‖₂   (sparsity_variance_l2; coef = mean_ℓ c_ℓ)
 */
export type ControllerLoss =
  | { kind: 'none' }
  | { kind: 'linear'; meanCoefs: Float64Array | number[]; varCoefs: Float64Array | number[] }
  | { kind: 'l2'; meanCoef: number; varCoef: number; meanTargets: number[]; varTargets: number[] }

/** Per-layer first and second moments (each a mean over tokens, averaged over micro-batches/batches). */
export interface Moments {
  mean: Float64Array
  meanSq: Float64Array
}

/** GateMetrics accumulators (spec B.7). masks: L/2 layers (pre-clamp S); gates, zeros, resid: L layers. */
export interface GateMoments {
  masks: Moments
  gates: Moments
  zeros: Moments
  /** ‖h_{ℓ+1}‖₂ over D per token (block outputs) */
  resid: Moments
  /** number of (micro-)batches averaged */
  count: number
}

export interface Batch {
  /** B·T input ids, row-major (B, T) */
  inputs: Int32Array
  /** B·T next-token ids */
  targets: Int32Array
  batchSize: number
  seqLen: number
}

export interface TrainStepResult {
  /** mean over micro-batches of (CE + controller loss): the reference's train/loss */
  loss: number
  /** mean over micro-batches of CE alone */
  ce: number
  /** mean over micro-batches of the controller loss */
  controllerLoss: number
  gates: GateMoments | null // null for dense models (zero_init_masks)
}

export interface EvalStepResult {
  /** sum of token cross-entropies (nats) over the batch */
  ceSum: number
  tokens: number
  /** gate moments of this batch (count 1), null for dense models */
  gates: GateMoments | null
}

export interface EvalOptions {
  /** also return per-position logits (B·T·V, float32) — for golden tests and generation */
  returnLogits?: boolean
  /** also return the raw gates (L·B·T) and accumulated masks (L/2·B·T) */
  returnGates?: boolean
}

export interface EvalStepDetail extends EvalStepResult {
  logits?: Float32Array
  rawGates?: Float32Array
  rawMasks?: Float32Array
}

export interface EngineInfo {
  engine: 'tfjs' | 'ort'
  /** the backend actually in use, e.g. 'tfjs-wasm', 'tfjs-cpu', 'tfjs-tensorflow', 'ort-cpu', 'ort-cuda' */
  backend: string
  dtype: 'float32'
  versions: Record<string, string>
}

export interface EngineInit {
  config: ModelConfig
  weights: Weights
  optimizer: OptimizerConfig
  /** optional restored optimizer state (resume) */
  optimizerState?: OptimizerState
}

export interface Engine {
  readonly info: EngineInfo
  init(opts: EngineInit): Promise<void>
  trainStep(microBatches: Batch[], lr: number, controller: ControllerLoss): Promise<TrainStepResult>
  evalStep(batch: Batch, opts?: EvalOptions): Promise<EvalStepDetail>
  getWeights(): Promise<Weights>
  setWeights(w: Weights): Promise<void>
  getOptimizerState(): Promise<OptimizerState>
  setOptimizerState(s: OptimizerState): Promise<void>
  dispose(): Promise<void>
}

/** Every engine applies the same grouping (spec B.1); exported so tests can assert it. */
export type { ParamGroup }
