/**
 * The one API the renderer uses, shared by both transports (Electron IPC through the preload, and HTTP + WebSocket
 * against `skipbench serve`). Each method has a zod schema for its input and output; every boundary validates with
 * them (core/service/dispatch). Events (job progress, run status, metrics appended, ...) are one discriminated union.
 * Types and schemas only: this folder is imported by the renderer and the preload (lint-enforced).
 */
import { z } from 'zod'
import { Comparison } from './analysis.js'
import { ConfigIssueSchema } from '../config/issues.js'
import { ClusterCheckLine, ClusterName, ClusterProfileSchema } from './cluster.js'
import { AppInfo, Empty, Id, Num, PresetSummary, RunConfigDoc, Tag } from './blocks.js'
import { DatasetList, ImportRequest, ImportState } from './datasets.js'
import { EvaluationInfo, Experiment, ExperimentCreate, ExperimentUpdate, FlopsEstimator, FlopsKind, GatesData, GatesQuery, LogLine, RunDetail, RunDiff, RunKind, RunList, RunListQuery, ParallelData, RunRow, RunStatus, SavedView, GroupByPath, METRICS_EXPORT_FORMATS, MetricsExport, SeriesData, SeriesQuery, ViewState } from './runs.js'

export * from './blocks.js'
export * from './datasets.js'
export * from './runs.js'

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
const SweepAxis = z
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
  /** the likely range of totalSeconds (as a single run's estimate: wider when the rate is a guess) */
  totalSecondsRange: z.tuple([z.number(), z.number()]),
  /** concurrency the time estimate assumes */
  concurrency: z.number().int(),
  /** axis (and `set`) paths that name no config field, by group and axis index ("unknown field …, did you mean …") */
  axisIssues: z.array(z.object({ group: z.number().int(), axis: z.number().int().nullable(), issue: ConfigIssue })),
})
export type SweepPlan = z.infer<typeof SweepPlan>

export const MAX_SWEEP_RUNS = 512

// ------------------------------------------------------------------------------------------------ comparison

export const ComparisonResult = z.object({
  comparison: Comparison,
  /** the runs behind the comparison's ids (id = String(runId)) */
  runs: z.array(
    z.object({
      id: z.string(),
      runId: Id,
      name: z.string(),
      kind: RunKind,
      seed: z.number().int().nullable(),
      targetEnd: Num,
      /** the run's value of the request's groupBy config path (absent when not grouped) */
      group: z.union([z.string(), z.number()]).nullable().optional(),
    }),
  ),
  /** runs of the experiment not in the comparison, and why (not finished, no validation, ...) */
  skipped: z.array(z.object({ runId: Id, name: z.string(), reason: z.string() })),
})
export type ComparisonResult = z.infer<typeof ComparisonResult>

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

const SettingsUpdate = z
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
/** comparison report formats (core/report, core/report-export) */
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

  /** runs' stored metrics as files to download (the same files as `skipbench runs export`), bytes in base64 */
  exportMetrics: {
    input: z
      .object({
        runIds: z.array(Id).min(1, { error: 'select at least one run' }).max(500, { error: 'export at most 500 runs at a time' }),
        format: z.enum(METRICS_EXPORT_FORMATS, { error: 'must be tensorboard, csv or parquet' }),
      })
      .strict(),
    output: MetricsExport,
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
        /** a config path: each run of the result gets its value as `group` (the chart colours points by it) */
        groupBy: GroupByPath.optional(),
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
const CHANNEL_PREFIX = 'skipbench:'
export const channelOf = (m: ApiMethod) => `${CHANNEL_PREFIX}${m}`
/** the one channel main sends events on */
export const EVENT_CHANNEL = `${CHANNEL_PREFIX}event`

/** Errors crossing a transport boundary. */
export type ApiErrorCode = 'bad_request' | 'not_found' | 'conflict' | 'internal' | 'unauthorized'
export interface ApiError {
  error: string
  code: ApiErrorCode
}

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API, x)
}

// ------------------------------------------------------------------------------------------------ events

const RunStatusEvent = z.object({
  type: z.literal('run-status'),
  runId: Id,
  experimentId: Id.nullable(),
  status: RunStatus,
  error: z.string().nullable(),
  jobId: Id.nullable(),
})
const JobProgressEvent = z.object({
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
const MetricsAppendedEvent = z.object({
  type: z.literal('metrics-appended'),
  runId: Id,
  experimentId: Id.nullable(),
  event: z.enum(['step', 'validation']),
  step: z.number().int(),
  /** the run-level values of that step (per-layer keys left out) */
  values: z.record(z.string(), Num),
})
const RunsChangedEvent = z.object({
  type: z.literal('runs-changed'),
  change: z.enum(['created', 'deleted', 'updated']),
  runIds: z.array(Id),
  experimentId: Id.nullable(),
})
const ExperimentChangedEvent = z.object({ type: z.literal('experiment-changed'), change: z.enum(['created', 'updated', 'deleted']), experimentId: Id })
const CheckpointEvent = z.object({ type: z.literal('checkpoint'), runId: Id, step: z.number().int(), final: z.boolean() })
const LogEvent = z.object({ type: z.literal('log'), runId: Id.nullable(), jobId: Id, level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string() })
const EvaluationEvent = z.object({ type: z.literal('evaluation'), runId: Id, evaluation: EvaluationInfo })
const ImportProgressEvent = z.object({ type: z.literal('import-progress'), state: ImportState })
const SettingsChangedEvent = z.object({ type: z.literal('settings-changed'), settings: Settings })

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

const EVENT_TYPES = [
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
