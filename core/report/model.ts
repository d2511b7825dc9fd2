/**
 * The report model: everything a comparison report shows, as plain JSON-serialisable data. Built from the store by
 * core/report-export (Node); turned into HTML, Markdown, LaTeX, CSV and JSON here (pure: no Node, no DOM), so the
 * renderer can format a preview from the same model the CLI writes.
 */
import type { Comparison, Summary } from '../contract/analysis.js'

import { REPORT_FORMATS } from '../contract/api.js'

export { REPORT_FORMATS }
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export const REPORT_ESTIMATORS = ['paper', 'corrected'] as const
export type ReportEstimator = (typeof REPORT_ESTIMATORS)[number]
/**
 * The x axes a report compares on: inference and training FLOPs, and 'measured' (evaluation time per token on one
 * machine with one engine, core/trainer/measured-cost.ts; only runs measured on this machine are plotted).
 */
export const REPORT_FLOPS_KINDS = ['inference', 'training', 'measured'] as const
export type ReportFlopsKind = (typeof REPORT_FLOPS_KINDS)[number]

/**
 * The x axes a report lists in its verdict tables: both FLOPs kinds, and the measured time when it is the headline or
 * any run has a measurement on this machine (else it would only repeat "no measured cost" for every run).
 */
export function shownFlopsKinds(m: Pick<ReportModel, 'comparisons' | 'estimator' | 'flopsKind'>): ReportFlopsKind[] {
  const measured = m.comparisons[m.estimator].measured
  return m.flopsKind === 'measured' || measured.frontier.points.length + measured.frontier.dominated.length + measured.gated.length > 0
    ? [...REPORT_FLOPS_KINDS]
    : ['inference', 'training']
}

/** How the headline x axis was measured, one line, e.g. "measured evaluation time per token on <machine>; ort …". */
export function xAxisDescription(m: Pick<ReportModel, 'comparisons' | 'estimator' | 'flopsKind'>): string {
  if (m.flopsKind === 'measured')
    return `measured evaluation time per token (hard skipping for key-gated runs, dense evaluation otherwise), measured on ${m.comparisons[m.estimator].measured.measuredOn ?? 'no machine: no run has a measurement here (skipbench report --flops measured --data SHARD measures them)'}`
  return m.flopsKind === 'inference' ? 'inference FLOPs per sequence at each run’s validation zero fraction' : 'training FLOPs over every optimizer step'
}

/** training: hypothetical for gated runs (skipped blocks not computed); executedTraining: what the engine ran (densely) */
export type FlopsPair = { inference: number; training: number; executedTraining: number }

/** One row of the run table. */
export interface ReportRun {
  /** the analysis record id, "name#runId" */
  id: string
  runId: number
  uid: string
  name: string
  kind: 'dense' | 'gated'
  status: string
  seed: number | null
  /** values of the config fields that differ between the report's runs (keys: `ReportModel.differing[].path`) */
  fields: Record<string, unknown>
  /** validation cross-entropy (nats/token) of the final model; null when the run could not be costed */
  valLoss: number | null
  valTokens: number | null
  valStep: number | null
  validationSource: 'evaluation' | 'validation' | null
  /** seed group (primary comparison): label, size and CE summary (mean ± interval) */
  group: { key: string; label: string; n: number; loss: Summary } | null
  /** FLOPs under both estimators: inference per sequence at the validation zero fraction, training over the run */
  flops: Record<ReportEstimator, FlopsPair> | null
  /** CE gap to the dense frontier at equal FLOPs (the report's FLOPs kind), per estimator (null: outside the frontier's range) */
  gap: Record<ReportEstimator, number | null> | null
  /** validation zero fraction (the share of skipped token-layer blocks); null for dense runs */
  sparsity: number | null
  targetEnd: number | null
  trainTokens: number | null
  steps: number | null
  wallSeconds: number | null
  engine: string | null
  backend: string | null
  dataset: string | null
  tokenizer: string | null
  /** why the run is not in the primary comparison (unfinished, not comparable...), else null */
  excluded: string | null
}

/** A metric series of one run (steps ascending); values exactly as stored (downsampled by selection only). */
export interface ReportSeries {
  runId: number
  id: string
  label: string
  kind: 'dense' | 'gated'
  key: string
  steps: number[]
  values: number[]
  /** points stored for this key (before downsampling) */
  total: number
  color: string
}

/** Per-layer mean gate of one gated run over training: `values[layer][i]` at `steps[i]`. */
export interface ReportGates {
  runId: number
  id: string
  label: string
  /** the metric key prefix, e.g. "train/gates/mean" (layer k: `${key}/layer_${kk}`) */
  key: string
  steps: number[]
  values: number[][]
}

export interface ReportDataset {
  name: string
  tokenizer: string
  description: string | null
  /** where the data came from (package names, source URLs, the corpus text hash) */
  source: string[]
  files: { split: string; file: string; tokens: number | null; sha256: string | null }[]
  /** how the split was made, the build cache key... */
  notes: string[]
  runs: number
}

export interface ReportAppendixRun {
  id: string
  runId: number
  uid: string
  name: string
  seed: number | null
  /** the full resolved run config (what `skipbench train` reads) */
  config: Record<string, unknown>
  /** the file the writer puts the config in, relative to the report folder */
  configFile: string
  /** the command that re-runs it from that file */
  command: string
  runDir: string | null
  startedAt: string | null
  endedAt: string | null
  host: string | null
}

export interface ReportModel {
  format: 'skipbench-report'
  version: 1
  title: string
  generatedAt: string
  source: {
    experiment: { id: number; name: string; description: string } | null
    runIds: number[]
    database: string | null
  }
  question: string
  /** the estimator and FLOPs kind of the headline verdict and of the table's gap column order */
  estimator: ReportEstimator
  flopsKind: ReportFlopsKind
  level: number
  /** both estimators × both FLOPs kinds (each computed by compareRuns on the same runs) */
  comparisons: Record<ReportEstimator, Record<ReportFlopsKind, Comparison>>
  runs: ReportRun[]
  /** config fields whose values differ between runs (name and seed excluded; the seed has its own column) */
  differing: { path: string; label: string }[]
  curves: { val: ReportSeries[]; train: ReportSeries[] }
  gates: ReportGates[]
  appendix: {
    /** fields every run shares (nested like a run config) */
    base: Record<string, unknown>
    software: { name: string; value: string; runs: number | null }[]
    datasets: ReportDataset[]
    runs: ReportAppendixRun[]
  }
  /** what was left out of a figure and why, etc. */
  notes: string[]
}

export const ESTIMATOR_LABEL: Record<ReportEstimator, string> = {
  paper: "paper estimator (the reference's flops_transformer; training = forward only)",
  corrected: 'corrected estimator (each matmul once, causal attention; training = 3 × forward)',
}

export const QUESTION =
  'Do gated skip-middle transformers reach a lower validation cross-entropy than dense baselines at equal FLOPs? ' +
  'Each gated run is compared with the dense frontier (the non-dominated dense seed-group means) at its own FLOPs, ' +
  'interpolated in log FLOPs; outside the frontier’s range nothing is extrapolated.'
