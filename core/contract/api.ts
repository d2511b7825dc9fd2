/**
 * The one API the renderer uses, shared by both transports (Electron IPC through the preload, and HTTP + WebSocket
 * against `skipbench serve`). Each method has a zod schema for its input and output; every boundary validates with
 * them (core/service/dispatch). Events (job progress, run status, metrics appended, ...) are one discriminated union.
 * Types and schemas only: this folder is imported by the renderer and the preload (lint-enforced).
 */
import { z } from 'zod'
import { Comparison } from './analysis.js'
import { ConfigIssueSchema } from '../config/issues.js'
import { ClusterCheckLine, ClusterName, ClusterProfileSchema, SlurmInfo } from './cluster.js'

// ------------------------------------------------------------------------------------------------ building blocks

const Id = z.number().int().positive()
const Empty = z.object({}).strict()
/** a metric value on the wire: JSON has no NaN/±∞, so those travel as null */
const Num = z.number().nullable()
const Tag = z.string().trim().min(1, { error: 'a tag cannot be empty' }).max(40, { error: 'tags are at most 40 characters' })

export const EngineAvailability = z.object({
  engine: z.enum(['ort', 'tfjs']),
  backend: z.string(),
  available: z.boolean(),
  detail: z.string(),
})
export type EngineAvailability = z.infer<typeof EngineAvailability>

export const AppInfo = z.object({
  name: z.literal('skipbench'),
  version: z.string(),
  transport: z.enum(['electron', 'http']),
  node: z.string(),
  platform: z.string(),
  engines: z.array(EngineAvailability),
})
export type AppInfo = z.infer<typeof AppInfo>

/** A run config document as the form edits it (RunConfig JSON, optionally `"extends": "<preset>"`). */
export const RunConfigDoc = z.record(z.string(), z.unknown())
export type RunConfigDoc = z.infer<typeof RunConfigDoc>

export const PresetSummary = z.object({
  name: z.string(),
  description: z.string(),
  kind: z.enum(['dense', 'gated']),
  n_layers: z.number().int(),
  dim: z.number().int(),
  params: z.number().int(),
  inference_flops_per_token: z.number().nullable(),
  /** the preset's config document (what the form starts from) */
  config: RunConfigDoc,
})
export type PresetSummary = z.infer<typeof PresetSummary>

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
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running']

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

export const RUN_SORT_KEYS = ['id', 'name', 'status', 'kind', 'created_at', 'started_at', 'ended_at', 'last_step', 'tokens_per_sec', 'val_loss', 'train_loss'] as const
export const RunSortKey = z.enum(RUN_SORT_KEYS)
export type RunSortKey = z.infer<typeof RunSortKey>

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
    groupBy: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/, { error: 'group by a dotted config path such as model.n_layers' }).optional(),
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

export const FLOPS_ESTIMATORS = ['paper', 'corrected'] as const
export const FlopsEstimator = z.enum(FLOPS_ESTIMATORS)
export type FlopsEstimator = z.infer<typeof FlopsEstimator>
/**
 * The x axis of a comparison or report: inference FLOPs per sequence, training FLOPs of the whole run, or 'measured':
 * the evaluation time per token measured on this machine with one engine (hard skipping for key-gated runs; cached per
 * checkpoint and machine by `skipbench compare|report --flops measured --data SHARD`; unmeasured runs are excluded).
 */
export const FlopsKind = z.enum(['inference', 'training', 'measured'], { error: 'must be inference, training or measured' })
export type FlopsKind = z.infer<typeof FlopsKind>
export const SeriesX = z.enum(['step', 'tokens', 'flops'])
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

// ------------------------------------------------------------------------------------------------ configs, estimates, sweeps

/** a config problem at a field: core/config's one definition */
export const ConfigIssue = ConfigIssueSchema
export type ConfigIssue = z.infer<typeof ConfigIssue>

export const RunEstimate = z.object({
  params: z.number(),
  gated: z.boolean(),
  tokensPerStep: z.number(),
  totalTokens: z.number(),
  /** forward FLOPs per token with no skipping (upper bound for gated models) */
  inferenceFlopsPerToken: z.object({ paper: z.number(), corrected: z.number() }),
  /** training FLOPs over the whole run, with no skipping (upper bound for gated models) */
  trainingFlops: z.object({ paper: z.number(), corrected: z.number() }),
  /** estimated wall time, seconds (training + validation + process start) */
  seconds: z.number(),
  /** the range the wall time is likely in (wider when the rate is a guess) */
  secondsRange: z.tuple([z.number(), z.number()]),
  /**
   * where the rate came from: this machine's calibration (timed training steps, as `skipbench sweep` does), runs
   * finished here, or a default guess; `calibrating`: the first-start calibration is still running
   */
  throughput: z.object({ flopsPerSec: z.number(), source: z.enum(['calibrated', 'measured', 'default']), runs: z.number().int(), calibrating: z.boolean() }),
})
export type RunEstimate = z.infer<typeof RunEstimate>

export const ConfigCheck = z.object({
  ok: z.boolean(),
  issues: z.array(ConfigIssue),
  warnings: z.array(z.string()),
  /** the resolved config (defaults filled in), when valid */
  resolved: RunConfigDoc.nullable(),
  estimate: RunEstimate.nullable(),
})
export type ConfigCheck = z.infer<typeof ConfigCheck>

const JsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()])
const ConfigPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { error: 'use a dotted config path such as model.n_layers' })
export const SweepAxis = z
  .object({
    /** dotted config path, e.g. "model.n_layers", "controller.mean_target_end", "training.seed" */
    path: ConfigPath,
    values: z.array(JsonScalar).min(1, { error: 'give at least one value' }).max(64),
  })
  .strict()
export type SweepAxis = z.infer<typeof SweepAxis>

/** One group of a sweep (core/sweeps' shape): a base config and axes over its fields, crossed (first axis outermost). */
export const SweepGroup = z
  .object({
    /** short name used in run names, e.g. "dense", "gated" */
    name: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, { error: 'group names are letters, digits, ".", "_" or "-"' }),
    base: RunConfigDoc,
    axes: z.array(SweepAxis).max(8).default([]),
    /** dotted path → value applied to every point of the group after the axes */
    set: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
export type SweepGroup = z.input<typeof SweepGroup>

export const SweepSpec = z
  .object({
    name: z.string().trim().min(1).max(80).default('sweep'),
    groups: z.array(SweepGroup).min(1, { error: 'a sweep needs at least one group' }).max(16),
    /** replicate every point: N seeds from the point's training.seed, or a list of seeds */
    seeds: z.union([z.number().int().min(1).max(64), z.array(z.number().int().min(0)).min(1).max(64)]).optional(),
    /** dotted path → value applied to every point of every group last */
    set: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
export type SweepSpec = z.input<typeof SweepSpec>

export const SweepPlan = z.object({
  runs: z.array(
    z.object({
      name: z.string(),
      group: z.string(),
      /** the values this run takes on the group's axes (and the seed), for display */
      assignment: z.record(z.string(), z.unknown()),
      ok: z.boolean(),
      issues: z.array(ConfigIssue),
      trainingFlops: Num,
      seconds: Num,
    }),
  ),
  count: z.number().int(),
  invalid: z.number().int(),
  totalTrainingFlops: z.number(),
  totalSeconds: z.number(),
  /** concurrency the time estimate assumes */
  concurrency: z.number().int(),
})
export type SweepPlan = z.infer<typeof SweepPlan>

export const MAX_SWEEP_RUNS = 512

// ------------------------------------------------------------------------------------------------ comparison

export const ComparisonResult = z.object({
  comparison: Comparison,
  /** the runs behind the comparison's ids (id = String(runId)) */
  runs: z.array(z.object({ id: z.string(), runId: Id, name: z.string(), kind: RunKind, seed: z.number().int().nullable(), targetEnd: Num })),
  /** runs of the experiment not in the comparison, and why (not finished, no validation, ...) */
  skipped: z.array(z.object({ runId: Id, name: z.string(), reason: z.string() })),
})
export type ComparisonResult = z.infer<typeof ComparisonResult>

// ------------------------------------------------------------------------------------------------ datasets

export const DatasetInfo = z.object({
  name: z.string(),
  dir: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  tokenizer: z.string().nullable(),
  vocabSize: z.number().nullable(),
  trainTokens: z.number().nullable(),
  valTokens: z.number().nullable(),
  shards: z.number().nullable(),
  sourceKind: z.string().nullable(),
  createdAt: z.string().nullable(),
  description: z.string().nullable(),
})
export type DatasetInfo = z.infer<typeof DatasetInfo>

export const ImportState = z.object({
  importId: z.string(),
  name: z.string(),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  phase: z.string(),
  bytesRead: z.number(),
  bytesTotal: Num,
  docs: z.number(),
  tokens: z.number(),
  etaMs: Num,
  error: z.string().nullable(),
  startedAt: z.string(),
})
export type ImportState = z.infer<typeof ImportState>

export const DatasetList = z.object({
  datasets: z.array(DatasetInfo),
  /** whether the shipped corpus is prepared for each tokenizer */
  defaultCorpus: z.object({ byte: z.boolean(), gpt2: z.boolean() }),
  imports: z.array(ImportState),
})
export type DatasetList = z.infer<typeof DatasetList>

const DatasetName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'letters, digits, dot, dash and underscore; at most 64 characters' })

export const ImportRequest = z
  .object({
    name: DatasetName,
    /** file(s), folder(s) or glob(s) on the machine running skipbench */
    from: z.array(z.string().min(1, { error: 'give a file or folder' })).min(1, { error: 'give a file or folder' }).max(64),
    format: z.enum(['auto', 'txt', 'jsonl', 'parquet', 'bin']).default('auto'),
    tokenizer: z.enum(['byte', 'gpt2']).default('byte'),
    valFraction: z.number().gt(0).lt(1).optional(),
    textField: z.string().optional(),
    overwrite: z.boolean().default(false),
  })
  .strict()
export type ImportRequest = z.input<typeof ImportRequest>

// ------------------------------------------------------------------------------------------------ settings

export const Settings = z.object({
  /** datasets; for a folder chosen in the app also the database and run folders */
  dataDir: z.string(),
  database: z.string(),
  runsDir: z.string(),
  /** default engine for runs whose config does not name one */
  engine: z.enum(['ort', 'tfjs']).nullable(),
  backend: z.string().nullable(),
  /** training jobs run at the same time on this machine */
  concurrency: z.number().int().min(1).max(64),
  /** folders the API may read from and write to besides the data folder (report exports, imports, shard paths) */
  allowedFolders: z.array(z.string()),
  /** whether the data folder can be changed from here (Electron: yes; a server: set by --data-dir) */
  dataDirEditable: z.boolean(),
  /** a note about the last change (e.g. "applies when the running jobs finish") */
  note: z.string().nullable(),
})
export type Settings = z.infer<typeof Settings>

export const SettingsUpdate = z
  .object({
    dataDir: z.string().min(1).optional(),
    engine: z.enum(['ort', 'tfjs']).nullable().optional(),
    backend: z.string().max(40).nullable().optional(),
    concurrency: z.number({ error: 'concurrency must be a number' }).int({ error: 'concurrency must be a whole number' }).min(1, { error: 'concurrency must be at least 1' }).max(64, { error: 'concurrency is at most 64' }).optional(),
    allowedFolders: z
      .array(z.string().min(1).max(4096).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), { error: 'allowed folders must be absolute paths' }))
      .max(32)
      .optional(),
  })
  .strict()

// ------------------------------------------------------------------------------------------------ the method table

const RunRef = z.object({ runId: Id }).strict()
const Started = z.object({ runId: Id, jobId: Id })

/** Method table: name → input/output schemas. Adding a method here without implementing it is a compile error. */
/** comparison report formats (core/report, core/reporting) */
export const REPORT_FORMATS = ['html', 'pdf', 'csv', 'json', 'md', 'tex'] as const

export const API = {
  getAppInfo: { input: Empty, output: AppInfo },
  listPresets: { input: Empty, output: z.array(PresetSummary) },

  listExperiments: { input: z.object({ search: z.string().max(200).optional() }).strict(), output: z.array(Experiment) },
  getExperiment: { input: z.object({ id: Id }).strict(), output: Experiment },
  createExperiment: { input: ExperimentCreate, output: Experiment },
  updateExperiment: { input: ExperimentUpdate, output: Experiment },
  /** deletes the experiment; its runs too when deleteRuns (running ones are cancelled first), else they stay unassigned */
  deleteExperiment: { input: z.object({ id: Id, deleteRuns: z.boolean().default(false) }).strict(), output: z.object({ deleted: z.boolean(), runsDeleted: z.number().int() }) },

  listRuns: { input: RunListQuery, output: RunList },
  getRun: { input: RunRef, output: RunDetail },
  getRunLogs: { input: z.object({ runId: Id, afterId: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(5000).default(500) }).strict(), output: z.array(LogLine) },
  getSeries: { input: SeriesQuery, output: z.object({ series: z.array(SeriesData) }) },
  getGates: { input: GatesQuery, output: GatesData },
  diffRuns: { input: z.object({ runIds: z.array(Id).min(2, { error: 'select at least two runs' }).max(50) }).strict(), output: RunDiff },

  /** parallel coordinates data of an experiment's runs (optionally filtered with the filter language) */
  getParallel: { input: z.object({ experimentId: Id, where: z.string().max(2000).optional(), maxConfigAxes: z.number().int().min(1).max(40).default(12) }).strict(), output: ParallelData },
  listViews: { input: z.object({ experimentId: Id.nullable() }).strict(), output: z.array(SavedView) },
  /** create or replace (by name, per experiment) a saved view of the runs table */
  saveView: {
    input: z.object({ experimentId: Id.nullable(), name: z.string().trim().min(1, { error: 'give the view a name' }).max(80, { error: 'view names are at most 80 characters' }), state: ViewState }).strict(),
    output: SavedView,
  },
  deleteView: { input: z.object({ id: Id }).strict(), output: z.object({ deleted: z.boolean() }) },

  validateConfig: { input: z.object({ config: RunConfigDoc }).strict(), output: ConfigCheck },
  planSweep: { input: SweepSpec, output: SweepPlan },
  /** `on`: a cluster's name (listClusters) to submit the run there; the reply's jobId is then its cluster job's id */
  startRun: {
    input: z
      .object({ config: RunConfigDoc, experimentId: Id.nullable().default(null), name: z.string().max(120).optional(), tags: z.array(Tag).max(32).default([]), on: ClusterName.optional() })
      .strict(),
    output: Started,
  },
  startSweep: { input: z.object({ experimentId: Id, spec: SweepSpec }).strict(), output: z.object({ runIds: z.array(Id), jobIds: z.array(Id) }) },
  cancelRun: { input: RunRef, output: RunRow },
  resumeRun: { input: RunRef, output: RunRow },
  /** start again from scratch as a new run (the old one stays) */
  retryRun: { input: RunRef, output: Started },
  /** re-run exactly: a new run with the same resolved config, seed and data, compared bit for bit when it is done */
  rerunRun: { input: RunRef, output: Started },
  /** edit a run's name, notes and tags */
  updateRun: {
    input: z
      .object({
        runId: Id,
        name: z.string().trim().min(1, { error: 'give the run a name' }).max(120).optional(),
        notes: z.string().max(20_000, { error: 'notes are at most 20,000 characters' }).optional(),
        tags: z.array(Tag).max(32).optional(),
      })
      .strict(),
    output: RunRow,
  },
  deleteRun: { input: z.object({ runId: Id, deleteFiles: z.boolean().default(false) }).strict(), output: z.object({ deleted: z.boolean() }) },
  /** the run's config as an editable document, for "clone and edit" */
  cloneRun: { input: RunRef, output: z.object({ config: RunConfigDoc, name: z.string(), experimentId: Id.nullable() }) },
  evaluateRun: {
    input: z.object({ runId: Id, dataset: z.string().min(1, { error: 'choose a dataset' }), tokenizer: z.enum(['byte', 'gpt2']).optional(), valTokens: z.number().int().positive().optional() }).strict(),
    output: z.object({ jobId: Id }),
  },

  /** export the run's final checkpoint: ONNX (input_ids → logits [+ gates], dynamic axes) or safetensors + config.json */
  exportModel: {
    input: z
      .object({
        runId: Id,
        format: z.enum(['onnx', 'safetensors'], { error: 'must be onnx or safetensors' }),
        dtype: z.enum(['f32', 'bf16'], { error: 'must be f32 or bf16' }).default('f32'),
        /** relative: against the data folder; must lie in the data folder, its exports/ or an allowed folder (default: exports/<run>-<time>) */
        outDir: z.string().min(1).max(4096).optional(),
      })
      .strict(),
    output: z.object({ path: z.string(), bytes: z.number(), format: z.string(), dtype: z.string(), configPath: z.string().nullable() }),
  },

  compareExperiment: {
    input: z
      .object({
        experimentId: Id,
        estimator: FlopsEstimator.default('paper'),
        flopsKind: FlopsKind.default('inference'),
        level: z.number().gt(0).lt(1).default(0.95),
        /** compare only these runs of the experiment (e.g. the ones brushed in parallel coordinates) */
        runIds: z.array(Id).max(10_000).optional(),
      })
      .strict(),
    output: ComparisonResult,
  },

  /** the comparison report as one self-contained HTML page (no scripts), for a sandboxed preview */
  previewReport: {
    input: z.object({ experimentId: Id, estimator: FlopsEstimator.default('paper'), flopsKind: FlopsKind.default('inference') }).strict(),
    output: z.object({ html: z.string() }),
  },
  /** write the report in the chosen formats (default folder: reports/<experiment>-<time> beside the database) */
  exportReport: {
    input: z
      .object({
        experimentId: Id,
        estimator: FlopsEstimator.default('paper'),
        flopsKind: FlopsKind.default('inference'),
        formats: z.array(z.enum(REPORT_FORMATS)).min(1, { error: 'choose at least one format' }),
        /** relative: against the data folder; must lie in the data/reports folders or an allowed folder */
        outDir: z.string().min(1).max(4096).optional(),
        /** replace the files of an existing, non-empty folder (default: refuse) */
        overwrite: z.boolean().default(false),
      })
      .strict(),
    output: z.object({
      outDir: z.string(),
      files: z.array(z.object({ format: z.string(), path: z.string() })),
      seconds: z.number(),
      warnings: z.array(z.string()),
    }),
  },

  listDatasets: { input: Empty, output: DatasetList },
  prepareCorpus: { input: z.object({ tokenizer: z.enum(['byte', 'gpt2']).default('byte') }).strict(), output: ImportState },
  importDataset: { input: ImportRequest, output: ImportState },
  cancelImport: { input: z.object({ importId: z.string().min(1) }).strict(), output: ImportState },

  listClusters: { input: Empty, output: z.array(ClusterProfileSchema) },
  /** add or replace a Slurm cluster profile (Settings → "Add cluster") */
  saveCluster: { input: ClusterProfileSchema, output: ClusterProfileSchema },
  removeCluster: { input: z.object({ name: ClusterName }).strict(), output: z.object({ removed: z.boolean() }) },
  /** "Test connection": connectivity, sbatch/squeue/sacct/scancel, controller, workdir, Node and skipbench versions */
  checkCluster: { input: z.object({ name: ClusterName }).strict(), output: z.array(ClusterCheckLine) },
  getSettings: { input: Empty, output: Settings },
  updateSettings: { input: SettingsUpdate, output: Settings },

  /** native file/folder chooser: implemented by the Electron app; elsewhere it answers supported: false */
  pickPath: {
    input: z.object({ kind: z.enum(['file', 'folder']), title: z.string().max(200).optional(), multiple: z.boolean().default(false) }).strict(),
    output: z.object({ supported: z.boolean(), paths: z.array(z.string()) }),
  },
} as const

export type ApiMethod = keyof typeof API
/** what a caller passes (defaults may be omitted) */
export type ApiInput<K extends ApiMethod> = z.input<(typeof API)[K]['input']>
/** what a caller gets back */
export type ApiOutput<K extends ApiMethod> = z.output<(typeof API)[K]['output']>

/** The API as callers see it (the renderer's bridge, the preload). */
export type SkipbenchApi = { [K in ApiMethod]: (input: ApiInput<K>) => Promise<ApiOutput<K>> }

/**
 * The API as the service implements it: inputs arrive parsed (defaults filled in), outputs are validated on the way
 * out. A method in API without an implementation here is a compile error.
 */
export type ApiHandlers = { [K in ApiMethod]: (input: z.output<(typeof API)[K]['input']>) => Promise<z.input<(typeof API)[K]['output']>> }

export const API_METHODS = Object.keys(API) as ApiMethod[]

/** IPC channel names: one prefix, validated by the preload and main (VS Code's validateIPC idea). */
export const CHANNEL_PREFIX = 'skipbench:'
export const channelOf = (m: ApiMethod) => `${CHANNEL_PREFIX}${m}`
/** the one channel main sends events on */
export const EVENT_CHANNEL = `${CHANNEL_PREFIX}event`

/** Errors crossing a transport boundary. */
export const ApiError = z.object({ error: z.string(), code: z.enum(['bad_request', 'not_found', 'conflict', 'internal', 'unauthorized']) })
export type ApiError = z.infer<typeof ApiError>
export type ApiErrorCode = ApiError['code']

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API, x)
}

// ------------------------------------------------------------------------------------------------ events

export const RunStatusEvent = z.object({
  type: z.literal('run-status'),
  runId: Id,
  experimentId: Id.nullable(),
  status: RunStatus,
  error: z.string().nullable(),
  jobId: Id.nullable(),
})
export const JobProgressEvent = z.object({
  type: z.literal('job-progress'),
  jobId: Id,
  runId: Id,
  experimentId: Id.nullable(),
  /** steps done (the step just finished + 1) */
  step: z.number().int(),
  totalSteps: z.number().int(),
  tokensPerSec: Num,
  etaSeconds: Num,
})
export const MetricsAppendedEvent = z.object({
  type: z.literal('metrics-appended'),
  runId: Id,
  experimentId: Id.nullable(),
  event: z.enum(['step', 'validation']),
  step: z.number().int(),
  /** the run-level values of that step (per-layer keys left out) */
  values: z.record(z.string(), Num),
})
export const RunsChangedEvent = z.object({
  type: z.literal('runs-changed'),
  change: z.enum(['created', 'deleted', 'updated']),
  runIds: z.array(Id),
  experimentId: Id.nullable(),
})
export const ExperimentChangedEvent = z.object({ type: z.literal('experiment-changed'), change: z.enum(['created', 'updated', 'deleted']), experimentId: Id })
export const CheckpointEvent = z.object({ type: z.literal('checkpoint'), runId: Id, step: z.number().int(), final: z.boolean() })
export const LogEvent = z.object({ type: z.literal('log'), runId: Id.nullable(), jobId: Id, level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string() })
export const EvaluationEvent = z.object({ type: z.literal('evaluation'), runId: Id, evaluation: EvaluationInfo })
export const ImportProgressEvent = z.object({ type: z.literal('import-progress'), state: ImportState })
export const SettingsChangedEvent = z.object({ type: z.literal('settings-changed'), settings: Settings })

export const ServerEvent = z.discriminatedUnion('type', [
  RunStatusEvent,
  JobProgressEvent,
  MetricsAppendedEvent,
  RunsChangedEvent,
  ExperimentChangedEvent,
  CheckpointEvent,
  LogEvent,
  EvaluationEvent,
  ImportProgressEvent,
  SettingsChangedEvent,
])
export type ServerEvent = z.infer<typeof ServerEvent>
export type ServerEventType = ServerEvent['type']
export type EventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>

export const EVENT_TYPES = [
  'run-status',
  'job-progress',
  'metrics-appended',
  'runs-changed',
  'experiment-changed',
  'checkpoint',
  'log',
  'evaluation',
  'import-progress',
  'settings-changed',
] as const satisfies readonly ServerEventType[]

/** `on(type, cb)`: subscribe to one event type, or '*' for all; returns the unsubscribe function. */
export type EventSubscribe = <T extends ServerEventType | '*'>(type: T, cb: (e: T extends ServerEventType ? EventOf<T> : ServerEvent) => void) => () => void

/** What the preload exposes as `window.skipbench`: exactly the API plus `on`. */
export type SkipbenchBridge = SkipbenchApi & { on: EventSubscribe }

export function isEventType(x: unknown): x is ServerEventType | '*' {
  return x === '*' || (typeof x === 'string' && (EVENT_TYPES as readonly string[]).includes(x))
}

/** WebSocket path of the event stream (`skipbench serve`); the token goes in `?token=` or a subprotocol. */
export const EVENTS_PATH = '/api/events'
/** subprotocol carrying the access token: `skipbench.token.<token>` (the server answers with `skipbench`) */
export const WS_PROTOCOL = 'skipbench'
export const WS_TOKEN_PROTOCOL_PREFIX = 'skipbench.token.'
