/** Row types the repositories return (camelCase; the columns are snake_case). JSON columns come back parsed. */

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'interrupted'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export type RunKind = 'dense' | 'gated'

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type JsonObject = { [k: string]: Json }

export interface Experiment {
  id: number
  name: string
  description: string
  tags: string[]
  createdAt: string
}

export interface ExperimentWithCounts extends Experiment {
  runs: number
}

export interface Run {
  id: number
  /** stable identity of the run folder (run.json `id`); the ingest key */
  uid: string
  name: string
  experimentId: number | null
  kind: RunKind
  status: RunStatus
  /** the full resolved run config */
  config: JsonObject
  seed: number | null
  engine: string | null
  backend: string | null
  versions: Record<string, string>
  dataset: string | null
  datasetId: number | null
  runDir: string | null
  startedAt: string | null
  endedAt: string | null
  /** the highest step with a stored metric */
  lastStep: number
  tokensPerSec: number | null
  notes: string
  tags: string[]
  /** why it failed / was interrupted */
  error: string | null
  createdAt: string
  updatedAt: string
  /** what the run was made from (core/provenance); {} for runs stored before it was recorded */
  provenance: JsonObject
  /** the run this one re-runs exactly */
  rerunOf: number | null
}

export interface NewRun {
  /** default: a random UUID */
  uid?: string
  name: string
  experimentId?: number | null
  kind: RunKind
  /** default 'queued' */
  status?: RunStatus
  config: JsonObject
  seed?: number | null
  engine?: string | null
  backend?: string | null
  versions?: Record<string, string>
  dataset?: string | null
  datasetId?: number | null
  runDir?: string | null
  startedAt?: string | null
  endedAt?: string | null
  tokensPerSec?: number | null
  notes?: string
  tags?: string[]
  error?: string | null
  provenance?: JsonObject
  rerunOf?: number | null
}

/** Fields that may change after creation. `undefined` leaves a field alone; `null` clears it. */
export type RunPatch = Partial<Omit<NewRun, 'uid'>>

export interface MetricPoint {
  step: number
  key: string
  /** NaN is stored as NULL and read back as NaN */
  value: number
}

export interface MetricSummary {
  key: string
  count: number
  firstStep: number
  lastStep: number
  lastValue: number | null
  minValue: number | null
  minStep: number | null
  maxValue: number | null
}

/** A metric series in columns (what ECharts wants). */
export interface Series {
  key: string
  steps: number[]
  values: number[]
  /** points stored in the requested range, before downsampling */
  total: number
}

export interface Checkpoint {
  id: number
  runId: number
  step: number
  path: string
  final: boolean
  bytes: number | null
  /** false once found missing or corrupt */
  valid: boolean
  problem: string | null
  createdAt: string
}

export interface NewCheckpoint {
  step: number
  path: string
  final?: boolean
  bytes?: number | null
}

export interface Dataset {
  id: number
  name: string
  path: string | null
  tokenizer: string | null
  vocabSize: number | null
  trainTokens: number | null
  valTokens: number | null
  fingerprint: string | null
  meta: JsonObject
  createdAt: string
}

export type NewDataset = Partial<Omit<Dataset, 'id' | 'createdAt'>> & { name: string }

export interface Evaluation {
  id: number
  runId: number
  checkpointId: number | null
  datasetId: number | null
  dataset: string
  split: string
  step: number | null
  tokens: number
  loss: number | null
  gateStats: Json | null
  flopsPerToken: number | null
  flops: number | null
  createdAt: string
}

export type NewEvaluation = Omit<Evaluation, 'id' | 'createdAt' | 'checkpointId' | 'datasetId' | 'split' | 'step' | 'gateStats' | 'flopsPerToken' | 'flops' | 'loss'> &
  Partial<Pick<Evaluation, 'checkpointId' | 'datasetId' | 'split' | 'step' | 'gateStats' | 'flopsPerToken' | 'flops' | 'loss'>>

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface LogLine {
  id: number
  runId: number | null
  jobId: number | null
  at: string
  level: LogLevel
  message: string
}

export interface JobEvent {
  id: number
  jobId: number
  at: string
  type: string
  data: JsonObject
}

export type JobKind = 'train' | 'eval'
export type JobStatus = 'queued' | 'running' | 'pausing' | 'paused' | 'cancelling' | 'completed' | 'failed' | 'cancelled' | 'interrupted'
/** statuses a job can be resumed from */
export const RESUMABLE_JOB_STATUSES: readonly JobStatus[] = ['paused', 'interrupted', 'failed', 'cancelled']
/** statuses a job ends in (it never runs again unless resumed or retried) */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled']
/** statuses of a job a worker holds (recovery looks for these after a crash) */
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ['running', 'pausing', 'cancelling']

export interface Job {
  id: number
  kind: JobKind
  status: JobStatus
  payload: JsonObject
  runId: number | null
  priority: number
  attempts: number
  maxAttempts: number
  /** the checkpoint folder the next start resumes from (null: start from scratch) */
  resumeFrom: string | null
  pid: number | null
  host: string | null
  error: string | null
  createdAt: string
  updatedAt: string
  startedAt: string | null
  endedAt: string | null
}

export const nowIso = () => new Date().toISOString()
