/** core/jobs: the persistent job queue and its worker processes (see README.md). */
export { JobQueue } from './queue.js'
export { enqueueTrain } from './enqueue.js'
export { JobError, type JobQueueOptions, type JobQueueEvents, type ProgressEvent, type AddTrainOptions, type AddEvalOptions, type RecoveryReport } from './types.js'
export { forkLauncher, type WorkerLauncher, type WorkerHandle, type LaunchOptions, type ForkLauncherOptions } from './process.js'
export * from './protocol.js'
export {
  openStoreAt,
  listRuns,
  formatRunList,
  showRun,
  type RunListEntry,
  formatRunDetails,
  queueAdd,
  runWorker,
  resumeRun,
  cancelRun,
  runPlace,
  type CancelResult,
  type JobPlace,
  type RunDetails,
  type QueueAddOptions,
  type RunWorkerOptions,
  type WorkerSummary,
} from './commands.js'
export { compareRunMetrics, formatRerunComparison, queueRerun, type RerunComparison, type MetricMismatch } from './rerun.js'
