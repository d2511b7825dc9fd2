/**
 * Model configuration: the reference implementation's keys (spec A.1) plus ours (spec H.1). JSON uses the reference
 * names so a released checkpoint's config.json parses unchanged.
 */
import { z } from 'zod'
import { ConfigError, fromZodIssues, issue, unknownKeyIssue, type ConfigIssue } from './issues.js'

export const GATED_ATTENTION = ['key', 'query', 'none'] as const
export type GatedAttention = (typeof GATED_ATTENTION)[number]

/**
 * The two gated_attention defaults, kept here and nowhere else (spec H.1):
 * - a NEW run config without the key gets "key", the mechanism the paper describes (skipped tokens are hidden
 *   from later ones); the form, the presets and the run schema all use this value;
 * - a model config WITHOUT the key read on its own (a released checkpoint's config.json, a `flops --config` model
 *   file) means "query": the reference code's no-op, so imported checkpoints reproduce the reference logits.
 */
export const DEFAULT_GATED_ATTENTION: GatedAttention = 'key'
export const LEGACY_GATED_ATTENTION: GatedAttention = 'query'

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
    /** Ours (spec H.1); default: see DEFAULT_GATED_ATTENTION / LEGACY_GATED_ATTENTION. */
    gated_attention: z.enum(GATED_ATTENTION).optional(),
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

/** Semantic checks with messages that say what to change, each at the model field it names first. */
function modelConfigIssues(c: ModelConfig, prefix = ''): ConfigIssue[] {
  const p: ConfigIssue[] = []
  const at = (k: string, m: string, text: string) => p.push(issue(prefix + k, m, text))
  if (c.dim % c.n_heads !== 0) {
    const fix = Math.ceil(c.dim / c.n_heads) * c.n_heads
    at('dim', `dim (${c.dim}) must be divisible by n_heads (${c.n_heads}); e.g. use dim ${fix}`, `The width (${c.dim}) must be a multiple of the number of heads (${c.n_heads}): try ${fix}`)
  }
  if (c.n_heads % c.n_kv_heads !== 0)
    at(
      'n_heads',
      `n_heads (${c.n_heads}) must be divisible by n_kv_heads (${c.n_kv_heads}); choose n_kv_heads among the divisors of ${c.n_heads}`,
      `The number of heads (${c.n_heads}) must be a multiple of the key/value heads (${c.n_kv_heads}): choose key/value heads that divide ${c.n_heads}`,
    )
  const hd = c.dim / c.n_heads
  if (Number.isInteger(hd) && hd % 2 !== 0)
    at('n_heads', `head_dim = dim / n_heads = ${hd} must be even for rotary embeddings (RoPE pairs dimensions)`, `Each head gets width ÷ heads = ${hd} dimensions, which must be even for rotary embeddings: change the width or the heads`)
  if (!c.zero_init_masks && c.n_layers % 2 !== 0)
    at(
      'n_layers',
      `gated (skip-middle) models need an even n_layers ≥ 2, got ${c.n_layers}: the second half mirrors the first (spec A.4). ` +
        `Use n_layers ${c.n_layers + 1} or ${Math.max(2, c.n_layers - 1)}, or set zero_init_masks: true for a dense baseline`,
      `A gated (skip-middle) model needs an even number of layers, at least 2 (the second half mirrors the first), not ${c.n_layers}: ` +
        `use ${c.n_layers + 1} or ${Math.max(2, c.n_layers - 1)} layers, or choose kind “dense” for a dense baseline`,
    )
  if (c.vocab_size > 65536)
    at('vocab_size', `vocab_size ${c.vocab_size} exceeds 65536: token shards store uint16 ids`, `The vocab size ${c.vocab_size} is above 65,536, the most a token file can store`)
  return p
}

/** The same checks as plain messages; [] when valid. */
export const modelConfigProblems = (c: ModelConfig): string[] => modelConfigIssues(c).map((i) => i.message)

export interface ParseModelOptions {
  /** gated_attention when the input lacks it (default LEGACY_GATED_ATTENTION: a config.json read on its own) */
  gatedAttention?: GatedAttention
  /** dotted prefix of the issue paths ("model.") */
  prefix?: string
  /**
   * run configs: unknown keys are errors with a "did you mean"; without it (checkpoints' config.json, which carries
   * Hugging Face keys) they are ignored
   */
  strict?: boolean
}

/** Parse a model config into the resolved ModelConfig, or the issues that stop it. */
export function resolveModelConfig(input: unknown, o: ParseModelOptions = {}): { config: ModelConfig; issues: [] } | { config: null; issues: ConfigIssue[] } {
  const prefix = o.prefix ?? ''
  const r = rawModelConfig.safeParse(input)
  const unknown = o.strict && input && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input).filter((k) => !MODEL_KEYS.includes(k)) : []
  if (!r.success || unknown.length)
    return {
      config: null,
      issues: [
        ...unknown.map((k) => unknownKeyIssue(prefix + k, MODEL_KEYS.map((m) => prefix + m), `; the model keys are ${MODEL_KEYS.join(', ')}`)),
        ...(r.success ? [] : fromZodIssues(r.error.issues, prefix ? prefix.replace(/\.$/, '').split('.') : [])),
      ],
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
    gated_attention: v.gated_attention ?? o.gatedAttention ?? LEGACY_GATED_ATTENTION,
  }
  const issues = modelConfigIssues(cfg, prefix)
  return issues.length ? { config: null, issues } : { config: cfg, issues: [] }
}

/**
 * Parse and validate a model config (reference JSON keys). `zero_init_masks` defaults to true (the reference
 * default = dense baseline) unless the legacy key says otherwise; gated_attention as ParseModelOptions says.
 */
export function parseModelConfig(input: unknown, o: ParseModelOptions = {}): ModelConfig {
  const r = resolveModelConfig(input, o)
  if (r.config) return r.config
  // the semantic checks' messages name their keys already; the schema's need the path
  const texts = r.issues.map((i) => (!i.path || i.message.startsWith(i.path.split('.').at(-1)!) || i.message.startsWith('unknown key') ? i.message : `${i.path}: ${i.message}`))
  throw new ConfigError(`invalid model config: ${texts.join('; ')}`, r.issues)
}
