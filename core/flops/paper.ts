/**
 * The `paper` FLOPs estimator: an exact port of `flops_transformer` in the reference
 * `projects/skip_middle/analysis/estimate_flops.py` (spec D.1), quirks included (spec D.3):
 *
 * - constants SQRT 8, EXP 10, SOFTMAX 12, SILU 14;
 * - RMSNorm R = T·(4D + 2 + 8); SwiGLU with F = 4D; RoPE with integer floor division;
 * - attention over the full T×T (no causal halving), QKᵀ and P·V counted as 2·T²·D;
 * - the ×2 on the layer term (layers double-counted relative to the LM head);
 * - forward pass only; the result cast to `int` (truncation toward zero).
 *
 * Python number semantics are emulated exactly: Python ints are `bigint` (arbitrary precision, exact), Python
 * floats are `number` (IEEE double). Mixed int/float operations convert the int to the nearest double
 * (ties to even), as CPython does, and are then evaluated in the reference's left-to-right order, so the
 * final `int(flops)` is bit-for-bit the reference's, also beyond 2^53.
 *
 * `L/2` in the sparse (mask) term is `0.5 * config.n_layers` in the reference: a float, true division. For odd L
 * it is a half-integer: L = 1 gives a mask accumulation term (0.5 − 1)·T = −T/2 (negative, spec D.3.4), L = 3
 * gives mask matvecs 2·1.5·T·D. It is not floor division. (RoPE is the only place with `//`.)
 */
import { dims, type ModelConfig } from '../model/config.js'

export const FLOPS_SQRT = 8
const FLOPS_EXP = 10
export const FLOPS_SOFTMAX = FLOPS_EXP + 2
export const FLOPS_SILU = FLOPS_EXP + 4

/** A Python number: `bigint` is a Python int, `number` a Python float. */
export type PyNumber = bigint | number

const toFloat = (x: PyNumber): number => (typeof x === 'bigint' ? Number(x) : x) // Number(bigint) rounds half-even
const pyAdd = (a: PyNumber, b: PyNumber): PyNumber =>
  typeof a === 'bigint' && typeof b === 'bigint' ? a + b : toFloat(a) + toFloat(b)
const pySub = (a: PyNumber, b: PyNumber): PyNumber =>
  typeof a === 'bigint' && typeof b === 'bigint' ? a - b : toFloat(a) - toFloat(b)
const pyMul = (a: PyNumber, b: PyNumber): PyNumber =>
  typeof a === 'bigint' && typeof b === 'bigint' ? a * b : toFloat(a) * toFloat(b)
/** Python `//` on non-negative ints (all operands here are sizes). */
const pyFloorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b // bigint division truncates toward zero
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q
}
/** Python `int(x)`: truncation toward zero; raises on inf/nan like CPython. */
function pyInt(x: PyNumber): bigint {
  if (typeof x === 'bigint') return x
  if (!Number.isFinite(x)) throw new RangeError(`paper FLOPs: cannot convert ${x} to int (the reference raises too)`)
  return BigInt(Math.trunc(x))
}

/**
 * How a sparsity value enters the Python arithmetic. The reference's default `sparsity=0` (and `get_zeros`'s
 * fallback for runs that log no zeros metric) is a Python int; logged values are floats. We treat an
 * integer-valued sparsity (0 or 1) as a Python int and every other value as a float. The two readings differ
 * only when the result exceeds 2^53.
 */
export const pySparsity = (s: number): PyNumber => (Number.isInteger(s) ? BigInt(s) : s)

/** Sizes the reference reads from its ModelConfig, as Python ints. */
function sizes(c: ModelConfig) {
  const d = dims(c)
  return {
    T: BigInt(c.max_seq_len),
    D: BigInt(d.D),
    L: BigInt(d.L),
    H: BigInt(d.H),
    Hkv: BigInt(d.Hkv),
    hd: BigInt(Math.floor(c.dim / c.n_heads)), // config.py: head_dim = dim // n_heads
    F: BigInt(d.F), // SwiGLU(dim, 4*dim, ...).w1.out_features = 4·dim (sizing logic commented out upstream)
    V: BigInt(d.V),
  }
}

/** Per-sequence component FLOPs of the reference (all Python ints). Names follow estimate_flops.py. */
export interface PaperComponents {
  rmsNorm: bigint
  swiglu: bigint
  rotaryEmb: bigint
  attention: bigint
  block: bigint
  lmHead: bigint
}

/** flops_rms_norm: T·(4D + 2 + SQRT). */
function paperRmsNorm(c: ModelConfig): bigint {
  const { T, D } = sizes(c)
  return T * (4n * D + 2n + BigInt(FLOPS_SQRT))
}

/** flops_swiglu: three matmuls 2·T·D·F, silu (SILU per element) and the elementwise product. */
function paperSwiglu(c: ModelConfig): bigint {
  const { T, D, F } = sizes(c)
  let f = 0n
  f += 2n * T * D * F // w1(x)
  f += 2n * T * F * D // w2(...)
  f += 2n * T * D * F // w3(x)
  f += T * F * BigInt(FLOPS_SILU) // F.silu(...)
  f += T * F // silu(...) * w3(x)
  return f
}

/**
 * flops_apply_rotary_emb: a complex multiply (6 FLOPs) per pair, for q and k; `6*T*H*hd // 2` (floor division,
 * ported as such, although 6·… is always even so the floor never drops anything).
 */
function paperRotaryEmb(c: ModelConfig): bigint {
  const { T, H, Hkv, hd } = sizes(c)
  return pyFloorDiv(6n * T * H * hd, 2n) + pyFloorDiv(6n * T * Hkv * hd, 2n)
}

/** flops_grouped_query_attention: projections, RoPE, full-T² scores and mixing, wo. */
function paperAttention(c: ModelConfig): bigint {
  const { T, D, H, Hkv, hd } = sizes(c)
  let f = 0n
  f += 2n * T * D * H * hd // wq
  f += 2n * T * D * Hkv * hd // wk
  f += 2n * T * D * Hkv * hd // wv
  f += paperRotaryEmb(c)
  f += 2n * T * T * D // QKᵀ (uses D and the full T×T)
  f += H * T * T // ÷ √hd
  f += H * T * T // + mask
  f += H * T * T * BigInt(FLOPS_SOFTMAX) // softmax
  f += 2n * T * T * D // P·V
  f += 2n * T * D * D // wo
  return f
}

/** flops_transformer_block: attention + SwiGLU + 4 RMSNorms + 2 gate products + 2 residual adds. */
function paperBlock(c: ModelConfig): bigint {
  const { T, D } = sizes(c)
  return paperAttention(c) + paperSwiglu(c) + 4n * paperRmsNorm(c) + 4n * T * D
}

export function paperComponents(c: ModelConfig): PaperComponents {
  const { T, D, V } = sizes(c)
  return {
    rmsNorm: paperRmsNorm(c),
    swiglu: paperSwiglu(c),
    rotaryEmb: paperRotaryEmb(c),
    attention: paperAttention(c),
    block: paperBlock(c),
    lmHead: 2n * T * D * V,
  }
}

/**
 * flops_transformer(config, sparse, sparsity): forward FLOPs per sequence of T = max_seq_len tokens, exactly as
 * the reference computes it (Python int, returned as bigint). `sparsity` may be a Python int (bigint) or float
 * (number); use {@link pySparsity} to map a JS number the way this project does. No validation beyond the
 * reference's own: odd L, sparsity outside [0, 1] and dense configs with sparse=true are all computed as written.
 */
export function paperFlopsTransformer(c: ModelConfig, sparse = false, sparsity: PyNumber = 0n): bigint {
  return paperFlopsFromComponents(c, paperComponents(c), sparse, sparsity)
}

/** The transformer sum given precomputed components (lets a per-step training sum skip recomputing them). */
export function paperFlopsFromComponents(
  c: ModelConfig,
  k: PaperComponents,
  sparse: boolean,
  sparsity: PyNumber,
): bigint {
  const { T, D, L } = sizes(c)
  let flops: PyNumber = 0n
  flops = pyAdd(flops, 0n) // lookup: tok_embeddings(inputs)
  flops = pyAdd(flops, k.rmsNorm) // input_norm
  if (sparse) {
    // matmul: masks[i](h)          2 * (0.5 * n_layers) * T * D   (left to right; 0.5 is a float)
    flops = pyAdd(flops, pyMul(pyMul(pyMul(2n, pyMul(0.5, L)), T), D))
    // elementwise add: accumulation (0.5 * n_layers - 1) * T
    flops = pyAdd(flops, pyMul(pySub(pyMul(0.5, L), 1n), T))
  }
  // layers: 2 * (1 - sparsity) * n_layers * block
  flops = pyAdd(flops, pyMul(pyMul(pyMul(2n, pySub(1n, sparsity)), L), k.block))
  flops = pyAdd(flops, k.rmsNorm) // output_norm
  flops = pyAdd(flops, k.lmHead) // output(...)
  return pyInt(flops)
}
