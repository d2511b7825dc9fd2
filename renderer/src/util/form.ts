/**
 * The run-config form as data: fields grouped in sections (model, gating, controller, optimiser, data, budget,
 * engine), the kind switch (dense ↔ gated), and the sweep groups built from the form (pure; form.test.ts).
 * Validation itself is the trainer's zod schema, asked through validateConfig; here only the shape of the form.
 */
import type { ConfigIssue, RunConfigDoc, SweepGroup, SweepSpec } from '../../../core/contract/api'
import { getPath, parseValueList, setPath } from './paths'

export type FieldKind = 'int' | 'number' | 'bool' | 'enum' | 'text' | 'dataset'

export interface FieldDef {
  path: string
  label: string
  kind: FieldKind
  options?: readonly string[]
  help?: string
  /** shown only when true for the current document */
  when?: (doc: RunConfigDoc) => boolean
  step?: number
}

export interface Section {
  id: string
  title: string
  fields: FieldDef[]
}

export const isGated = (doc: RunConfigDoc) => getPath(doc, 'model.zero_init_masks') === false
const hasTargets = (doc: RunConfigDoc) => isGated(doc) && ['adaptive', 'proportional', 'proportional_derivative', 'sparsity_variance_l2'].includes(String(getPath(doc, 'controller.name')))

export const CONTROLLERS = ['dummy', 'sparsity', 'sparsity_variance', 'sparsity_variance_l2', 'adaptive', 'proportional', 'proportional_derivative'] as const

export const SECTIONS: Section[] = [
  {
    id: 'model',
    title: 'Model',
    fields: [
      { path: 'model.dim', label: 'width (dim)', kind: 'int', help: 'divisible by n_heads; head_dim even' },
      { path: 'model.n_layers', label: 'layers', kind: 'int', help: 'even for gated models' },
      { path: 'model.n_heads', label: 'heads', kind: 'int' },
      { path: 'model.vocab_size', label: 'vocab size', kind: 'int', help: '257 for the byte tokenizer' },
      { path: 'model.max_seq_len', label: 'context length', kind: 'int' },
    ],
  },
  {
    id: 'gating',
    title: 'Gating',
    fields: [
      { path: 'kind', label: 'kind', kind: 'enum', options: ['dense', 'gated'], help: 'dense = zero-initialised masks, g ≡ 1' },
      { path: 'model.gated_attention', label: 'gated attention', kind: 'enum', options: ['key', 'query', 'none'], when: isGated, help: '"key": skipped tokens are hidden from later ones' },
    ],
  },
  {
    id: 'controller',
    title: 'Controller',
    fields: [
      { path: 'controller.name', label: 'controller', kind: 'enum', options: CONTROLLERS, when: isGated },
      { path: 'controller.mean_target_start', label: 'target start', kind: 'number', step: 0.05, when: hasTargets },
      { path: 'controller.mean_target_end', label: 'target end (E)', kind: 'number', step: 0.05, when: hasTargets, help: 'gate-mean target of the middle layer' },
      { path: 'controller.coef_update_multiplier', label: 'update multiplier (k)', kind: 'number', when: (d) => isGated(d) && String(getPath(d, 'controller.name')).startsWith('proportional') },
    ],
  },
  {
    id: 'optimizer',
    title: 'Optimiser',
    fields: [
      { path: 'optimizer.lr', label: 'learning rate', kind: 'number', step: 0.0001 },
      { path: 'optimizer.beta1', label: 'β1', kind: 'number', step: 0.01 },
      { path: 'optimizer.beta2', label: 'β2', kind: 'number', step: 0.01 },
      { path: 'optimizer.weight_decay', label: 'weight decay', kind: 'number', step: 0.01 },
      { path: 'schedule.warmup_fraction', label: 'warm-up fraction', kind: 'number', step: 0.05 },
    ],
  },
  {
    id: 'data',
    title: 'Data',
    fields: [
      { path: 'data.dataset', label: 'dataset', kind: 'dataset', help: '"default": the shipped corpus; "synthetic": a Markov chain' },
      { path: 'data.tokenizer', label: 'tokenizer', kind: 'enum', options: ['byte', 'gpt2'], when: (d) => getPath(d, 'data.dataset') === 'default' },
    ],
  },
  {
    id: 'budget',
    title: 'Budget',
    fields: [
      { path: 'training.train_steps', label: 'steps', kind: 'int' },
      { path: 'training.batch_size', label: 'batch size', kind: 'int' },
      { path: 'training.grad_acc_steps', label: 'grad. accumulation', kind: 'int' },
      { path: 'training.val_every', label: 'validate every', kind: 'int' },
      { path: 'training.val_tokens', label: 'validation tokens', kind: 'int' },
      { path: 'training.checkpoint_every', label: 'checkpoint every', kind: 'int' },
      { path: 'training.seed', label: 'seed', kind: 'int' },
    ],
  },
  {
    id: 'engine',
    title: 'Engine',
    fields: [
      { path: 'engine.engine', label: 'engine', kind: 'enum', options: ['', 'ort', 'tfjs'], help: 'empty: the default from Settings' },
      { path: 'engine.backend', label: 'backend', kind: 'text', help: 'e.g. cpu, cuda, wasm (empty: auto)' },
    ],
  },
]

/** A field's value as the form shows it ('kind' is derived from model.zero_init_masks). */
export function fieldValue(doc: RunConfigDoc, path: string): unknown {
  if (path === 'kind') return isGated(doc) ? 'gated' : 'dense'
  return getPath(doc, path)
}

/** The document after the user edits a field. Empty text/number inputs remove the key (schema defaults apply). */
export function applyField(doc: RunConfigDoc, f: FieldDef, raw: string | boolean): RunConfigDoc {
  if (f.path === 'kind') return withKind(doc, raw === 'gated' ? 'gated' : 'dense')
  if (f.kind === 'bool') return setPath(doc, f.path, !!raw)
  const text = String(raw)
  if (text.trim() === '') return setPath(doc, f.path, undefined)
  if (f.kind === 'int' || f.kind === 'number') {
    const n = Number(text)
    // keep what was typed if it is not a number: the schema's message says what is wrong
    return setPath(doc, f.path, Number.isFinite(n) ? n : text)
  }
  if (f.path === 'controller.name') return setPath(doc, 'controller', controllerDefaults(text, doc))
  return setPath(doc, f.path, text)
}

function controllerDefaults(name: string, doc: RunConfigDoc): Record<string, unknown> {
  const prev = (getPath(doc, 'controller') ?? {}) as Record<string, unknown>
  if (name === 'dummy' || name === 'sparsity' || name === 'sparsity_variance') return { name }
  const keep = (k: string, d: unknown) => (prev[k] !== undefined ? prev[k] : d)
  const base: Record<string, unknown> = { name, mean_target_start: keep('mean_target_start', 1), mean_target_end: keep('mean_target_end', 0.5) }
  if (name.startsWith('proportional')) base.coef_update_multiplier = name === 'proportional' ? 1e-3 : 1e-2
  return base
}

/** Switch dense ↔ gated: masks, gated attention and a controller that makes sense for the kind. */
export function withKind(doc: RunConfigDoc, kind: 'dense' | 'gated'): RunConfigDoc {
  let d = setPath(doc, 'model.zero_init_masks', kind === 'dense')
  if (kind === 'dense') {
    d = setPath(d, 'controller', { name: 'dummy' })
  } else {
    if (!getPath(d, 'model.gated_attention')) d = setPath(d, 'model.gated_attention', 'key')
    if (getPath(d, 'controller.name') === 'dummy' || getPath(d, 'controller.name') === undefined)
      d = setPath(d, 'controller', { name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: 1e-3 })
  }
  return d
}

/** Issues by field path; whole-document issues under ''. Issues on sub-fields of a field show on it. */
export function issuesByField(issues: readonly ConfigIssue[]): Map<string, string[]> {
  const known = new Set(SECTIONS.flatMap((s) => s.fields.map((f) => f.path)))
  const out = new Map<string, string[]>()
  for (const i of issues) {
    let p = i.path
    if (p === 'model.zero_init_masks') p = 'kind'
    while (p && !known.has(p)) p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : ''
    out.set(p, [...(out.get(p) ?? []), i.path && p !== i.path ? `${i.path}: ${i.message}` : i.message])
  }
  return out
}

// ------------------------------------------------------------------------------------------------ sweeps

export interface AxisDraft {
  path: string
  values: string
}

export interface GroupDraft {
  name: string
  kind: 'as-form' | 'dense' | 'gated'
  axes: AxisDraft[]
}

/** Config paths offered for sweep axes (any dotted path may be typed). */
export const AXIS_PATHS = ['model.n_layers', 'model.dim', 'controller.mean_target_end', 'training.seed', 'optimizer.lr', 'training.train_steps', 'model.gated_attention', 'controller.coef_update_multiplier'] as const

export function defaultGroups(doc: RunConfigDoc): GroupDraft[] {
  const L = Number(getPath(doc, 'model.n_layers') ?? 2) || 2
  const dense = [...new Set([Math.max(1, L / 2), L])].filter((x) => Number.isInteger(x))
  return [
    { name: 'dense', kind: 'dense', axes: [{ path: 'model.n_layers', values: dense.join(', ') }] },
    { name: 'gated', kind: 'gated', axes: [{ path: 'controller.mean_target_end', values: String(getPath(doc, 'controller.mean_target_end') ?? 0.5) }] },
  ]
}

/** The contract's SweepSpec from the form document and the group drafts. Empty axes are dropped. */
export function sweepSpec(name: string, doc: RunConfigDoc, groups: readonly GroupDraft[], seeds: number): SweepSpec {
  const out: SweepGroup[] = groups.map((g) => {
    let base = structuredClone(doc)
    if (g.kind !== 'as-form') base = withKind(base, g.kind)
    const { name: _n, ...rest } = base
    return {
      name: g.name.trim() || 'group',
      base: rest,
      axes: g.axes.filter((a) => a.path.trim() && a.values.trim()).map((a) => ({ path: a.path.trim(), values: parseValueList(a.values) })),
    }
  })
  return { name: name.trim() || 'sweep', groups: out, ...(seeds > 1 ? { seeds } : {}) }
}

/** Number of runs a set of group drafts expands to (before validation). */
export function sweepSize(groups: readonly GroupDraft[], seeds: number): number {
  return groups.reduce((n, g) => n + g.axes.filter((a) => a.path.trim() && a.values.trim()).reduce((m, a) => m * Math.max(1, parseValueList(a.values).length), 1), 0) * Math.max(1, seeds)
}
