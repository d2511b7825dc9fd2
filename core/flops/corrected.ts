/**
 * The `corrected` FLOPs estimator (spec H.6). It keeps the paper's per-operation costs (SQRT 8, EXP 10,
 * SOFTMAX 12, SILU 14, RMSNorm 4D + 2 + 8 per token, complex multiply 6 per RoPE pair) and fixes what D.3 lists:
 *
 * 1. Every matmul is counted once, as 2·m·n·k: no ×2 on the layer term.
 * 2. Causal attention: scores, scaling, mask/score modification, softmax and P·V run over the lower triangle,
 *    T(T+1)/2 (query, key) entries per head, not T². QKᵀ and P·V use H·hd (with GQA the keys are shared but each
 *    query head still does its own dot products).
 * 3. Dense models (zero_init_masks true) pay no mask FLOPs: no mask matvecs, no gate accumulation and no gate
 *    products in the block (a dense block is x + attn(x), x + ffn(x)).
 * 4. Gated models pay the L/2 mask matvecs (2·T·D each) and the (L/2 − 1)·T accumulation; L is even for gated
 *    models (config validation), so these are integers. Skipping then depends on `gated_attention`:
 *    - "key": later tokens cannot attend to a skipped position, so a skipped (token, layer) costs nothing at all:
 *      no norms, projections, RoPE, FFN, gate products, and it appears in no attention entry, as query or as key.
 *      With n = (1 − s_ℓ)·T live tokens in layer ℓ the attention runs over n(n+1)/2 entries.
 *    - "query" / "none": a skipped token's key and value are still attended to by later live tokens, so it still
 *      pays its pre-attention RMSNorm (the input of wk/wv), its K and V projections and RoPE on k. Live queries
 *      at uniformly random positions attend (1 − s_ℓ)·T(T+1)/2 entries in expectation.
 * 5. No integer truncation: the result is a float (an expectation when s is fractional).
 * 6. Training = 3 × forward (backward ≈ 2 × forward), applied by the caller (index.ts).
 *
 * A scalar sparsity is taken as the zero fraction of every layer. Because the key-side attention term is
 * quadratic in the live count, passing per-layer zero fractions gives the exact expectation under independence;
 * a scalar s is exact for all linear terms.
 *
 * Approximation (issue 13), "key" gating only: the zero fractions are means over sequences, and the attention term
 * is evaluated at the mean live count n̄ = (1 − s_ℓ)·T. Per sequence the term is n(n+1)/2 entries, whose mean over
 * sequences is n̄(n̄+1)/2 + Var(n)/2, so this estimate is LOW by perAttentionEntry·Var(n_ℓ)/2 FLOPs per layer and
 * sequence (`keyAttentionUnderestimate`), never high: relative to the term, Var(n)/(n̄(n̄+1)). Var(n) ≤ T²/4, so the
 * worst case is perAttentionEntry·T²/8 per layer (`keyAttentionWorstCase`); flopsReport states it as a share of the
 * total. Exact per-sequence counts would need the live count of every (sequence, layer), which runs do not log.
 */
import { dims, type ModelConfig } from '../model/config.js'
import { FLOPS_SILU, FLOPS_SOFTMAX, FLOPS_SQRT } from './paper.js'

/** Per-token and per-attention-entry costs of one block, in FLOPs. */
export interface CorrectedUnitCosts {
  /** One RMSNorm on one token: 4D + 2 + SQRT (square, sum, mean, eps, sqrt, divide and scale, as the paper). */
  rmsNormPerToken: number
  /** wq: 2·D·(H·hd). */
  qProjPerToken: number
  /** wk + wv: 2 · 2·D·(Hkv·hd). */
  kvProjPerToken: number
  /** RoPE on q: 6 FLOPs per complex pair, H·hd/2 pairs. */
  ropeQPerToken: number
  /** RoPE on k: 6 · Hkv·hd/2. */
  ropeKPerToken: number
  /** wo: 2·(H·hd)·D. */
  oProjPerToken: number
  /** SwiGLU: 3 matmuls 2·D·F, silu (SILU per element), elementwise product. */
  ffnPerToken: number
  /** Two residual adds (2D) plus, for gated models only, the two gate products (2D). */
  residualPerToken: number
  /** Per (query, key) entry: QKᵀ 2·H·hd, ÷√hd H, mask/score-mod add H, softmax SOFTMAX·H, P·V 2·H·hd. */
  perAttentionEntry: number
}

export function correctedUnitCosts(c: ModelConfig): CorrectedUnitCosts {
  const { D, H, Hkv, hd, F, gated } = dims(c)
  return {
    rmsNormPerToken: 4 * D + 2 + FLOPS_SQRT,
    qProjPerToken: 2 * D * H * hd,
    kvProjPerToken: 2 * (2 * D * Hkv * hd),
    ropeQPerToken: (6 * H * hd) / 2,
    ropeKPerToken: (6 * Hkv * hd) / 2,
    oProjPerToken: 2 * H * hd * D,
    ffnPerToken: 3 * (2 * D * F) + FLOPS_SILU * F + F,
    residualPerToken: gated ? 4 * D : 2 * D,
    perAttentionEntry: 2 * H * hd + H + H + FLOPS_SOFTMAX * H + 2 * H * hd,
  }
}

/** Everything a live token pays in one block except the K/V side (pre-attention norm, wk, wv, RoPE k). */
function queryTokenCost(u: CorrectedUnitCosts): number {
  return u.qProjPerToken + u.ropeQPerToken + u.oProjPerToken + 3 * u.rmsNormPerToken + u.ffnPerToken + u.residualPerToken
}
/** The K/V side of one token in one block: its pre-attention RMSNorm, wk, wv and RoPE on k. */
function keyValueTokenCost(u: CorrectedUnitCosts): number {
  return u.rmsNormPerToken + u.kvProjPerToken + u.ropeKPerToken
}

/**
 * FLOPs of block ℓ over one sequence of T tokens when a fraction `s` of its tokens is skipped (gate exactly 0).
 * Dense models must pass s = 0.
 */
export function correctedBlockFlops(c: ModelConfig, s: number): number {
  const T = c.max_seq_len
  const { gated } = dims(c)
  const u = correctedUnitCosts(c)
  const live = (1 - s) * T
  const triangle = (T * (T + 1)) / 2
  if (!gated || c.gated_attention === 'key') {
    // Only live tokens exist for this block; attention among them is causal over n(n+1)/2 entries.
    return live * (queryTokenCost(u) + keyValueTokenCost(u)) + u.perAttentionEntry * ((live * (live + 1)) / 2)
  }
  // "query"/"none": every token's K/V is computed; live queries attend over (1 − s) of the triangle.
  return live * queryTokenCost(u) + T * keyValueTokenCost(u) + u.perAttentionEntry * (1 - s) * triangle
}

/**
 * "key" gating: how much correctedForwardFlops underestimates the mean over sequences, given the variance over
 * sequences of each layer's live-token count (tokens², one per layer; 0 for dense or non-key layers).
 */
export function keyAttentionUnderestimate(c: ModelConfig, liveCountVariance: readonly number[]): number {
  const { gated } = dims(c)
  if (!gated || c.gated_attention !== 'key') return 0
  const u = correctedUnitCosts(c)
  return liveCountVariance.reduce((sum, v) => sum + (u.perAttentionEntry * Math.max(0, v)) / 2, 0)
}

/** The largest possible underestimate per sequence: Var(n) ≤ T²/4 in every layer (half the sequences skip all). */
export function keyAttentionWorstCase(c: ModelConfig): number {
  const T = c.max_seq_len
  return keyAttentionUnderestimate(c, new Array<number>(c.n_layers).fill((T * T) / 4))
}

/**
 * Corrected forward FLOPs per sequence. `layerSparsity` has one zero fraction per layer (length L); for dense
 * models every entry must be 0.
 */
export function correctedForwardFlops(c: ModelConfig, layerSparsity: readonly number[]): number {
  const T = c.max_seq_len
  const { D, L, V, gated, nMasks } = dims(c)
  if (layerSparsity.length !== L) throw new RangeError(`corrected FLOPs: need ${L} per-layer zero fractions, got ${layerSparsity.length}`)
  const u = correctedUnitCosts(c)
  let f = 0
  f += T * u.rmsNormPerToken // input_norm (embedding lookup: 0)
  if (gated) {
    f += nMasks * 2 * T * D // mask matvecs: one D-vector dot product per token for each of the L/2 masks
    f += (nMasks - 1) * T // accumulation S_ℓ = s_ℓ + S_{ℓ−1} (spec A.4); clamp and 1 − S uncounted, as the paper
  }
  for (const s of layerSparsity) f += correctedBlockFlops(c, s)
  f += T * u.rmsNormPerToken // output_norm
  f += 2 * T * D * V // LM head, every position
  return f
}
