/**
 * Model config helpers for the engines. The schema, the defaults and validation live in core/config/model.ts (the
 * re-exports below keep existing imports working).
 */
import type { ModelConfig } from '../config/model.js'

export { ConfigError } from '../config/issues.js'
export { GATED_ATTENTION, modelConfigProblems, parseModelConfig, type GatedAttention, type ModelConfig } from '../config/model.js'

/** The JSON written beside checkpoints: reference keys plus ours (spec H.15). */
export function modelConfigToJson(c: ModelConfig): Record<string, unknown> {
  return { ...c, architectures: ['SkipMiddleModel'] }
}

/** Derived sizes used by every engine. */
export function dims(c: ModelConfig) {
  const headDim = c.dim / c.n_heads
  return {
    D: c.dim,
    L: c.n_layers,
    H: c.n_heads,
    Hkv: c.n_kv_heads,
    hd: headDim,
    nRep: c.n_heads / c.n_kv_heads,
    F: 4 * c.dim, // spec A.1: utils.py:25 passes 4 * dim; multiple_of logic is commented out upstream
    V: c.vocab_size,
    nMasks: Math.floor(c.n_layers / 2),
    gated: !c.zero_init_masks,
  }
}
