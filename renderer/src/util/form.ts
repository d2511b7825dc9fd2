/**
 * The run-config form as data: fields grouped in sections (model, gating, controller, optimiser, data, budget,
 * engine), the kind switch (dense ↔ gated), and the sweep groups built from the form (pure; form.test.ts).
 * Labels, option lists and defaults come from core/config (the run config's one home); validation is its schema,
 * asked through validateConfig; here only the shape of the form.
 */
import type { ConfigIssue, RunConfigDoc, SweepGroup, SweepSpec } from '../../../core/contract/api'
import { CONTROLLER_NAMES, controllerFormDefaults, DEFAULT_GATED_ATTENTION, ENGINE_NAMES, FIELD_LABELS, GATED_ATTENTION, issueText, RUN_DEFAULTS, TARGET_CONTROLLERS, TOKENIZER_NAMES, type ControllerName } from '../../../core/config/index'
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

const isGated = (doc: RunConfigDoc) => getPath(doc, 'model.zero_init_masks') === false
const hasTargets = (doc: RunConfigDoc) => isGated(doc) && (TARGET_CONTROLLERS as readonly string[]).includes(String(getPath(doc, 'controller.name')))

const L = (path: string): string => FIELD_LABELS[path] ?? path

export const SECTIONS: Section[] = [
  {
    id: 'model',
    title: 'Model',
    fields: [
      { path: 'model.dim', label: L('model.dim'), kind: 'int', help: 'a multiple of the heads, with an even width per head' },
      { path: 'model.n_layers', label: L('model.n_layers'), kind: 'int', help: 'even for gated models' },
      { path: 'model.n_heads', label: L('model.n_heads'), kind: 'int' },
      { path: 'model.vocab_size', label: L('model.vocab_size'), kind: 'int', help: '257 for the byte tokenizer' },
      { path: 'model.max_seq_len', label: L('model.max_seq_len'), kind: 'int' },
    ],
  },
  {
    id: 'gating',
    title: 'Gating',
    fields: [
      { path: 'kind', label: L('model.zero_init_masks'), kind: 'enum', options: ['dense', 'gated'], help: 'dense = zero-initialised masks, g ≡ 1' },
      { path: 'model.gated_attention', label: L('model.gated_attention'), kind: 'enum', options: GATED_ATTENTION, when: isGated, help: '"key": skipped tokens are hidden from later ones' },
    ],
  },
  {
    id: 'controller',
    title: 'Controller',
    fields: [
      { path: 'controller.name', label: L('controller.name'), kind: 'enum', options: CONTROLLER_NAMES, when: isGated },
      { path: 'controller.mean_target_start', label: L('controller.mean_target_start'), kind: 'number', step: 0.05, when: hasTargets },
      { path: 'controller.mean_target_end', label: L('controller.mean_target_end'), kind: 'number', step: 0.05, when: hasTargets, help: 'gate-mean target of the middle layer' },
      { path: 'controller.coef_update_multiplier', label: L('controller.coef_update_multiplier'), kind: 'number', when: (d) => isGated(d) && String(getPath(d, 'controller.name')).startsWith('proportional') },
    ],
  },
  {
    id: 'optimizer',
    title: 'Optimiser',
    fields: [
      { path: 'optimizer.lr', label: L('optimizer.lr'), kind: 'number', step: 0.0001 },
      { path: 'optimizer.beta1', label: L('optimizer.beta1'), kind: 'number', step: 0.01 },
      { path: 'optimizer.beta2', label: L('optimizer.beta2'), kind: 'number', step: 0.01 },
      { path: 'optimizer.weight_decay', label: L('optimizer.weight_decay'), kind: 'number', step: 0.01 },
      { path: 'schedule.warmup_fraction', label: L('schedule.warmup_fraction'), kind: 'number', step: 0.05 },
    ],
  },
  {
    id: 'data',
    title: 'Data',
    fields: [
      { path: 'data.dataset', label: L('data.dataset'), kind: 'dataset', help: '"default": the shipped corpus; "synthetic": a Markov chain' },
      { path: 'data.tokenizer', label: L('data.tokenizer'), kind: 'enum', options: TOKENIZER_NAMES, when: (d) => getPath(d, 'data.dataset') === 'default' },
    ],
  },
  {
    id: 'budget',
    title: 'Budget',
    fields: [
      { path: 'training.train_steps', label: L('training.train_steps'), kind: 'int' },
      { path: 'training.batch_size', label: L('training.batch_size'), kind: 'int' },
      { path: 'training.grad_acc_steps', label: L('training.grad_acc_steps'), kind: 'int' },
      { path: 'training.val_every', label: L('training.val_every'), kind: 'int' },
      { path: 'training.val_tokens', label: L('training.val_tokens'), kind: 'int' },
      { path: 'training.checkpoint_every', label: L('training.checkpoint_every'), kind: 'int' },
      { path: 'training.seed', label: L('training.seed'), kind: 'int' },
    ],
  },
  {
    id: 'engine',
    title: 'Engine',
    fields: [
      { path: 'engine.engine', label: L('engine.engine'), kind: 'enum', options: ['', ...ENGINE_NAMES], help: 'empty: the default from Settings' },
      { path: 'engine.backend', label: L('engine.backend'), kind: 'text', help: 'e.g. cpu, cuda, wasm (empty: auto)' },
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
  if (f.path === 'controller.name') {
    if (!(CONTROLLER_NAMES as readonly string[]).includes(text)) return setPath(doc, f.path, text)
    return setPath(doc, 'controller', controllerFormDefaults(text as ControllerName, (getPath(doc, 'controller') ?? {}) as Record<string, unknown>))
  }
  return setPath(doc, f.path, text)
}

/** What an empty field means: the schema's default for it (shown as the input's placeholder). */
export function fieldDefault(doc: RunConfigDoc, path: string): unknown {
  if (path === 'kind') return undefined
  const d = RUN_DEFAULTS[isGated(doc) ? 'gated' : 'dense'] as unknown as RunConfigDoc
  return getPath(d, path)
}

/** Switch dense ↔ gated: masks, gated attention and a controller that makes sense for the kind. */
export function withKind(doc: RunConfigDoc, kind: 'dense' | 'gated'): RunConfigDoc {
  let d = setPath(doc, 'model.zero_init_masks', kind === 'dense')
  if (kind === 'dense') {
    d = setPath(d, 'controller', { name: 'dummy' })
  } else {
    if (!getPath(d, 'model.gated_attention')) d = setPath(d, 'model.gated_attention', DEFAULT_GATED_ATTENTION)
    if (getPath(d, 'controller.name') === 'dummy' || getPath(d, 'controller.name') === undefined) d = setPath(d, 'controller', controllerFormDefaults('proportional'))
  }
  return d
}

/** An issue as the form shows it: the text in the app's words, and the config key and expert message as its tooltip. */
export interface ShownIssue {
  text: string
  title: string
}

/** What the form shows for an issue (core/config issueText), with the key for experts in the tooltip. */
export const shownIssue = (i: ConfigIssue): ShownIssue => ({ text: issueText(i), title: i.path ? `${i.path}: ${i.message}` : i.message })

/**
 * Issues by field path; whole-document issues under ''. Issues on sub-fields of a field show on it, and issues on
 * fields the form does not show are named by their label.
 */
export function issuesByField(issues: readonly ConfigIssue[]): Map<string, ShownIssue[]> {
  const known = new Set(SECTIONS.flatMap((s) => s.fields.map((f) => f.path)))
  const out = new Map<string, ShownIssue[]>()
  for (const i of issues) {
    let p = i.path
    if (p === 'model.zero_init_masks') p = 'kind'
    while (p && !known.has(p)) p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : ''
    const s = shownIssue(i)
    const text = i.path && p !== i.path && i.label && !s.text.toLowerCase().includes(i.label.toLowerCase()) ? `${i.label}: ${s.text}` : s.text
    out.set(p, [...(out.get(p) ?? []), { ...s, text }])
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

/** A dotted config path as the contract takes it ("model.n_layers"); anything else is still being typed. */
const AXIS_PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

/** An axis the plan includes: a well-formed path and some values (the others wait, with a hint at the axis). */
const axisFilled = (a: AxisDraft): boolean => AXIS_PATH_RE.test(a.path.trim()) && !!a.values.trim()

/** What an axis row still lacks, in words (null when it is part of the plan or left empty). */
export function axisHint(a: AxisDraft): string | null {
  const p = a.path.trim()
  if (!p && !a.values.trim()) return null
  if (!p) return 'Give the config path this axis varies, e.g. model.n_layers.'
  if (!AXIS_PATH_RE.test(p)) return 'Use a dotted config path, e.g. model.n_layers or controller.mean_target_end.'
  if (!a.values.trim()) return 'Give the values, separated by commas, e.g. 2, 4, 6.'
  return null
}

/** Config paths offered for sweep axes (any dotted path may be typed). */
export const AXIS_PATHS = ['model.n_layers', 'model.dim', 'controller.mean_target_end', 'training.seed', 'optimizer.lr', 'training.train_steps', 'model.gated_attention', 'controller.coef_update_multiplier'] as const

export function defaultGroups(doc: RunConfigDoc): GroupDraft[] {
  const L = Number(getPath(doc, 'model.n_layers') ?? 2) || 2
  const dense = [...new Set([Math.max(1, L / 2), L])].filter((x) => Number.isInteger(x))
  return [
    { name: 'dense', kind: 'dense', axes: [{ path: 'model.n_layers', values: dense.join(', ') }] },
    { name: 'gated', kind: 'gated', axes: [{ path: 'controller.mean_target_end', values: String(getPath(doc, 'controller.mean_target_end') ?? getPath(RUN_DEFAULTS.gated as unknown as RunConfigDoc, 'controller.mean_target_end')) }] },
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
      axes: g.axes.filter(axisFilled).map((a) => ({ path: a.path.trim(), values: parseValueList(a.values) })),
    }
  })
  return { name: name.trim() || 'sweep', groups: out, ...(seeds > 1 ? { seeds } : {}) }
}

/**
 * The issues of a sweep plan's axis paths (planSweep's axisIssues, by the spec's axis index) at the draft's own axis
 * rows: the spec leaves out empty axes, so its k-th axis of a group is the k-th filled-in draft axis.
 */
export function axisIssuesByDraft(groups: readonly GroupDraft[], issues: readonly { group: number; axis: number | null; issue: ConfigIssue }[]): Map<string, ShownIssue[]> {
  const out = new Map<string, ShownIssue[]>()
  for (const a of issues) {
    const g = groups[a.group]
    let key = `${a.group}`
    if (g && a.axis !== null) {
      const filled = g.axes.map((x, i) => [x, i] as const).filter(([x]) => axisFilled(x))
      const at = filled[a.axis]
      if (at) key = `${a.group}.${at[1]}`
    }
    out.set(key, [...(out.get(key) ?? []), shownIssue(a.issue)])
  }
  return out
}

/** Number of runs a set of group drafts expands to (before validation). */
export function sweepSize(groups: readonly GroupDraft[], seeds: number): number {
  return groups.reduce((n, g) => n + g.axes.filter(axisFilled).reduce((m, a) => m * Math.max(1, parseValueList(a.values).length), 1), 0) * Math.max(1, seeds)
}
