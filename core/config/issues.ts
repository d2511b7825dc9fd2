/**
 * Structured config problems: `{ path, message, label }`. The path is the dotted config path of the field at fault
 * ("training.train_steps", "" for the whole document), the message says what to change, and the label is the field's
 * human name for the UI. Every parser in core/config reports these; `formatIssue` gives the one-line text the CLI
 * prints ("training.train_steps: must be at least 1").
 */
import { z } from 'zod'
import { UserError } from '../user-errors.js'

export const ConfigIssueSchema = z.object({
  /** dotted path of the field ("training.train_steps"); "" for the whole config */
  path: z.string(),
  message: z.string(),
  /** the field's human name ("steps"), for the UI */
  label: z.string().optional(),
})
export type ConfigIssue = z.infer<typeof ConfigIssueSchema>

/** Human names of the config fields the app's form shows (also used to label issues). */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  'model.dim': 'width (dim)',
  'model.n_layers': 'layers',
  'model.n_heads': 'heads',
  'model.n_kv_heads': 'key/value heads',
  'model.vocab_size': 'vocab size',
  'model.max_seq_len': 'context length',
  'model.zero_init_masks': 'kind',
  'model.gated_attention': 'gated attention',
  'controller.name': 'controller',
  'controller.mean_targets': 'targets',
  'controller.mean_target_start': 'target start',
  'controller.mean_target_end': 'target end (E)',
  'controller.coef_update_multiplier': 'update multiplier (k)',
  'optimizer.lr': 'learning rate',
  'optimizer.beta1': 'β1',
  'optimizer.beta2': 'β2',
  'optimizer.weight_decay': 'weight decay',
  'schedule.warmup_fraction': 'warm-up fraction',
  'data.dataset': 'dataset',
  'data.tokenizer': 'tokenizer',
  'training.train_steps': 'steps',
  'training.batch_size': 'batch size',
  'training.grad_acc_steps': 'grad. accumulation',
  'training.val_every': 'validate every',
  'training.val_tokens': 'validation tokens',
  'training.checkpoint_every': 'checkpoint every',
  'training.seed': 'seed',
  'engine.engine': 'engine',
  'engine.backend': 'backend',
}

/** An issue at a path, labelled with the nearest labelled field (the path itself or a parent). */
export function issue(path: string, message: string): ConfigIssue {
  let p = path
  while (p && !(p in FIELD_LABELS)) p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : ''
  return p ? { path, message, label: FIELD_LABELS[p]! } : { path, message }
}

/** One line: "path: message" (or the message alone for whole-document issues). */
const formatIssue = (i: ConfigIssue): string => (i.path ? `${i.path}: ${i.message}` : i.message)

/** A zod issue as ours, under a path prefix. */
function fromZodIssue(i: z.core.$ZodIssue, prefix: readonly string[] = []): ConfigIssue {
  const path = [...prefix, ...i.path.map(String)]
  return issue(path.join('.'), i.message)
}

/** Zod issues as ours; an unknown-keys issue becomes one issue per key, at the key's own path. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly string[] = []): ConfigIssue[] {
  return issues.flatMap((i) => {
    if (i.code !== 'unrecognized_keys') return [fromZodIssue(i, prefix)]
    const at = [...prefix, ...i.path.map(String)]
    return i.keys.map((k) => issue([...at, k].join('.'), `unknown key "${k}"`))
  })
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
    this.configIssues = issues.map((i) => (typeof i === 'string' ? { path: '', message: i } : i))
    this.issues = this.configIssues.map(formatIssue)
  }
}
