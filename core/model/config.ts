/**
 * Model configuration: the reference implementation's keys (spec A.1) plus ours (spec H.1).
 * JSON uses the reference names so a released checkpoint's config.json parses unchanged.
 */
import { z } from 'zod'
import { didYouMean } from '../util/suggest.js'

export const GATED_ATTENTION = ['key', 'query', 'none'] as const
export type GatedAttention = (typeof GATED_ATTENTION)[number]

/** Raw schema: every reference key, defaults as the reference ModelConfig (spec A.1). */
const rawModelConfig = z
  .object({
    dim: z.number().int().positive().default(768),
    n_layers: z.number().int().positive().default(12),
    n_heads: z.number().int().positive().default(12),
    /** null/undefined means n_heads (plain multi-head attention), as config.py:28-29. */
    n_kv_heads: z.number().int().positive().nullable().optional(),
    vocab_size: z.number().int().positive().default(50257),
    /** Carried but unused: F = 4·dim always (spec A.1, H.5). */
    multiple_of: z.number().int().positive().default(256),
    ffn_dim_multiplier: z.number().positive().nullable().default(4),
    norm_eps: z.number().positive().default(1e-5),
    rope_theta: z.number().positive().default(10000),
    use_scaled_rope: z.boolean().default(false),
    max_seq_len: z.number().int().positive().default(1024),
    initializer_range: z.number().positive().default(0.02),
    /** true = dense baseline (masks zero, g ≡ 1, no gate metrics); spec A.7. */
    zero_init_masks: z.boolean().optional(),
    /** Legacy spelling of zero_init_masks (config.py:75-80). */
    mask_zero_init: z.boolean().optional(),
    /**
     * Ours (spec H.1). A config without it means "query": the reference code's no-op, so imported
     * checkpoints reproduce the reference logits. New gated runs default to "key" via presets/UI.
     */
    gated_attention: z.enum(GATED_ATTENTION).default('query'),
  })
  .passthrough()

/** The keys a model config may have (run configs are strict: a typo is an error, not the preset's value). */
export const MODEL_KEYS: readonly string[] = Object.keys(rawModelConfig.shape)

export interface ModelConfig {
  dim: number
  n_layers: number
  n_heads: number
  n_kv_heads: number
  vocab_size: number
  multiple_of: number
  ffn_dim_multiplier: number | null
  norm_eps: number
  rope_theta: number
  use_scaled_rope: boolean
  max_seq_len: number
  initializer_range: number
  zero_init_masks: boolean
  gated_attention: GatedAttention
}

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [message],
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Semantic checks with messages that say what to change. Returns [] when valid. */
export function modelConfigProblems(c: ModelConfig): string[] {
  const p: string[] = []
  if (c.dim % c.n_heads !== 0)
    p.push(`dim (${c.dim}) must be divisible by n_heads (${c.n_heads}); e.g. use dim ${Math.ceil(c.dim / c.n_heads) * c.n_heads}`)
  if (c.n_heads % c.n_kv_heads !== 0)
    p.push(`n_heads (${c.n_heads}) must be divisible by n_kv_heads (${c.n_kv_heads}); choose n_kv_heads among the divisors of ${c.n_heads}`)
  const hd = c.dim / c.n_heads
  if (Number.isInteger(hd) && hd % 2 !== 0)
    p.push(`head_dim = dim / n_heads = ${hd} must be even for rotary embeddings (RoPE pairs dimensions)`)
  if (!c.zero_init_masks && c.n_layers % 2 !== 0)
    p.push(
      `gated (skip-middle) models need an even n_layers ≥ 2, got ${c.n_layers}: the second half mirrors the first (spec A.4). ` +
        `Use n_layers ${c.n_layers + 1} or ${Math.max(2, c.n_layers - 1)}, or set zero_init_masks: true for a dense baseline`,
    )
  if (c.vocab_size > 65536)
    p.push(`vocab_size ${c.vocab_size} exceeds 65536: token shards store uint16 ids`)
  return p
}

/**
 * Parse and validate a model config (reference JSON keys). `zero_init_masks` defaults to true (the reference
 * default = dense baseline) unless the legacy key says otherwise. `strict` (run configs): unknown keys are errors
 * with a "did you mean"; without it (checkpoints' config.json, which carries Hugging Face keys) they are ignored.
 */
export function parseModelConfig(input: unknown, o: { strict?: boolean } = {}): ModelConfig {
  const r = rawModelConfig.safeParse(input)
  const unknown = o.strict && input && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input).filter((k) => !MODEL_KEYS.includes(k)) : []
  if (!r.success || unknown.length) {
    const issues = [
      ...unknown.map((k) => `unknown key "${k}"${didYouMean(k, MODEL_KEYS)}; the model keys are ${MODEL_KEYS.join(', ')}`),
      ...(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)),
    ]
    throw new ConfigError(`invalid model config: ${issues.join('; ')}`, issues)
  }
  const v = r.data
  const cfg: ModelConfig = {
    dim: v.dim,
    n_layers: v.n_layers,
    n_heads: v.n_heads,
    n_kv_heads: v.n_kv_heads ?? v.n_heads,
    vocab_size: v.vocab_size,
    multiple_of: v.multiple_of,
    ffn_dim_multiplier: v.ffn_dim_multiplier,
    norm_eps: v.norm_eps,
    rope_theta: v.rope_theta,
    use_scaled_rope: v.use_scaled_rope,
    max_seq_len: v.max_seq_len,
    initializer_range: v.initializer_range,
    zero_init_masks: v.zero_init_masks ?? v.mask_zero_init ?? true,
    gated_attention: v.gated_attention,
  }
  const problems = modelConfigProblems(cfg)
  if (problems.length) throw new ConfigError(`invalid model config: ${problems.join('; ')}`, problems)
  return cfg
}

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
