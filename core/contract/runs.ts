/** The API contract's experiments and runs: types and schemas only (re-exported by api.ts). */
import { z } from 'zod'
import { SlurmInfo } from './cluster.js'
import { Id, Num, RunConfigDoc, Tag } from './blocks.js'

// ------------------------------------------------------------------------------------------------ experiments

export const Experiment = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  createdAt: z.string(),
  runs: z.number().int(),
})
export type Experiment = z.infer<typeof Experiment>

const ExperimentName = z.string().trim().min(1, { error: 'give the experiment a name' }).max(120, { error: 'names are at most 120 characters' })

export const ExperimentCreate = z
  .object({ name: ExperimentName, description: z.string().max(4000).default(''), tags: z.array(Tag).max(32).default([]) })
  .strict()
export const ExperimentUpdate = z
  .object({ id: Id, name: ExperimentName.optional(), description: z.string().max(4000).optional(), tags: z.array(Tag).max(32).optional() })
  .strict()

// ------------------------------------------------------------------------------------------------ runs

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'interrupted'] as const
export const RunStatus = z.enum(RUN_STATUSES)
export type RunStatus = z.infer<typeof RunStatus>
export const RunKind = z.enum(['dense', 'gated'])
export type RunKind = z.infer<typeof RunKind>
/** statuses from which a run can be resumed from its last checkpoint (or retried from scratch) */
export const RESUMABLE_RUN_STATUSES: readonly RunStatus[] = ['paused', 'interrupted', 'failed', 'cancelled']

/** One run-table row: small (no config), with what the table shows and sorts by. */
export const RunRow = z.object({
  id: Id,
  uid: z.string(),
  name: z.string(),
  experimentId: Id.nullable(),
  experiment: z.string().nullable(),
  kind: RunKind,
  status: RunStatus,
  seed: z.number().int().nullable(),
  engine: z.string().nullable(),
  backend: z.string().nullable(),
  dataset: z.string().nullable(),
  tags: z.array(z.string()),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** highest step with a stored metric */
  lastStep: z.number().int(),
  /** training.train_steps */
  totalSteps: z.number().int().nullable(),
  tokensPerSec: Num,
  /** live: seconds left, from the latest progress event (null when not running) */
  etaSeconds: Num,
  trainLoss: Num,
  valLoss: Num,
  /** last validation zero fraction (gated runs) */
  zeroFraction: Num,
  /** controller mean target end E (gated runs with a target controller) */
  targetEnd: Num,
  nLayers: z.number().int().nullable(),
  dim: z.number().int().nullable(),
  params: z.number().nullable(),
  /** the newest training job of this run (null for ingested runs) */
  jobId: Id.nullable(),
  /** the run's value of the list's groupBy config path (absent when not grouped) */
  group: z.union([z.string(), z.number()]).nullable().optional(),
})
export type RunRow = z.infer<typeof RunRow>

const RUN_SORT_KEYS = ['id', 'name', 'status', 'kind', 'created_at', 'started_at', 'ended_at', 'last_step', 'tokens_per_sec', 'val_loss', 'train_loss'] as const
export const RunSortKey = z.enum(RUN_SORT_KEYS)
export type RunSortKey = z.infer<typeof RunSortKey>

/** a config path to group runs by (the runs table, the Pareto chart, the loss curves) */
export const GroupByPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/, { error: 'group by a dotted config path such as model.n_layers' })

export const RunListQuery = z
  .object({
    /** a number: that experiment; null: runs in no experiment; absent: all */
    experimentId: Id.nullable().optional(),
    status: z.array(RunStatus).optional(),
    kind: RunKind.optional(),
    search: z.string().max(200).optional(),
    tags: z.array(z.string()).optional(),
    /** the filter language, e.g. "model.n_layers >= 8 and val.loss < 2.1 and tag:baseline" (core/store/filter.ts) */
    where: z.string().max(2000, { error: 'the filter is at most 2,000 characters' }).optional(),
    /** a config path; each row gets its value as `group` */
    groupBy: GroupByPath.optional(),
    sort: z.object({ by: RunSortKey, dir: z.enum(['asc', 'desc']).default('desc') }).strict().optional(),
    limit: z.number().int().min(1).max(10_000).default(1000),
    offset: z.number().int().min(0).default(0),
  })
  .strict()
export type RunListQuery = z.input<typeof RunListQuery>

export const RunList = z.object({ total: z.number().int(), rows: z.array(RunRow) })
export type RunList = z.infer<typeof RunList>

export const CheckpointInfo = z.object({ id: Id, step: z.number().int(), path: z.string(), final: z.boolean(), bytes: z.number().nullable(), valid: z.boolean(), problem: z.string().nullable(), createdAt: z.string() })
export type CheckpointInfo = z.infer<typeof CheckpointInfo>

export const EvaluationInfo = z.object({
  id: Id,
  dataset: z.string(),
  split: z.string(),
  step: z.number().int().nullable(),
  tokens: z.number(),
  loss: Num,
  flopsPerToken: Num,
  createdAt: z.string(),
})
export type EvaluationInfo = z.infer<typeof EvaluationInfo>

export const JobInfo = z.object({
  id: Id,
  kind: z.enum(['train', 'eval']),
  status: z.string(),
  attempts: z.number().int(),
  error: z.string().nullable(),
  resumeFrom: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
})
export type JobInfo = z.infer<typeof JobInfo>

export const RunDetail = z.object({
  run: RunRow,
  config: RunConfigDoc,
  runDir: z.string().nullable(),
  notes: z.string(),
  versions: z.record(z.string(), z.string()),
  gated: z.boolean(),
  job: JobInfo.nullable(),
  jobs: z.array(JobInfo),
  checkpoints: z.array(CheckpointInfo),
  evaluations: z.array(EvaluationInfo),
  /** metric keys stored for this run, without the per-layer ones */
  metricKeys: z.array(z.string()),
  /** what the run was made from (core/provenance): versions, git, machine, dataset hashes, seed, config; {} if unknown */
  provenance: z.record(z.string(), z.unknown()),
  /** when this run re-runs another exactly: the bit-for-bit comparison of their metrics (null until it has metrics) */
  rerun: z
    .object({
      of: Id,
      identical: z.boolean().nullable(),
      compared: z.number().int(),
      mismatchCount: z.number().int(),
      /** one sentence: "run 7 reproduces run 3 bit for bit: …" or "… DIFFERS …" */
      summary: z.string(),
    })
    .nullable(),
  /** a run handed to a Slurm cluster: its current job (id, node, state, elapsed, output tail); else null */
  slurm: SlurmInfo.nullable().default(null),
})
export type RunDetail = z.infer<typeof RunDetail>

export const LogLine = z.object({ id: Id, at: z.string(), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), jobId: z.number().int().nullable() })
export type LogLine = z.infer<typeof LogLine>

const FLOPS_ESTIMATORS = ['paper', 'corrected'] as const
export const FlopsEstimator = z.enum(FLOPS_ESTIMATORS)
export type FlopsEstimator = z.infer<typeof FlopsEstimator>
/**
 * The x axis of a comparison or report: inference FLOPs per sequence, training FLOPs of the whole run, or 'measured':
 * the evaluation time per token measured on this machine with one engine (hard skipping for key-gated runs; cached per
 * checkpoint and machine by `skipbench compare|report --flops measured --data SHARD`; unmeasured runs are excluded).
 */
export const FlopsKind = z.enum(['inference', 'training', 'measured'], { error: 'must be inference, training or measured' })
export type FlopsKind = z.infer<typeof FlopsKind>
const SeriesX = z.enum(['step', 'tokens', 'flops'])
export type SeriesX = z.infer<typeof SeriesX>

export const SeriesQuery = z
  .object({
    runIds: z.array(Id).min(1).max(200),
    keys: z.array(z.string().min(1)).min(1).max(12),
    x: SeriesX.default('step'),
    /** FLOPs estimator of the x axis when x = 'flops' (training FLOPs, cumulative) */
    estimator: FlopsEstimator.default('corrected'),
    /** LTTB-downsampled to at most this many points per series */
    maxPoints: z.number().int().min(10).max(20_000).default(800),
  })
  .strict()
export type SeriesQuery = z.input<typeof SeriesQuery>

export const SeriesData = z.object({ runId: Id, key: z.string(), x: z.array(z.number()), y: z.array(Num), total: z.number().int() })
export type SeriesData = z.infer<typeof SeriesData>

export const GatesQuery = z
  .object({
    runId: Id,
    split: z.enum(['train', 'val']).default('train'),
    metric: z.enum(['gates', 'zeros']).default('gates'),
    /** steps shown as heatmap columns (evenly subsampled) */
    maxColumns: z.number().int().min(2).max(2000).default(120),
  })
  .strict()
export const GatesData = z.object({
  steps: z.array(z.number().int()),
  /** values[layer][column] */
  values: z.array(z.array(Num)),
  layers: z.number().int(),
  metric: z.enum(['gates', 'zeros']),
  split: z.enum(['train', 'val']),
})
export type GatesData = z.infer<typeof GatesData>

export const RunDiff = z.object({
  runs: z.array(z.object({ id: Id, uid: z.string(), name: z.string() })),
  fields: z.array(z.object({ path: z.string(), values: z.array(z.unknown()) })),
})
export type RunDiff = z.infer<typeof RunDiff>

/** Parallel coordinates over an experiment's runs: varying config fields and metrics, one line per run. */
export const ParallelAxis = z.object({
  /** config path (model.n_layers) or metric key (val/loss) */
  path: z.string(),
  source: z.enum(['config', 'metric']),
  type: z.enum(['value', 'category']),
  /** category axes: their values in order */
  categories: z.array(z.string()).optional(),
})
export type ParallelAxis = z.infer<typeof ParallelAxis>
export const ParallelData = z.object({
  runs: z.array(z.object({ id: Id, name: z.string(), kind: RunKind })),
  axes: z.array(ParallelAxis),
  /** values[run][axis]: numbers (value axes) or category strings; null where the run has none */
  values: z.array(z.array(z.union([z.number(), z.string(), z.null()]))),
  /** each config field's association with validation CE (last val/loss): Spearman's rank correlation */
  association: z.array(z.object({ path: z.string(), rho: Num, n: z.number().int() })),
  /** the metric the association is with */
  target: z.string(),
})
export type ParallelData = z.infer<typeof ParallelData>

/** Formats of a metrics export: TensorBoard event files (one per run), long-format CSV or Parquet (run_id, run, key, step, value). */
export const METRICS_EXPORT_FORMATS = ['tensorboard', 'csv', 'parquet'] as const
export type MetricsExportFormat = (typeof METRICS_EXPORT_FORMATS)[number]
export const MetricsExport = z.object({
  files: z.array(z.object({ name: z.string(), path: z.string(), mediaType: z.string(), bytes: z.number().int(), base64: z.string() })),
  /** stored values exported */
  values: z.number().int(),
})
export type MetricsExport = z.infer<typeof MetricsExport>

/** What a saved view restores in a runs table. */
export const ViewState = z
  .object({
    where: z.string().max(2000).default(''),
    groupBy: z.string().max(200).default(''),
    sort: z.object({ by: RunSortKey, dir: z.enum(['asc', 'desc']) }).strict().optional(),
  })
  .strict()
export type ViewState = z.infer<typeof ViewState>
export const SavedView = z.object({ id: Id, experimentId: Id.nullable(), name: z.string(), state: ViewState, updatedAt: z.string() })
export type SavedView = z.infer<typeof SavedView>
