/**
 * The run record the analysis consumes: plain data, one finished run, evaluated and costed. Producers (the store,
 * the CLI, imported paper results) build it; `parseRunRecord` validates it at the boundary.
 */
import { z } from 'zod'
import { FLOPS_ESTIMATORS } from '../flops/index.js'
import { ConfigError, parseModelConfig, type ModelConfig } from '../model/config.js'

const runRecordSchema = z
  .object({
    id: z.string().min(1),
    /** 'dense' ⇔ config.zero_init_masks true; 'gated' (including "nocontrol") ⇔ false. Checked against config. */
    kind: z.enum(['dense', 'gated']),
    /** Model config in the reference JSON keys (spec A.1, H.1); normalised with parseModelConfig. */
    config: z.record(z.string(), z.unknown()),
    seed: z.number().int(),
    /** Validation cross-entropy in nats per token (spec H.8). */
    valLoss: z.number(),
    /** Validation tokens the loss was averaged over. */
    valTokens: z.number().int().positive(),
    dataset: z.string().min(1),
    tokenizer: z.string().min(1),
    /** The estimator that produced inferenceFlops and trainingFlops. */
    estimator: z.enum(FLOPS_ESTIMATORS),
    /** Inference FLOPs per sequence (core/flops inferenceFlops(...).perSequence) at the validation zero fraction. */
    inferenceFlops: z.number(),
    /** Training FLOPs over every optimizer step (core/flops trainingFlops). */
    trainingFlops: z.number(),
    /**
     * Measured evaluation seconds per token on one machine and engine (hard skipping for key-gated runs;
     * core/trainer/measured-cost.ts), the x-axis of flopsKind 'measured'; null/absent when not measured.
     */
    measuredCost: z.number().positive().nullable().optional(),
    /** Where measuredCost was measured: machine and engine (runs measured elsewhere are not compared). */
    measuredOn: z.string().optional(),
    /** Validation zero fraction (gated runs); null/absent for dense runs. */
    zeroFraction: z.number().min(0).max(1).nullable().optional(),
    /** Gate-controller mean target end E (spec C), when the run has one. */
    target_end: z.number().nullable().optional(),
    /** Training tokens the run saw (steps × sequences per step × context); checked for fairness when present. */
    trainTokens: z.number().nonnegative().nullable().optional(),
    /** The LR schedule (peak LR, warm-up, start factor...); compared runs must have the same one when present. */
    lrSchedule: z.record(z.string(), z.unknown()).nullable().optional(),
    /** Training FLOPs actually executed (the engines train densely: the dense-equivalent count for gated runs). */
    executedTrainingFlops: z.number().nullable().optional(),
    /**
     * Everything else that defines the run besides the model (controller, coefficients, optimizer, schedule,
     * steps, batch, data order...). Part of the seed-group identity, minus any key named `seed`.
     */
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()

export type RunRecord = z.infer<typeof runRecordSchema>

/** A validated record with its model config normalised. */
export interface ParsedRun {
  record: RunRecord
  config: ModelConfig
}

export type ParseResult = { ok: true; run: ParsedRun } | { ok: false; id: string; reasons: string[] }

/** Validate one record: schema, model config, and kind against zero_init_masks. Never throws. */
export function parseRunRecord(input: unknown, index = 0): ParseResult {
  const rawId = (input as { id?: unknown } | null)?.id
  const id = typeof rawId === 'string' && rawId.length > 0 ? rawId : `#${index}`
  const r = runRecordSchema.safeParse(input)
  if (!r.success)
    return { ok: false, id, reasons: r.error.issues.map((i) => `invalid record: ${i.path.join('.') || '(root)'}: ${i.message}`) }
  let config: ModelConfig
  try {
    config = parseModelConfig(r.data.config)
  } catch (e) {
    const issues = e instanceof ConfigError ? e.issues : [String(e)]
    return { ok: false, id, reasons: issues.map((m) => `invalid config: ${m}`) }
  }
  const gated = !config.zero_init_masks
  if (r.data.kind === 'dense' && gated)
    return { ok: false, id, reasons: ['kind "dense" but config has zero_init_masks false (a gated model)'] }
  if (r.data.kind === 'gated' && !gated)
    return { ok: false, id, reasons: ['kind "gated" but config has zero_init_masks true (a dense baseline)'] }
  return { ok: true, run: { record: r.data, config } }
}

/** JSON with object keys sorted at every level, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined)
        .map((k) => [k, sortKeys(o[k])]),
    )
  }
  return v
}
function withoutSeeds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSeeds)
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== 'seed')
        .map(([k, x]) => [k, withoutSeeds(x)]),
    )
  return v
}

/**
 * Seed-group identity: everything that defines the run except its seed. Kind, the normalised model config
 * (defaults filled in, so `{}` and the explicit defaults agree), `training` with every `seed` key removed at any
 * depth, target_end, and the evaluation settings (dataset, tokenizer, valTokens, estimator).
 */
export function seedGroupKey(run: ParsedRun): string {
  const r = run.record
  return canonicalJson({
    kind: r.kind,
    config: run.config,
    training: withoutSeeds(r.training ?? {}),
    target_end: r.target_end ?? null,
    dataset: r.dataset,
    tokenizer: r.tokenizer,
    valTokens: r.valTokens,
    estimator: r.estimator,
  })
}

/** A short human-readable label for a seed group. */
export function seedGroupLabel(run: ParsedRun): string {
  const c = run.config
  const parts = [run.record.kind, `L=${c.n_layers}`, `d=${c.dim}`]
  if (run.record.kind === 'gated') parts.push(`attn=${c.gated_attention}`)
  const end = run.record.target_end
  if (end !== undefined && end !== null) parts.push(`end=${end}`)
  return parts.join(' ')
}
