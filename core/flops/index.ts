/**
 * FLOPs estimates for skip-middle and dense transformers (spec D, decision H.6). Two estimators, both always
 * available and to be labelled wherever a number is shown:
 *
 * - `paper`: the reference's `flops_transformer`, quirks and int truncation included (paper.ts). `sparse` is true
 *   for gated configs (zero_init_masks false) and false for dense ones. (The reference's plotting script also
 *   charges dense baselines the mask term, ≈0.0015% at L = 12; we do not.)
 * - `corrected`: each matmul once, causal attention, no mask FLOPs for dense models, skipping according to
 *   `gated_attention`, training = 3 × forward (corrected.ts).
 *
 * Sparsity is the fraction of (token, layer) gates that are exactly zero (the logged `zeros/mean`).
 */
import { ConfigError, dims, modelConfigProblems, type ModelConfig } from '../model/config.js'
import { paramCount } from '../model/params.js'
import { correctedForwardFlops, correctedUnitCosts, keyAttentionWorstCase } from './corrected.js'
import { paperComponents, paperFlopsFromComponents, pySparsity } from './paper.js'

export { paramCount }
export {
  FLOPS_SILU,
  FLOPS_SOFTMAX,
  FLOPS_SQRT,
  paperComponents,
  paperFlopsTransformer,
  pySparsity,
  type PaperComponents,
  type PyNumber,
} from './paper.js'
export { correctedBlockFlops, correctedForwardFlops, correctedUnitCosts, keyAttentionUnderestimate, keyAttentionWorstCase, type CorrectedUnitCosts } from './corrected.js'

export const FLOPS_ESTIMATORS = ['paper', 'corrected'] as const
export type FlopsEstimator = (typeof FLOPS_ESTIMATORS)[number]

/** Factor from forward to training FLOPs under the corrected estimator (backward ≈ 2 × forward). */
const CORRECTED_TRAINING_MULTIPLIER = 3

export interface InferenceFlopsOptions {
  estimator: FlopsEstimator
  /**
   * Zero fraction s ∈ [0, 1]: one number (every layer), or one per layer (length L). The paper estimator uses
   * the mean, as the reference does with `val/zeros/mean`. Dense configs must pass 0 (the default).
   */
  sparsity?: number | readonly number[]
}

export interface InferenceFlops {
  estimator: FlopsEstimator
  /** Forward FLOPs for one sequence of `tokensPerSequence` = max_seq_len tokens. */
  perSequence: number
  /** perSequence / max_seq_len. */
  perToken: number
  tokensPerSequence: number
  /** The mean zero fraction used. */
  sparsity: number
  /**
   * Paper: whether perSequence is exactly the reference's int (≤ 2^53 − 1). Above that, perSequence is the
   * nearest double and `perSequenceExact` holds the exact int. Corrected: always true (it is a real-valued estimate).
   */
  exact: boolean
  /** Paper only: the reference's int, exactly. */
  perSequenceExact?: bigint
}

export interface TrainingFlopsOptions {
  estimator: FlopsEstimator
  /** Sequences per optimizer step (batch_size × grad_acc × ranks in the reference's terms: 512). */
  batchSize: number
  /** Training zero fraction logged at every optimizer step (`train/zeros/mean`). Required for gated configs. */
  zeroFractions?: ArrayLike<number>
  /** Number of optimizer steps; for dense configs may replace zeroFractions; must agree with it when both given. */
  steps?: number
}

function checkConfig(c: ModelConfig): void {
  const problems = modelConfigProblems(c)
  if (problems.length) throw new ConfigError(`invalid model config: ${problems.join('; ')}`, problems)
}

function checkFraction(s: number, what: string): void {
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 1)
    throw new RangeError(`${what} must be a zero fraction in [0, 1], got ${String(s)}`)
}

/** Validate a sparsity option; returns the per-layer fractions and their mean (the scalar itself if scalar). */
function layerSparsity(c: ModelConfig, s: number | readonly number[] | undefined): { layers: number[]; mean: number } {
  const { L, gated } = dims(c)
  let layers: number[]
  let mean: number
  if (s === undefined) s = 0
  if (typeof s === 'number') {
    checkFraction(s, 'sparsity')
    layers = new Array<number>(L).fill(s)
    mean = s
  } else {
    if (s.length !== L) throw new RangeError(`per-layer sparsity needs n_layers = ${L} values, got ${s.length}`)
    s.forEach((v, i) => checkFraction(v, `sparsity of layer ${i}`))
    layers = [...s]
    mean = layers.reduce((a, b) => a + b, 0) / L
  }
  if (!gated && layers.some((v) => v !== 0))
    throw new RangeError(
      `a dense config (zero_init_masks true) never skips: sparsity must be 0, got ${mean}. ` +
        'Set zero_init_masks: false for a gated model',
    )
  return { layers, mean }
}

const toNumber = (x: bigint) => Number(x) // nearest double (ties to even)
const isSafe = (x: bigint) => x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= -BigInt(Number.MAX_SAFE_INTEGER)

/** Forward (inference) FLOPs per sequence and per token. */
export function inferenceFlops(config: ModelConfig, opts: InferenceFlopsOptions): InferenceFlops {
  checkConfig(config)
  const { layers, mean } = layerSparsity(config, opts.sparsity)
  const T = config.max_seq_len
  if (opts.estimator === 'paper') {
    const { gated } = dims(config)
    const exact = paperFlopsFromComponents(config, paperComponents(config), gated, pySparsity(mean))
    const perSequence = toNumber(exact)
    return { estimator: 'paper', perSequence, perToken: perSequence / T, tokensPerSequence: T, sparsity: mean, exact: isSafe(exact), perSequenceExact: exact }
  }
  if (opts.estimator === 'corrected') {
    const perSequence = correctedForwardFlops(config, layers)
    return { estimator: 'corrected', perSequence, perToken: perSequence / T, tokensPerSequence: T, sparsity: mean, exact: true }
  }
  throw new RangeError(`unknown FLOPs estimator ${String(opts.estimator)}; use one of ${FLOPS_ESTIMATORS.join(', ')}`)
}

/** Validated per-step zero fractions (zeros for a dense config given only `steps`). */
function stepFractions(config: ModelConfig, opts: TrainingFlopsOptions): ArrayLike<number> {
  const { gated } = dims(config)
  if (opts.steps !== undefined && (!Number.isInteger(opts.steps) || opts.steps < 0))
    throw new RangeError(`steps must be a non-negative integer, got ${opts.steps}`)
  let z = opts.zeroFractions
  if (z === undefined) {
    if (gated)
      throw new RangeError('training FLOPs of a gated config need zeroFractions: the logged zero fraction of every optimizer step')
    if (opts.steps === undefined) throw new RangeError('training FLOPs need zeroFractions or steps')
    z = new Float64Array(opts.steps)
  } else if (opts.steps !== undefined && opts.steps !== z.length) {
    throw new RangeError(`steps (${opts.steps}) disagrees with zeroFractions.length (${z.length})`)
  }
  for (let i = 0; i < z.length; i++) {
    checkFraction(z[i]!, `zeroFractions[${i}]`)
    if (!gated && z[i] !== 0) throw new RangeError(`a dense config never skips: zeroFractions[${i}] must be 0, got ${z[i]}`)
  }
  return z
}

function checkBatch(b: number): void {
  if (!Number.isInteger(b) || b <= 0) throw new RangeError(`batchSize (sequences per optimizer step) must be a positive integer, got ${b}`)
}

/**
 * Paper training FLOPs, exactly as the reference sums them (an exact Python int): Σ over steps of
 * flops_transformer(sparse = gated, sparsity = that step's zero fraction), times batchSize. Forward only, as the
 * reference, but over EVERY step (the reference sums a wandb-sampled history, spec D.2 (ii)).
 */
export function paperTrainingFlopsExact(config: ModelConfig, opts: Omit<TrainingFlopsOptions, 'estimator'>): bigint {
  let sum = 0n
  paperSteps(config, opts, (total) => (sum = total))
  return sum
}

/** Paper: calls `at(total, i)` after each step i with the exact running total (× batchSize). */
function paperSteps(config: ModelConfig, opts: Omit<TrainingFlopsOptions, 'estimator'>, at: (total: bigint, i: number) => void): void {
  checkConfig(config)
  checkBatch(opts.batchSize)
  const z = stepFractions(config, { ...opts, estimator: 'paper' })
  const { gated } = dims(config)
  const k = paperComponents(config)
  const B = BigInt(opts.batchSize)
  const memo = new Map<number, bigint>()
  let sum = 0n
  for (let i = 0; i < z.length; i++) {
    const s = z[i]!
    let f = memo.get(s)
    if (f === undefined) memo.set(s, (f = paperFlopsFromComponents(config, k, gated, pySparsity(s))))
    sum += f
    at(sum * B, i)
  }
  if (!z.length) at(0n, -1)
}

/**
 * Cumulative training FLOPs: element n is the training FLOPs of the first n optimizer steps (element 0 is 0; the
 * length is steps + 1), so the last element is trainingFlops(config, opts). The one place a run's FLOPs are
 * accumulated step by step (the run page's FLOPs axis, the run estimates and the sweep costs all come from here).
 * `paper`: the exact running int (forward only) rounded to the nearest double at each step. `corrected`:
 * 3 × Σ forward(s_step) × batchSize, a Neumaier-compensated running sum.
 */
export function cumulativeTrainingFlops(config: ModelConfig, opts: TrainingFlopsOptions): Float64Array {
  if (opts.estimator === 'paper') {
    const out = new Float64Array(stepFractions(config, opts).length + 1)
    paperSteps(config, opts, (total, i) => (out[i + 1] = toNumber(total)))
    return out
  }
  if (opts.estimator !== 'corrected')
    throw new RangeError(`unknown FLOPs estimator ${String(opts.estimator)}; use one of ${FLOPS_ESTIMATORS.join(', ')}`)
  checkConfig(config)
  checkBatch(opts.batchSize)
  const z = stepFractions(config, opts)
  const L = config.n_layers
  const out = new Float64Array(z.length + 1)
  const memo = new Map<number, number>()
  // Neumaier-compensated sum: tens of thousands of terms of ~1e12 each.
  let sum = 0
  let comp = 0
  for (let i = 0; i < z.length; i++) {
    const s = z[i]!
    let f = memo.get(s)
    if (f === undefined) memo.set(s, (f = correctedForwardFlops(config, new Array<number>(L).fill(s))))
    const t = sum + f
    comp += Math.abs(sum) >= Math.abs(f) ? sum - t + f : f - t + sum
    sum = t
    out[i + 1] = CORRECTED_TRAINING_MULTIPLIER * (sum + comp) * opts.batchSize
  }
  return out
}

/**
 * Training FLOPs over a whole run. `paper`: forward only per step × batch sequences (the nearest double to the
 * exact int; see paperTrainingFlopsExact). `corrected`: 3 × Σ_steps forward(s_step) × batchSize.
 */
export function trainingFlops(config: ModelConfig, opts: TrainingFlopsOptions): number {
  if (opts.estimator === 'paper') return toNumber(paperTrainingFlopsExact(config, opts))
  const c = cumulativeTrainingFlops(config, opts)
  return c[c.length - 1]!
}

export interface FlopsReportOptions extends InferenceFlopsOptions {
  /** With batchSize and zeroFractions (or steps for dense configs), the report includes training FLOPs. */
  batchSize?: number
  zeroFractions?: ArrayLike<number>
  steps?: number
}

/** A JSON-able summary (no bigint: exact paper ints are decimal strings). */
export interface FlopsReport {
  estimator: FlopsEstimator
  params: number
  n_layers: number
  gated: boolean
  gated_attention: ModelConfig['gated_attention'] | null
  tokens_per_sequence: number
  sparsity: number
  inference_flops_per_sequence: number
  inference_flops_per_token: number
  /** false when a paper value exceeds 2^53 − 1 and the number fields are rounded; see the *_exact strings. */
  exact: boolean
  inference_flops_per_sequence_exact?: string
  training_flops?: number
  training_flops_exact?: string
  training_steps?: number
  batch_size?: number
  notes: string[]
}

export function flopsReport(config: ModelConfig, opts: FlopsReportOptions): FlopsReport {
  const inf = inferenceFlops(config, opts)
  const { gated } = dims(config)
  const notes: string[] = []
  if (opts.estimator === 'paper') {
    notes.push(
      'paper estimator: exact port of the reference estimate_flops.py (×2 on the layer term, full T² attention, forward only, int truncation)',
    )
    if (!gated) notes.push('dense config: sparse=false, so no mask FLOPs (the reference plot script charges baselines the mask term, ≈0.0015% at L=12)')
  } else {
    notes.push('corrected estimator: each matmul once (2mnk), causal attention over T(T+1)/2 entries, training = 3 × forward')
    if (gated && config.gated_attention !== 'key')
      notes.push(`gated_attention "${config.gated_attention}": skipped tokens still pay their pre-attention norm, K/V projections and RoPE on k`)
    if (gated && config.gated_attention === 'key' && typeof opts.sparsity === 'number' && opts.sparsity > 0)
      notes.push('scalar sparsity taken as uniform over layers; the key-side attention term is quadratic in the live fraction')
    if (gated && config.gated_attention === 'key') {
      const worst = keyAttentionWorstCase(config)
      notes.push(
        `approximation: the key-gated attention term is taken at the mean live count (1 − s)·T; per sequence it is higher by ` +
          `${(correctedUnitCosts(config).perAttentionEntry / 2).toPrecision(4)} FLOPs × Var(live tokens) per layer, at most ` +
          `${worst.toExponential(3)} FLOPs per sequence (${((100 * worst) / inf.perSequence).toFixed(2)}% of this estimate, when half the sequences skip a layer entirely)`,
      )
    }
  }
  const r: FlopsReport = {
    estimator: opts.estimator,
    params: paramCount(config),
    n_layers: config.n_layers,
    gated,
    gated_attention: gated ? config.gated_attention : null,
    tokens_per_sequence: inf.tokensPerSequence,
    sparsity: inf.sparsity,
    inference_flops_per_sequence: inf.perSequence,
    inference_flops_per_token: inf.perToken,
    exact: inf.exact,
    notes,
  }
  if (inf.perSequenceExact !== undefined) r.inference_flops_per_sequence_exact = inf.perSequenceExact.toString()
  if (opts.batchSize !== undefined && (opts.zeroFractions !== undefined || opts.steps !== undefined)) {
    const t = { batchSize: opts.batchSize, zeroFractions: opts.zeroFractions, steps: opts.steps }
    if (opts.estimator === 'paper') {
      const exact = paperTrainingFlopsExact(config, t)
      r.training_flops = toNumber(exact)
      r.training_flops_exact = exact.toString()
      r.exact = r.exact && isSafe(exact)
    } else {
      r.training_flops = trainingFlops(config, { ...t, estimator: 'corrected' })
    }
    r.training_steps = opts.zeroFractions?.length ?? opts.steps
    r.batch_size = opts.batchSize
  }
  return r
}
