/**
 * RunConfig: everything that defines a training run, as one JSON document with reference key names where the
 * reference has them (model keys as config.py; optimizer/schedule as train_fineweb.py; controller as
 * gate_controller/*.py). Validated with zod; every problem is reported as a ConfigIssue with its path.
 *
 *   {
 *     "model":      { dim, n_layers, n_heads, n_kv_heads, vocab_size, max_seq_len, zero_init_masks, gated_attention, ... },
 *     "training":   { batch_size, grad_acc_steps, train_steps, val_every, val_tokens, checkpoint_every, keep_checkpoints, seed },
 *   (zero gates are |g| < 1e-8, the reference's --gates_zero_eps, fixed in the engines)
 *     "optimizer":  { lr, beta1, beta2, eps, weight_decay },
 *     "schedule":   { warmup_fraction, start_factor },
 *     "controller": { name, ...params },
 *     "data":       { dataset: "synthetic" | "default" | NAME | PATH, tokenizer, ... },
 *     "engine":     { engine: "ort" | "tfjs", backend }
 *   }
 *
 * Parse once (`parseRunConfig`, at the service / CLI boundary) and hand the ResolvedRunConfig on: the queue, the
 * worker and the trainer take that type and never re-parse or re-default. Where a resolved config crosses a process
 * boundary as JSON (a job row read by the worker), `assertResolved` checks it is complete without applying defaults.
 */
import { z } from 'zod'
import { CONTROLLER_NAMES, ControllerConfigSchema, type ControllerConfig } from './controller.js'
import { closest } from '../util/suggest.js'
import { ConfigError, FIELD_LABELS, fromZodIssues, issue, type ConfigIssue } from './issues.js'
import { DEFAULT_GATED_ATTENTION, MODEL_KEYS, resolveModelConfig, type ModelConfig } from './model.js'
import { getPreset } from './presets.js'

export const ENGINE_NAMES = ['ort', 'tfjs'] as const
export type EngineName = (typeof ENGINE_NAMES)[number]
export const TOKENIZER_NAMES = ['byte', 'gpt2'] as const

const int = (what: string) =>
  z.number({ error: (i) => (i.input === undefined ? `${what} is required` : `${what} must be a number`) }).int({ error: `${what} must be a whole number` })

const TrainingSchema = z
  .object({
    /** sequences per micro-batch (the reference's device_batch_size) */
    batch_size: int('batch_size').min(1, { error: 'batch_size must be at least 1' }).default(8),
    /** micro-batches per optimizer step; one step sees batch_size · grad_acc_steps · max_seq_len tokens */
    grad_acc_steps: int('grad_acc_steps').min(1, { error: 'grad_acc_steps must be at least 1' }).default(1),
    /** optimizer steps; the LR schedule spans exactly this many */
    train_steps: int('train_steps').min(1, { error: 'train_steps must be at least 1' }),
    /** validate at step 0, every val_every steps and at the last step (0: only first and last) */
    val_every: int('val_every').min(0).default(100),
    /** validation token budget: the first ⌊val_tokens / max_seq_len⌋ windows of the validation split, every time */
    val_tokens: int('val_tokens').min(1).default(65_536),
    /** validation batch size (default: batch_size) */
    val_batch_size: int('val_batch_size').min(1).optional(),
    /** training checkpoint every N steps (0: only the final one); cancellation always checkpoints */
    checkpoint_every: int('checkpoint_every').min(0).default(0),
    /** keep the newest N step checkpoints (0: keep all); final/ is always kept */
    keep_checkpoints: int('keep_checkpoints').min(0).default(2),
    /** seed of the weight initialisation (and of the synthetic data unless it sets its own) */
    seed: int('seed').min(0).default(0),
  })
  .strict()

const OptimizerSchema = z
  .object({
    lr: z.number().positive().default(1e-3),
    beta1: z.number().min(0).lt(1).default(0.8),
    beta2: z.number().min(0).lt(1).default(0.95),
    eps: z.number().positive().default(1e-10),
    weight_decay: z.number().min(0).default(0),
  })
  .strict()

const ScheduleSchema = z
  .object({
    warmup_fraction: z.number().min(0).max(1).default(0.1),
    start_factor: z.number().min(0).max(1).default(0.1),
  })
  .strict()

const SyntheticDataSchema = z
  .object({
    /** tokens 0..vocab_size−1 (default: min(model vocab_size, 64)) */
    vocab_size: int('data.synthetic.vocab_size').min(2).optional(),
    train_tokens: int('data.synthetic.train_tokens').min(1).default(1_000_000),
    val_tokens: int('data.synthetic.val_tokens').min(1).default(65_536),
    successors: int('data.synthetic.successors').min(1).default(4),
    /** default: training.seed */
    seed: int('data.synthetic.seed').min(0).optional(),
  })
  .strict()

const DataSchema = z
  .object({
    /** "synthetic" (built in), "default" (the shipped corpus), a dataset name under the data folder, or a path */
    dataset: z.string().min(1).default('synthetic'),
    /** tokenizer for the shipped corpus: byte (vocab 257) or gpt2 (vocab 50257) */
    tokenizer: z.enum(TOKENIZER_NAMES).optional(),
    /** explicit shard lists instead of a dataset (paths to .bin files) */
    train_shards: z.array(z.string()).min(1).optional(),
    val_shards: z.array(z.string()).min(1).optional(),
    synthetic: SyntheticDataSchema.optional(),
  })
  .strict()

const EngineConfigSchema = z
  .object({
    engine: z.enum(ENGINE_NAMES).optional(),
    backend: z.string().optional(),
    threads: int('engine.threads').min(1).optional(),
  })
  .strict()

const RunConfigSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    /** reference model keys (./model.ts); validated by resolveModelConfig */
    model: z.record(z.string(), z.unknown()).default({}),
    training: TrainingSchema,
    optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
    schedule: ScheduleSchema.default(ScheduleSchema.parse({})),
    controller: z.unknown().default({ name: 'dummy' }),
    data: DataSchema.default(DataSchema.parse({})),
    engine: EngineConfigSchema.default({}),
  })
  .strict()

/** The object schema inside optional/default/nullable wrappers, or null for a leaf. */
function objectShape(t: z.ZodType): Record<string, z.ZodType> | null {
  let s: z.ZodType = t
  for (;;) {
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def
    if (def.type === 'object') return def.shape ?? null
    if (!def.innerType) return null
    s = def.innerType
  }
}

/**
 * Every field of a run config as a dotted path ("training.train_steps", "controller.mean_target_end", "model.dim"):
 * the run schema's fields, the model keys and every controller's options. Sweep axis paths are checked against it,
 * unknown keys get their "did you mean" from it, and a test checks each has a label (FIELD_LABELS).
 */
export const CONFIG_FIELD_PATHS: readonly string[] = (() => {
  const out = new Set<string>()
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [k, t] of Object.entries(shape)) {
      const inner = objectShape(t)
      if (inner) walk(inner, `${prefix}${k}.`)
      else out.add(prefix + k)
    }
  }
  walk(RunConfigSchema.shape, '')
  out.delete('model')
  out.delete('controller')
  for (const k of MODEL_KEYS) out.add(`model.${k}`)
  for (const o of ControllerConfigSchema.options) for (const k of Object.keys(o.shape)) out.add(`controller.${k}`)
  return [...out]
})()

/**
 * A sweep axis (or `set`) path that names no field of a run config: "unknown field …, did you mean …" (the closest
 * field path), so a typo is flagged at the axis instead of as an invalid or duplicate point. Null when it is a field.
 */
export function fieldPathIssue(path: string): ConfigIssue | null {
  if (CONFIG_FIELD_PATHS.includes(path)) return null
  const guess = closest(path, CONFIG_FIELD_PATHS)
  return {
    ...issue(path, `unknown field "${path}"${guess ? `, did you mean "${guess}"?` : ''}`),
    text: `Unknown field “${path}”${guess ? `: did you mean “${guess}” (${FIELD_LABELS[guess] ?? guess})?` : ': no run config field has this path'}`,
  }
}

/** Data sets every data folder has: the built-in synthetic chain and the shipped corpus (prepared on first use). */
const BUILTIN_DATASETS: readonly string[] = ['synthetic', 'default', 'default-byte', 'default-gpt2']

/**
 * A `data.dataset` value that is a path, not a name (a name is letters, digits, ".", "_", "-", not leading "." or
 * "~"): it has a slash or starts with "." or "~". The one rule: the service resolves such values against the data
 * folder and checks they exist.
 */
export const isDatasetPath = (v: string): boolean => /[\\/]/.test(v) || v.startsWith('.') || v.startsWith('~')

/** A path (or one segment of it) with glob characters (* ? [ ] { }). */
export const hasGlob = (v: string): boolean => /[*?[\]{}]/.test(v)

/**
 * `data.dataset` checked against the data sets this data folder has (`available`: the names of the imported ones
 * that load): an unknown name is flagged before a run starts, with a "did you mean". Paths are not judged here (the
 * service checks that they exist). Null when fine.
 */
export function datasetIssue(name: string, available: readonly string[]): ConfigIssue | null {
  if (isDatasetPath(name) || hasGlob(name) || BUILTIN_DATASETS.includes(name) || available.includes(name)) return null
  const all = [...new Set([...BUILTIN_DATASETS.filter((d) => !d.startsWith('default-')), ...available])]
  const guess = closest(name, all)
  return issue(
    'data.dataset',
    `unknown dataset "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}: the datasets here are ${all.join(', ')}; prepare it under Datasets or with skipbench data prepare`,
    `No dataset named “${name}” here${guess ? `: did you mean “${guess}”?` : ''} Choose one of ${all.join(', ')}, or import it on the Datasets page`,
  )
}

export type RunConfigInput = z.input<typeof RunConfigSchema>
type RawRunConfig = z.output<typeof RunConfigSchema>

/** A resolved, validated run configuration. */
export interface RunConfig extends Omit<RawRunConfig, 'model' | 'controller'> {
  model: ModelConfig
  controller: ControllerConfig
}

declare const RESOLVED: unique symbol

/**
 * A run config that went through the parser once: validated, presets merged, every default applied. Only
 * parseRunConfig / checkRunConfig (and assertResolved, for JSON that was resolved before) return one, so a function
 * that takes it cannot be handed a document that still needs defaults.
 */
export type ResolvedRunConfig = RunConfig & { readonly [RESOLVED]: true }

export class RunConfigError extends ConfigError {
  constructor(issues: readonly (ConfigIssue | string)[]) {
    super('', issues)
    this.message = `invalid run config:\n  - ${this.issues.join('\n  - ')}`
    this.name = 'RunConfigError'
  }
}

/** The result of validating a run config document: the resolved config or every issue, and warnings. */
export type RunConfigCheck = { ok: true; config: ResolvedRunConfig; warnings: string[] } | { ok: false; issues: ConfigIssue[] }

/** Validate a run config document without throwing. */
export function checkRunConfig(input: unknown): RunConfigCheck {
  const r = RunConfigSchema.safeParse(input)
  const issues: ConfigIssue[] = []
  if (!r.success) issues.push(...fromZodIssues(r.error.issues, [], CONFIG_FIELD_PATHS).map((i) => (i.path === 'controller' ? issue('controller', 'unknown controller', 'Choose a controller from the list') : i)))
  const raw = (key: 'model' | 'controller', dflt: unknown): unknown => (r.success ? r.data[key] : ((input as Record<string, unknown> | null)?.[key] ?? dflt))
  const m = resolveModelConfig(raw('model', {}), { gatedAttention: DEFAULT_GATED_ATTENTION, prefix: 'model.', strict: true })
  issues.push(...m.issues)
  const rawCtl = raw('controller', { name: 'dummy' })
  const c = ControllerConfigSchema.safeParse(rawCtl)
  if (!c.success)
    for (const i of c.error.issues) {
      if ((i.code === 'invalid_union' && i.path.length === 0) || (i.path.length === 1 && i.path[0] === 'name'))
        issues.push(
          issue('controller.name', `expected one of ${CONTROLLER_NAMES.join(', ')}, got ${JSON.stringify((rawCtl as { name?: unknown } | null)?.name)}`, `Unknown controller ${JSON.stringify((rawCtl as { name?: unknown } | null)?.name)}: choose one from the list`),
        )
      else issues.push(...fromZodIssues([i], ['controller'], CONFIG_FIELD_PATHS))
    }
  if (issues.length || !r.success || !m.config || !c.success) return { ok: false, issues }

  const model = m.config
  const controller = c.data
  const warnings: string[] = []
  const cfg = { ...r.data, model, controller } as ResolvedRunConfig
  if (model.zero_init_masks && controller.name !== 'dummy')
    warnings.push(`the controller "${controller.name}" has no effect on a dense model: dense runs have no gates to control`)
  if (!model.zero_init_masks && 'mean_targets' in controller && Array.isArray(controller.mean_targets) && controller.mean_targets.length !== model.n_layers / 2)
    return {
      ok: false,
      issues: [issue('controller.mean_targets', `needs ${model.n_layers / 2} values (n_layers / 2), got ${controller.mean_targets.length}`, `The targets need ${model.n_layers / 2} values (half the layers), not ${controller.mean_targets.length}`)],
    }
  const d = cfg.data
  if ((d.train_shards && !d.val_shards) || (!d.train_shards && d.val_shards)) return { ok: false, issues: [issue('data', 'give both train_shards and val_shards, or neither')] }
  if (d.synthetic && d.dataset !== 'synthetic') warnings.push('the synthetic data settings are ignored: the dataset is not "synthetic"')
  if (cfg.training.val_tokens < model.max_seq_len)
    warnings.push(`the validation tokens (${cfg.training.val_tokens}) are fewer than one window (the context length, ${model.max_seq_len}): one window is evaluated`)
  return { ok: true, config: cfg, warnings }
}

/** Parse and validate a run config; throws RunConfigError listing every problem. Also returns warnings. */
export function parseRunConfigWithWarnings(input: unknown): { config: ResolvedRunConfig; warnings: string[] } {
  const r = checkRunConfig(input)
  if (!r.ok) throw new RunConfigError(r.issues)
  return { config: r.config, warnings: r.warnings }
}

export const parseRunConfig = (input: unknown): ResolvedRunConfig => parseRunConfigWithWarnings(input).config

/** Paths where `b` has a value `a` lacks or differs from (plain JSON), e.g. "training.seed". */
function jsonDifferences(a: unknown, b: unknown, path = ''): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: string[] = []
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out.push(...jsonDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k))
    return out
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path || '(root)']
}

/**
 * The integrity check at a process boundary: `json` (a job's config, read back from the database) must already be a
 * resolved config — valid, and complete, so that parsing it would change nothing. Returns `json` itself (never a
 * re-defaulted copy); throws RunConfigError naming the invalid or missing fields otherwise.
 */
export function assertResolved(json: unknown): ResolvedRunConfig {
  const r = checkRunConfig(json)
  if (!r.ok) throw new RunConfigError(r.issues)
  const diff = jsonDifferences(json, runConfigToJson(r.config))
  if (diff.length) throw new RunConfigError(diff.map((p) => issue(p, 'missing or not resolved (the config was not resolved before it was handed on; queue it again)')))
  return json as ResolvedRunConfig
}

/**
 * A config read back from storage to START NEW WORK (resume, retry, exact re-run, cluster resubmission): a run's row or
 * a job's payload, maybe written by an earlier version of skipbench whose schema lacked fields this one defaults.
 * This is an entry point like the form or the CLI, so the config is parsed here, once; `filled` names the fields this
 * version's defaults supplied (empty for a config stored by this version), for the caller to log. An invalid stored
 * config throws RunConfigError naming the fields. The worker itself stays strict (assertResolved).
 */
export function upgradeStoredConfig(json: unknown): { config: ResolvedRunConfig; filled: string[] } {
  const r = checkRunConfig(json)
  if (!r.ok) throw new RunConfigError(r.issues)
  return { config: r.config, filled: jsonDifferences(json, runConfigToJson(r.config)) }
}

/** Plain JSON of a resolved config (what run.json stores and `--resume` re-parses). */
export function runConfigToJson(c: RunConfig): Record<string, unknown> {
  return JSON.parse(JSON.stringify(c)) as Record<string, unknown>
}

/** Deep merge for config overrides (objects merge, everything else replaces). */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (over === undefined) return base
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) return over as T
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = mergeConfig(out[k], v)
  return out as T
}

/**
 * Preset resolution: a config document may name a preset to start from, `{ "extends": "tiny-gated", "training":
 * { ... } }`. Overrides are merged last.
 */
export function resolveRunConfigInput(doc: unknown, overrides: unknown = undefined): unknown {
  let base: unknown = doc
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && typeof (doc as { extends?: unknown }).extends === 'string') {
    const { extends: name, ...rest } = doc as { extends: string }
    const preset = getPreset(name)
    if (!preset) throw new RunConfigError([issue('extends', `unknown preset "${name}"`)])
    base = mergeConfig<unknown>(structuredClone(preset.config), rest)
  }
  return mergeConfig(base, overrides)
}
