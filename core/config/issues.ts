/**
 * Structured config problems: `{ path, message, label }`. The path is the dotted config path of the field at fault
 * ("training.train_steps", "" for the whole document), the message says what to change, and the label is the field's
 * human name for the UI. Every parser in core/config reports these; `formatIssue` gives the one-line text the CLI
 * prints ("training.train_steps: must be at least 1").
 */
import { z } from 'zod'
import { closest } from '../util/suggest.js'
import { UserError } from '../user-errors.js'

export const ConfigIssueSchema = z.object({
  /** dotted path of the field ("training.train_steps"); "" for the whole config */
  path: z.string(),
  /** for the CLI and experts: names the config keys ("train_steps must be at least 1") */
  message: z.string(),
  /** the field's human name ("steps"), for the UI */
  label: z.string().optional(),
  /** the same in the app's words: field labels, no config keys, no library text ("Steps must be at least 1") */
  text: z.string().optional(),
})
export type ConfigIssue = z.infer<typeof ConfigIssueSchema>

/**
 * Human names of every run config field (the app's form, issues, config diffs, chart axes). A unit test checks that
 * every field of the schema has one (core/config/issues.test.ts).
 */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  name: 'run name',
  description: 'description',
  model: 'model',
  'model.dim': 'width (dim)',
  'model.n_layers': 'layers',
  'model.n_heads': 'heads',
  'model.n_kv_heads': 'key/value heads',
  'model.vocab_size': 'vocab size',
  'model.multiple_of': 'feed-forward rounding',
  'model.ffn_dim_multiplier': 'feed-forward multiplier',
  'model.norm_eps': 'norm epsilon',
  'model.rope_theta': 'rotary base (θ)',
  'model.use_scaled_rope': 'scaled rotary embeddings',
  'model.max_seq_len': 'context length',
  'model.initializer_range': 'initialisation scale',
  'model.zero_init_masks': 'kind',
  'model.mask_zero_init': 'kind (legacy key)',
  'model.gated_attention': 'gated attention',
  controller: 'controller',
  'controller.name': 'controller',
  'controller.mean_targets': 'targets',
  'controller.mean_target_start': 'target start',
  'controller.mean_target_end': 'target end (E)',
  'controller.var_target_delta': 'variance target offset',
  'controller.ema_steps_short': 'short average (steps)',
  'controller.ema_steps_long': 'long average (steps)',
  'controller.mean_coef_init': 'initial mean coefficient',
  'controller.var_coef_init': 'initial variance coefficient',
  'controller.coef_max': 'coefficient ceiling',
  'controller.coef_min': 'coefficient floor',
  'controller.delta_min': 'smallest update',
  'controller.coef_update': 'update size',
  'controller.coef_update_multiplier': 'update multiplier (k)',
  'controller.deriv_min': 'smallest derivative',
  optimizer: 'optimiser',
  'optimizer.lr': 'learning rate',
  'optimizer.beta1': 'β1',
  'optimizer.beta2': 'β2',
  'optimizer.eps': 'optimiser epsilon',
  'optimizer.weight_decay': 'weight decay',
  schedule: 'schedule',
  'schedule.warmup_fraction': 'warm-up fraction',
  'schedule.start_factor': 'warm-up start factor',
  data: 'data',
  'data.dataset': 'dataset',
  'data.tokenizer': 'tokenizer',
  'data.train_shards': 'training shards',
  'data.val_shards': 'validation shards',
  'data.synthetic': 'synthetic data',
  'data.synthetic.vocab_size': 'synthetic vocab size',
  'data.synthetic.train_tokens': 'synthetic training tokens',
  'data.synthetic.val_tokens': 'synthetic validation tokens',
  'data.synthetic.successors': 'synthetic successors per token',
  'data.synthetic.seed': 'synthetic data seed',
  training: 'training',
  'training.train_steps': 'steps',
  'training.batch_size': 'batch size',
  'training.grad_acc_steps': 'grad. accumulation',
  'training.val_every': 'validate every',
  'training.val_tokens': 'validation tokens',
  'training.val_batch_size': 'validation batch size',
  'training.checkpoint_every': 'checkpoint every',
  'training.keep_checkpoints': 'checkpoints kept',
  'training.seed': 'seed',
  engine: 'engine',
  'engine.engine': 'engine',
  'engine.backend': 'backend',
  'engine.threads': 'threads',
}

/** The label of a dotted path, or of its nearest labelled parent; null when none. */
export function fieldLabel(path: string): string | null {
  let p = path
  while (p && !(p in FIELD_LABELS)) p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : ''
  return p ? FIELD_LABELS[p]! : null
}

/** Config key names (last path segments) as the app names them: "train_steps" → "steps". */
const KEY_WORDS: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>()
  for (const [path, label] of Object.entries(FIELD_LABELS)) {
    const key = path.slice(path.lastIndexOf('.') + 1)
    if (key.includes('_') && !m.has(key)) m.set(key, label)
  }
  m.set('zero_init_masks', 'kind').set('head_dim', 'head width').set('n_layers', 'layers').set('n_heads', 'heads').set('n_kv_heads', 'key/value heads')
  m.set('max_seq_len', 'context length').set('mean_targets', 'targets').set('train_shards', 'training shards').set('val_shards', 'validation shards')
  return m
})()

/**
 * A message in the app's words: dotted paths and snake_case config keys become field labels, references to the spec
 * ("(spec A.4)") go, and the first letter is a capital. Used for every issue's `text` and for warnings shown in the
 * app; the key stays in the issue's path (a tooltip for experts).
 */
export function humanText(message: string): string {
  let t = message.replace(/\s*\(spec [A-Z]\.\d+(\/[A-Z]?\.?\d+)*\)/g, '')
  t = t.replace(/\b[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+\b/g, (p) => FIELD_LABELS[p] ?? p)
  t = t.replace(/\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b/g, (k) => KEY_WORDS.get(k) ?? k.replace(/_/g, ' '))
  return /^[a-z]/.test(t) ? t[0]!.toUpperCase() + t.slice(1) : t
}

/**
 * An issue at a path, labelled with the nearest labelled field (the path itself or a parent). `text` is the
 * message in the app's words (default: humanText(message)).
 */
export function issue(path: string, message: string, text?: string): ConfigIssue {
  const label = fieldLabel(path)
  const t = humanText(text ?? message)
  return label ? { path, message, label, text: t } : { path, message, text: t }
}

/** An issue in the app's words, for one line of a message the app shows: its text, else its message. */
export const issueText = (i: ConfigIssue): string => i.text ?? humanText(i.message)

/** One line: "path: message" (or the message alone for whole-document issues). */
const formatIssue = (i: ConfigIssue): string => (i.path ? `${i.path}: ${i.message}` : i.message)

const fmtBound = (v: unknown) => (typeof v === 'bigint' ? v.toString() : String(v))

/** What is wrong, for a zod issue, in words ("must be at least 1"), from its code; null: keep the schema's message. */
function zodPhrase(i: z.core.$ZodIssue): string | null {
  switch (i.code) {
    case 'too_small': {
      const n = fmtBound(i.minimum)
      if (i.origin === 'array' || i.origin === 'set') return `needs at least ${n} value${n === '1' ? '' : 's'}`
      if (i.origin === 'string') return n === '1' ? 'must not be empty' : `needs at least ${n} characters`
      return i.inclusive === false ? `must be greater than ${n}` : `must be at least ${n}`
    }
    case 'too_big': {
      const n = fmtBound(i.maximum)
      if (i.origin === 'array' || i.origin === 'set') return `takes at most ${n} value${n === '1' ? '' : 's'}`
      if (i.origin === 'string') return `takes at most ${n} characters`
      return i.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`
    }
    case 'invalid_type': {
      const e = String(i.expected)
      if (i.input === undefined && /received undefined/.test(i.message)) return 'is required'
      if (e === 'int') return 'must be a whole number'
      if (e === 'number') return 'must be a number'
      if (e === 'boolean') return 'must be true or false'
      if (e === 'string') return 'must be text'
      if (e === 'array') return 'must be a list'
      if (e === 'object' || e === 'record') return 'must be a group of settings'
      return 'has the wrong type'
    }
    case 'invalid_value':
      return i.values.length === 1 ? `must be ${JSON.stringify(i.values[0])}` : `must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'not_multiple_of':
      return `must be a multiple of ${fmtBound(i.divisor)}`
    case 'invalid_format':
      return 'is not in the expected form'
    case 'invalid_union':
      return 'is not one of the accepted forms'
    case 'custom':
      return null
    default:
      return 'is not valid'
  }
}

/**
 * A zod issue as ours, under a path prefix. Zod's own texts ("Too small: expected number to be >0") never pass:
 * the message is rebuilt from the issue's code ("lr must be greater than 0", the key for the CLI) and the text from
 * the field's label ("Learning rate must be greater than 0"). Custom messages of our schemas are kept (they name
 * the fix) and only relabelled for the text.
 */
function fromZodIssue(i: z.core.$ZodIssue, prefix: readonly string[] = []): ConfigIssue {
  const segs = [...prefix, ...i.path.map(String)]
  const path = segs.join('.')
  const phrase = zodPhrase(i)
  const ours = i.code === 'custom' || !/^(Too (small|big)|Invalid|Expected|Unrecognized)/i.test(i.message)
  if (ours) {
    const text = i.code === 'custom' && typeof i.params?.['text'] === 'string' ? (i.params['text'] as string) : undefined
    return issue(path, i.message, text)
  }
  const key = segs.at(-1) ?? 'the config'
  const label = fieldLabel(path) ?? key.replace(/_/g, ' ')
  const p = phrase ?? 'is not valid'
  return issue(path, `${key} ${p}`, p === 'is required' ? `${label}: a value is required` : `${label} ${p}`)
}

/**
 * Zod issues as ours; an unknown-keys issue becomes one issue per key, at the key's own path, with a "did you mean"
 * among `known` (every field's dotted path, core/config's CONFIG_FIELD_PATHS).
 */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly string[] = [], known: readonly string[] = []): ConfigIssue[] {
  return issues.flatMap((i) => {
    if (i.code !== 'unrecognized_keys') return [fromZodIssue(i, prefix)]
    const at = [...prefix, ...i.path.map(String)]
    return i.keys.map((k) => unknownKeyIssue([...at, k].join('.'), known))
  })
}

/**
 * `unknown key "k"` (with a "did you mean" among the known fields beside it) for the CLI, and in the app's words:
 * Unknown field “k” in optimiser: did you mean “learning rate”?
 */
export function unknownKeyIssue(path: string, known: readonly string[], more = ''): ConfigIssue {
  const cut = path.lastIndexOf('.')
  const key = path.slice(cut + 1)
  const parent = cut < 0 ? '' : path.slice(0, cut + 1)
  const siblings = known.filter((p) => p.startsWith(parent) && !p.slice(parent.length).includes('.')).map((p) => p.slice(parent.length))
  const guess = closest(key, siblings)
  const where = parent ? ` in ${fieldLabel(parent.slice(0, -1)) ?? parent.slice(0, -1)}` : ''
  return {
    ...issue(path, `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}${more}`),
    text: `Unknown field “${key}”${where}${guess ? `: did you mean “${FIELD_LABELS[parent + guess] ?? guess}”?` : ''}`,
  }
}

/**
 * A user's config problem: carries the structured issues, and a message listing them one per line. `issues` keeps
 * the one-line texts for callers that print them.
 */
export class ConfigError extends UserError {
  readonly configIssues: ConfigIssue[]
  readonly issues: string[]
  constructor(message: string, issues: readonly (ConfigIssue | string)[] = [message]) {
    super(message)
    this.name = 'ConfigError'
    this.configIssues = issues.map((i) => (typeof i === 'string' ? issue('', i) : i))
    this.issues = this.configIssues.map(formatIssue)
  }
}
