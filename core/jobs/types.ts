/** The job runner's public types: its options, the events it publishes, what adding a job takes, and its error. */
import { StoreError } from '../store/errors.js'
import type { Store } from '../store/store.js'
import type { Evaluation, Job, JobKind, JobStatus } from '../store/types.js'
import type { WorkerLauncher } from './process.js'

export interface JobQueueOptions {
  /** the database (this queue becomes its writer) */
  store: Store
  /** new run folders are created here: <runsDir>/<name>-<uid8> */
  runsDir: string
  /** starts worker processes; default forkLauncher() (worker-entry.ts under tsx, or .js when built) */
  launcher?: WorkerLauncher
  /** at most this many running jobs per kind on this machine; default { train: 1, eval: 1 } */
  concurrency?: Partial<Record<JobKind, number>>
  /** metric rows wait at most this long (ms) before they are committed; default 100 */
  flushIntervalMs?: number
  /** commit early once this many metric rows are waiting; default 5000 */
  maxBatchRows?: number
  /** when commits keep failing (full disk), pause running training jobs once this many rows wait; default 1,000,000 */
  maxPendingRows?: number
  /** after cancel/pause, how long (ms) a worker may take to checkpoint and exit before it is killed; default 60,000 */
  stopGraceMs?: number
  /** data folder passed to workers for named datasets (default: theirs, $SKIPBENCH_DATA_DIR or ./.skipbench/data) */
  dataDir?: string
  /** environment additions for worker processes */
  workerEnv?: Record<string, string>
  /**
   * how often (ms) a started runner looks at the database for work other processes queued and for stop requests
   * they made for its jobs (`skipbench runs cancel`, `queue add`, the app); default 1000
   */
  pollMs?: number
  /**
   * start(): what to do with jobs that were running when the previous runner died. 'mark' (default): mark them
   * interrupted (resume() continues them); 'resume': also queue them again from their last valid checkpoint.
   */
  recover?: 'mark' | 'resume'
}

export interface ProgressEvent {
  jobId: number
  runId: number
  event: 'step' | 'validation'
  step: number
  totalSteps: number
  values: Record<string, number>
  tokensPerSec: number | null
  etaSeconds: number | null
}

/** What the server/IPC subscribe to. Every event is published after the data it describes is committed. */
export interface JobQueueEvents {
  /** a job changed status (or was added) */
  job: { job: Job; previous: JobStatus | null }
  progress: ProgressEvent
  checkpoint: { jobId: number; runId: number; step: number; path: string; final: boolean }
  log: { jobId: number; runId: number | null; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  evaluation: { jobId: number; evaluation: Evaluation }
  /** a commit failed (e.g. disk full); the rows are kept and retried */
  'storage-error': { message: string; pendingRows: number; failures: number }
  /** commits work again after storage errors */
  'storage-ok': { pendingRows: number }
}

export interface AddTrainOptions {
  name?: string
  experimentId?: number | null
  tags?: string[]
  notes?: string
  /** higher first; default 0 */
  priority?: number
  /** attempts after crashes (each retry resumes from the last valid checkpoint); default 1 (no automatic retry) */
  maxAttempts?: number
}

export interface AddEvalOptions {
  /** checkpoint folder; default the run's newest valid checkpoint */
  checkpoint?: string
  /** overrides of the run's data config (another dataset) */
  data?: Record<string, unknown>
  valTokens?: number
  priority?: number
}

export interface RecoveryReport {
  /** jobs found active from a runner that is gone, with their new status */
  recovered: Job[]
  /** recovered jobs queued again (recover: 'resume') */
  requeued: number[]
}

export class JobError extends StoreError {
  constructor(message: string) {
    super(message)
    this.name = 'JobError'
  }
}
