/**
 * The guided comparison ("Compare skip-middle with dense baselines"), as pure functions (compare.test.ts): from one
 * gated model and one budget (steps × batch, the same evaluation set for every run) propose the dense depths that
 * bracket its compute and the gated target ends E, and build the sweep that trains them all. The sweep goes through
 * the same planSweep/startSweep as the expert form, so its plan, cost and validation are the server's.
 */
import type { RunConfigDoc, SweepSpec } from '../../../core/contract/api'
import { sweepSpec, type GroupDraft } from './form'
import { getPath, parseValueList, setPath } from './paths'

export interface ComparisonDraft {
  name: string
  /** the gated model's depth (even) */
  layers: number
  dim: number
  /** the budget every run gets */
  steps: number
  batchSize: number
  /** the evaluation set every run is scored on */
  valTokens: number
  dataset: string
  /** comma-separated lists as typed */
  denseDepths: string
  targets: string
  seeds: number
}

/**
 * Dense depths that bracket a gated L-layer model: a gated run at target E computes roughly like a dense model of
 * about E·L to L layers, so the frontier needs points from L/4 up to L (every integer depth for small L).
 */
export function proposeDenseDepths(layers: number): number[] {
  const L = Math.max(1, Math.round(layers))
  if (L <= 4) return Array.from({ length: L }, (_, i) => i + 1)
  return [...new Set([0.25, 0.5, 0.75, 1].map((f) => Math.max(1, Math.round(L * f))))].sort((a, b) => a - b)
}

/** Target ends E for the gated runs: a spread that lands the gated points among the dense ones. */
export function proposeTargets(): number[] {
  return [0.25, 0.5, 0.75]
}

/** The draft's fields taken from a starting config (a preset or an experiment's own run). */
export function draftFrom(doc: RunConfigDoc, name = 'skip-middle vs dense'): ComparisonDraft {
  const num = (p: string, d: number) => {
    const v = Number(getPath(doc, p))
    return Number.isFinite(v) && v > 0 ? v : d
  }
  const layers = num('model.n_layers', 4)
  return {
    name,
    layers,
    dim: num('model.dim', 128),
    steps: num('training.train_steps', 500),
    batchSize: num('training.batch_size', 16),
    valTokens: num('training.val_tokens', 32768),
    dataset: String(getPath(doc, 'data.dataset') ?? 'default'),
    denseDepths: proposeDenseDepths(layers).join(', '),
    targets: proposeTargets().join(', '),
    seeds: 1,
  }
}

/** Problems a user can fix before anything is planned (the server validates the rest, per run). */
export function draftProblems(d: ComparisonDraft): { field: keyof ComparisonDraft; message: string }[] {
  const out: { field: keyof ComparisonDraft; message: string }[] = []
  if (!d.name.trim()) out.push({ field: 'name', message: 'Name the experiment.' })
  if (!Number.isInteger(d.layers) || d.layers < 2 || d.layers % 2) out.push({ field: 'layers', message: 'Layers of the gated model must be an even whole number, at least 2 (the middle is skipped symmetrically).' })
  const depths = parseValueList(d.denseDepths)
  if (!depths.length) out.push({ field: 'denseDepths', message: 'Give at least one dense depth, e.g. 1, 2, 3, 4.' })
  else if (depths.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1)) out.push({ field: 'denseDepths', message: 'Dense depths must be whole numbers of layers, at least 1, separated by commas.' })
  else if (depths.length < 2) out.push({ field: 'denseDepths', message: 'A frontier needs at least two dense depths.' })
  const targets = parseValueList(d.targets)
  if (!targets.length) out.push({ field: 'targets', message: 'Give at least one target end E, e.g. 0.5.' })
  else if (targets.some((x) => typeof x !== 'number' || !(x > 0 && x <= 1))) out.push({ field: 'targets', message: 'Target ends E are gate-mean targets between 0 (exclusive) and 1, e.g. 0.25, 0.5, 0.75.' })
  if (!Number.isInteger(d.steps) || d.steps < 1) out.push({ field: 'steps', message: 'Training steps must be a whole number, at least 1.' })
  if (!Number.isInteger(d.batchSize) || d.batchSize < 1) out.push({ field: 'batchSize', message: 'Batch size must be a whole number, at least 1.' })
  if (!Number.isInteger(d.valTokens) || d.valTokens < 1) out.push({ field: 'valTokens', message: 'Evaluation tokens must be a whole number, at least 1.' })
  if (!Number.isInteger(d.seeds) || d.seeds < 1 || d.seeds > 16) out.push({ field: 'seeds', message: 'Seeds per point must be between 1 and 16.' })
  return out
}

/** The base config every run shares: the starting config with the draft's model size, budget and evaluation set. */
function comparisonBase(start: RunConfigDoc, d: ComparisonDraft): RunConfigDoc {
  let doc: RunConfigDoc = structuredClone(start)
  delete (doc as Record<string, unknown>)['name']
  doc = setPath(doc, 'model.n_layers', d.layers)
  doc = setPath(doc, 'model.dim', d.dim)
  doc = setPath(doc, 'training.train_steps', d.steps)
  doc = setPath(doc, 'training.batch_size', d.batchSize)
  doc = setPath(doc, 'training.val_tokens', d.valTokens)
  doc = setPath(doc, 'data.dataset', d.dataset.trim() || 'default')
  const valEvery = Number(getPath(doc, 'training.val_every'))
  if (!(valEvery > 0) || valEvery > d.steps) doc = setPath(doc, 'training.val_every', Math.max(1, Math.ceil(d.steps / 3)))
  const ckpt = Number(getPath(doc, 'training.checkpoint_every'))
  if (ckpt > d.steps) doc = setPath(doc, 'training.checkpoint_every', d.steps)
  return doc
}

function comparisonGroups(d: ComparisonDraft): GroupDraft[] {
  return [
    { name: 'dense', kind: 'dense', axes: [{ path: 'model.n_layers', values: d.denseDepths }] },
    { name: 'gated', kind: 'gated', axes: [{ path: 'controller.mean_target_end', values: d.targets }] },
  ]
}

/** The sweep: dense runs at each depth and gated L-layer runs at each target, all with the same budget. */
export function comparisonSpec(start: RunConfigDoc, d: ComparisonDraft): SweepSpec {
  return sweepSpec(d.name, comparisonBase(start, d), comparisonGroups(d), d.seeds)
}

/** A one-line description for the experiment the comparison creates. */
export function comparisonDescription(d: ComparisonDraft): string {
  return `Skip-middle (gated, ${d.layers} layers, E = ${d.targets}) against dense baselines at depths ${d.denseDepths}; every run ${d.steps} steps × ${d.batchSize} sequences, scored on the same ${d.valTokens} validation tokens`
}

/** Number of runs the draft expands to. */
export function comparisonSize(d: ComparisonDraft): number {
  return (parseValueList(d.denseDepths).length + parseValueList(d.targets).length) * Math.max(1, d.seeds)
}

/** The demo comparison's experiment name (the quick variant of `skipbench demo`). */
export const DEMO_NAME = 'demo'

/** The quick demo's grid (as `skipbench demo --quick`): dim 32, 60 steps; dense L = 2, 4; gated L = 4, E = 0.3, 0.6. */
export function asDemo(d: ComparisonDraft): ComparisonDraft {
  return { ...d, name: DEMO_NAME, layers: 4, dim: 32, steps: 60, dataset: 'default', denseDepths: '2, 4', targets: '0.3, 0.6', seeds: 1 }
}
