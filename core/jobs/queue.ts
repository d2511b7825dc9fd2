/**
 * The job runner: a persistent queue (SQLite, `jobs` table) of train and eval jobs, each run in its own OS process
 * (a forked Node child process, process.ts) speaking protocol.ts. This object is the database's single writer while
 * it runs: workers send messages, the batched writer (writer.ts) commits them in transactions, and events are
 * published only after their commit. This file holds the queue itself (adding, claiming in priority order, cancel,
 * pause, resume, retry, shutdown); the worker processes are supervisor.ts's, crash recovery at start recovery.ts's.
 *
 * Guarantees (tested in queue.test.ts / faults.test.ts):
 * - A step's metrics are committed in one transaction: readers never see part of a step.
 * - A resumed run has no duplicated or missing steps: before a resume from a checkpoint at step S the run's rows
 *   after S are discarded (MetricsRepository.discardForResume, in the transaction that marks it running), the
 *   trainer truncates metrics.jsonl the same way, and the resumed timeline writes those steps afresh.
 * - A worker that dies (SIGKILL, crash) loses nothing committed; the job is retried from its last valid checkpoint
 *   while attempts remain, else marked failed with the reason.
 * - If this process dies, the next start() marks its jobs interrupted (after ingesting their run folders, which hold
 *   every event the trainer emitted), and resume() continues them from their last valid checkpoint.
 * - A full disk: a failed commit keeps its rows in memory and retries with backoff (publishing 'storage-error');
 *   past `maxPendingRows` the running training jobs are paused (checkpoint, then stop).
 * - A corrupt checkpoint is marked invalid and the previous one is used; with none left the job fails, saying why.
 */
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { readTrainerState } from '../checkpoint/index.js'
import { syncCheckpoints } from '../store/ingest.js'
import type { Store } from '../store/store.js'
import { ACTIVE_JOB_STATUSES, nowIso, RESUMABLE_JOB_STATUSES, type Job, type JobKind, type JobStatus, type JsonObject, type Run, type RunStatus } from '../store/types.js'
import { mergeConfig, parseRunConfig, runConfigToJson, type ResolvedRunConfig } from '../config/index.js'
import { enqueueTrain, pickCheckpoint, requeueTx } from './enqueue.js'
import { TypedEmitter } from '../util/emitter.js'
import { forkLauncher } from './process.js'
import { parseEvalPayload, parseTrainPayload, type StartMessage } from './protocol.js'
import { recoverJobs } from './recovery.js'
import { Supervisor } from './supervisor.js'
import { JobError, type AddEvalOptions, type AddTrainOptions, type JobQueueEvents, type JobQueueOptions, type RecoveryReport } from './types.js'
import { BatchedWriter, isStorageError } from './writer.js'

export class JobQueue extends TypedEmitter<JobQueueEvents> {
  readonly store: Store
  readonly runsDir: string
  private readonly concurrency: Record<JobKind, number>
  private readonly maxPendingRows: number
  private readonly stopGraceMs: number
  /** this runner's identity in jobs.host: "<hostname>:<pid>" */
  readonly owner: string
  private readonly writer: BatchedWriter
  private readonly supervisor: Supervisor
  private started = false
  private stopping = false
  private drainWaiters: (() => void)[] = []
  private pollTimer: NodeJS.Timeout | null = null

  constructor(private readonly opts: JobQueueOptions) {
    super()
    this.store = opts.store
    this.runsDir = resolve(opts.runsDir)
    this.concurrency = { train: 1, eval: 1, ...(opts.concurrency ?? {}) }
    this.maxPendingRows = opts.maxPendingRows ?? 1_000_000
    this.stopGraceMs = opts.stopGraceMs ?? 60_000
    this.owner = `${hostname()}:${process.pid}`
    this.writer = new BatchedWriter(this.store, {
      flushIntervalMs: opts.flushIntervalMs ?? 100,
      maxBatchRows: opts.maxBatchRows ?? 5000,
      onStorageError: (e) => {
        this.emit('storage-error', e)
        if (e.pendingRows > this.maxPendingRows)
          for (const a of this.active.values()) if (!a.stop && a.job.kind === 'train') this.supervisor.requestStop(a, 'pause', false)
      },
      onStorageOk: (e) => this.emit('storage-ok', e),
      onTimedFlush: () => this.pump(),
    })
    this.supervisor = new Supervisor({
      store: this.store,
      runsDir: this.runsDir,
      writer: this.writer,
      launcher: opts.launcher ?? forkLauncher(),
      workerEnv: opts.workerEnv ?? {},
      stopGraceMs: this.stopGraceMs,
      stopping: () => this.stopping,
      emit: (event, e) => this.emit(event, e),
      publishJob: (previous, job) => this.publishJob(previous, job),
      pump: () => this.pump(),
      notifyDrain: () => this.notifyDrain(),
    })
  }

  private get active() {
    return this.supervisor.active
  }

  // ------------------------------------------------------------------ public API

  /**
   * Recover from a previous runner that died (see RecoveryReport), then start scheduling. Call once. Waits for
   * orphaned workers of the dead runner to finish their checkpoint (up to stopGraceMs), then kills them.
   */
  async start(): Promise<RecoveryReport> {
    if (this.started) throw new JobError('JobQueue.start() was already called')
    this.started = true
    const report = await recoverJobs({
      store: this.store,
      stopGraceMs: this.stopGraceMs,
      mode: this.opts.recover ?? 'mark',
      publishJob: (previous, job) => this.publishJob(previous, job),
      requeue: (job, o) => this.requeue(job, o),
    })
    this.pump()
    // unref'd: polling alone never keeps a process alive (`skipbench worker --keep-running` holds its own handle)
    this.pollTimer = setInterval(() => this.poll(), this.opts.pollMs ?? 1000)
    this.pollTimer.unref()
    return report
  }

  /**
   * Look at the database for what other processes did: jobs they queued or requeued (run them if there is room) and
   * stop requests they recorded for jobs this runner runs (carry them out). Runs every pollMs once started.
   */
  poll(): void {
    if (!this.started || this.stopping) return
    try {
      for (const a of this.active.values()) {
        if (a.stop) continue
        const now = this.store.jobs.get(a.job.id)
        if (now?.status === 'cancelling' || now?.status === 'pausing') {
          a.job = now
          this.supervisor.requestStop(a, now.status === 'cancelling' ? 'cancel' : 'pause', false)
        }
      }
      this.pump()
    } catch (e) {
      // a busy or full database: the next poll tries again (never an uncaught exception in a timer)
      this.emit('storage-error', { message: `polling the queue failed: ${(e as Error).message}`, pendingRows: this.writer.pendingRows, failures: this.writer.failures })
    }
  }

  /** Queue a training run of a resolved config (parsed once by the caller): creates the run row and its folder name. */
  addTrain(config: ResolvedRunConfig, o: AddTrainOptions = {}): { job: Job; run: Run } {
    const r = enqueueTrain(this.store, this.runsDir, config, { ...o, ...(this.opts.dataDir ? { dataDir: this.opts.dataDir } : {}) })
    this.emit('job', { job: r.job, previous: null })
    this.pump()
    return r
  }

  /** Queue an evaluation of a run's checkpoint (default: its newest valid one). */
  addEval(runId: number, o: AddEvalOptions = {}): Job {
    const run = this.store.runs.require(runId)
    let checkpoint = o.checkpoint
    if (!checkpoint) {
      if (run.runDir) this.store.transaction(() => syncCheckpoints(this.store, run.id, run.runDir!))
      const c = this.store.checkpoints.latestValid(runId)
      if (!c) throw new JobError(`run ${runId} has no valid checkpoint to evaluate`)
      checkpoint = c.path
    }
    // the evaluation's config, resolved once here: the run's (resolved when it was queued) with the evaluation's
    // data and token budget; the worker checks it and uses it as it is
    const config = parseRunConfig(mergeConfig<unknown>(structuredClone(run.config), { ...(o.data ? { data: o.data } : {}), ...(o.valTokens ? { training: { val_tokens: o.valTokens } } : {}) }))
    const payload = parseEvalPayload({
      runId,
      checkpoint,
      config: runConfigToJson(config),
      ...(this.opts.dataDir ? { dataDir: this.opts.dataDir } : {}),
    })
    const job = this.store.transaction(() => {
      const j = this.store.jobs.enqueue({ kind: 'eval', payload: payload as JsonObject, runId, priority: o.priority })
      this.store.logs.event(j.id, 'queued', { runId, checkpoint })
      return j
    })
    this.emit('job', { job, previous: null })
    this.pump()
    return job
  }

  /** Cancel: a running job checkpoints, then stops (status cancelled; resume() can still continue it). */
  cancel(jobId: number): Job {
    return this.stop(jobId, 'cancel')
  }

  /** Pause: a running job checkpoints, then stops (status paused); a queued one is just held. resume() continues. */
  pause(jobId: number): Job {
    return this.stop(jobId, 'pause')
  }

  /** Continue a paused, interrupted, failed or cancelled training job from its run's newest valid checkpoint. */
  resume(jobId: number): Job {
    const job = this.store.jobs.require(jobId)
    if (job.kind !== 'train') throw new JobError(`job ${jobId} is an ${job.kind} job; use retry`)
    if (!RESUMABLE_JOB_STATUSES.includes(job.status)) throw new JobError(`job ${jobId} is ${job.status}; only ${RESUMABLE_JOB_STATUSES.join(', ')} jobs can be resumed`)
    const ck = pickCheckpoint(this.store, job)
    if (!ck.path)
      throw new JobError(`job ${jobId} has no usable checkpoint to resume from${ck.problems.length ? ` (${ck.problems.join('; ')})` : ''}; use retry to start it again`)
    return this.requeue(job, { resumeFrom: ck.path, event: 'resume' })
  }

  /** Start a failed, cancelled, interrupted or paused job again from scratch, as a new run (the old run stays). */
  retry(jobId: number): Job {
    const job = this.store.jobs.require(jobId)
    if (!RESUMABLE_JOB_STATUSES.includes(job.status)) throw new JobError(`job ${jobId} is ${job.status}; only ${RESUMABLE_JOB_STATUSES.join(', ')} jobs can be retried`)
    return this.requeue(job, { fresh: true, event: 'retry' })
  }

  get(jobId: number): Job | null {
    return this.store.jobs.get(jobId)
  }

  list(opts: { status?: JobStatus[]; limit?: number } = {}): Job[] {
    return this.store.jobs.list(opts)
  }

  /** Job ids with a live worker process. */
  get running(): number[] {
    return [...this.active.keys()]
  }

  /** Resolves when a job reaches one of `statuses` (checked against committed state). */
  waitFor(jobId: number, statuses: readonly JobStatus[], timeoutMs = 0): Promise<Job> {
    return new Promise((resolveP, reject) => {
      const now = this.store.jobs.get(jobId)
      if (now && statuses.includes(now.status)) return resolveP(now)
      let timer: NodeJS.Timeout | null = null
      const off = this.on('job', ({ job }) => {
        if (job.id === jobId && statuses.includes(job.status)) {
          off()
          if (timer) clearTimeout(timer)
          resolveP(job)
        }
      })
      if (timeoutMs > 0)
        timer = setTimeout(() => {
          off()
          reject(new JobError(`job ${jobId} did not reach ${statuses.join('/')} within ${timeoutMs} ms (now ${this.store.jobs.get(jobId)?.status})`))
        }, timeoutMs)
    })
  }

  /** Resolves when nothing is queued (of the kinds this runner runs) and nothing is running: `skipbench worker`. */
  drain(): Promise<void> {
    return new Promise((r) => {
      if (this.idle()) return r()
      this.drainWaiters.push(r)
    })
  }

  /**
   * Stop the runner. 'pause' (default): running training jobs checkpoint and stop (status paused, resumable),
   * evals are cancelled; 'kill': workers are killed at once (jobs interrupted). Then commits what is pending.
   */
  async shutdown(mode: 'pause' | 'kill' = 'pause'): Promise<void> {
    this.stopping = true
    if (this.pollTimer) clearInterval(this.pollTimer)
    this.pollTimer = null
    const exits = [...this.active.values()].map((a) => a.exited)
    for (const a of this.active.values()) {
      if (mode === 'kill') {
        a.handle.kill('SIGKILL')
      } else if (!a.stop) this.supervisor.requestStop(a, a.job.kind === 'train' ? 'pause' : 'cancel')
    }
    await Promise.all(exits)
    this.writer.flush()
    this.writer.close()
  }

  /** Commit pending rows now. False if the commit failed (they stay pending). */
  flush(): boolean {
    return this.writer.flush()
  }

  // ------------------------------------------------------------------ scheduling

  private idle(): boolean {
    if (this.active.size) return false
    return !this.store.jobs.list({ status: ['queued'], limit: 1 }).length
  }

  private notifyDrain(): void {
    if (this.drainWaiters.length && this.idle()) for (const w of this.drainWaiters.splice(0)) w()
  }

  private activeCount(kind: JobKind): number {
    let n = 0
    for (const a of this.active.values()) if (a.job.kind === kind) n++
    return n
  }

  /** Start queued jobs while there is room. */
  private pump(): void {
    if (!this.started || this.stopping) return
    for (const kind of ['train', 'eval'] as const) {
      while (this.activeCount(kind) < this.concurrency[kind]) {
        let job: Job | null
        try {
          job = this.store.jobs.claimNext(kind, this.owner)
        } catch (e) {
          if (isStorageError(e)) return this.writer.scheduleFlush(1000)
          throw e
        }
        if (!job) break
        this.launch(job)
      }
    }
    this.notifyDrain()
  }

  private publishJob(previous: JobStatus | null, job: Job): void {
    this.emit('job', { job, previous })
  }

  // ------------------------------------------------------------------ starting a job

  private launch(claimed: Job): void {
    let job = claimed
    let start: StartMessage
    let runDir: string | null = null
    let resumeFrom: string | null = null
    try {
      // anything still pending (an earlier attempt's rows) commits before this attempt changes the run
      if (!this.flush()) throw new JobError('cannot start: the database cannot be written (see storage-error)')
      if (job.kind === 'train') {
        const payload = parseTrainPayload(job.payload)
        runDir = payload.runDir
        if (job.resumeFrom) {
          const ck = pickCheckpoint(this.store, job, job.resumeFrom)
          if (!ck.path) throw new JobError(`cannot resume: no usable checkpoint (${ck.problems.join('; ') || 'none recorded'})`)
          resumeFrom = ck.path
        }
        const resumeStep = resumeFrom ? readTrainerState(resumeFrom).step : null
        job = this.store.transaction(() => {
          if (job.runId !== null) {
            if (resumeStep !== null) {
              const n = this.store.metrics.discardForResume(job.runId, resumeStep)
              if (n) this.store.logs.add({ runId: job.runId, jobId: job.id, level: 'info', message: `resuming from step ${resumeStep}: discarded ${n} metric rows after it` })
            }
            this.store.runs.update(job.runId, { status: 'running', error: null, endedAt: null, ...(this.store.runs.get(job.runId)?.startedAt ? {} : { startedAt: nowIso() }) })
          }
          this.store.logs.event(job.id, 'started', { attempt: job.attempts, resumeFrom, owner: this.owner })
          return this.store.jobs.update(job.id, { resumeFrom })
        })
        start = { type: 'start', kind: 'train', jobId: job.id, payload, resumeFrom }
      } else {
        const payload = parseEvalPayload(job.payload)
        this.store.logs.event(job.id, 'started', { attempt: job.attempts, owner: this.owner })
        start = { type: 'start', kind: 'eval', jobId: job.id, payload }
      }
    } catch (e) {
      const message = (e as Error).message
      if (isStorageError(e) || /cannot be written/.test(message)) {
        // leave it for later, untouched
        try {
          this.store.jobs.update(job.id, { status: 'queued', attempts: Math.max(0, job.attempts - 1) })
        } catch {
          /* still full: recovery on the next start marks it */
        }
        this.writer.scheduleFlush(1000)
        return
      }
      this.finishWithoutProcess(job, 'failed', message)
      return
    }

    this.supervisor.spawn(job, start, runDir, resumeFrom)
  }

  private finishWithoutProcess(job: Job, status: JobStatus, error: string | null): void {
    const previous = job.status
    let updated = job
    try {
      this.store.transaction(() => {
        if (job.runId !== null && job.kind === 'train') this.store.runs.update(job.runId, { status: status as RunStatus, error, endedAt: nowIso() })
        updated = this.store.jobs.update(job.id, { status, error, pid: null, endedAt: nowIso() })
        this.store.logs.event(job.id, status, error ? { reason: error } : {})
      })
    } catch (e) {
      if (!isStorageError(e)) throw e
      return
    }
    this.publishJob(previous, updated)
    queueMicrotask(() => this.pump())
  }

  // ------------------------------------------------------------------ stop / requeue helpers

  private stop(jobId: number, mode: 'cancel' | 'pause'): Job {
    const a = this.active.get(jobId)
    if (a) {
      this.supervisor.requestStop(a, mode)
      return this.store.jobs.require(jobId)
    }
    const job = this.store.jobs.require(jobId)
    if (job.status === 'queued' || (mode === 'cancel' && (job.status === 'paused' || job.status === 'interrupted' || job.status === 'failed'))) {
      const status: JobStatus = mode === 'cancel' ? 'cancelled' : 'paused'
      const updated = this.store.transaction(() => {
        if (job.runId !== null && job.kind === 'train') this.store.runs.update(job.runId, { status })
        this.store.logs.event(job.id, status, { requested: true })
        return this.store.jobs.update(job.id, { status, endedAt: nowIso(), resumeFrom: job.runId !== null ? (this.store.checkpoints.latestValid(job.runId)?.path ?? null) : null })
      })
      this.publishJob(job.status, updated)
      this.notifyDrain()
      return updated
    }
    if (ACTIVE_JOB_STATUSES.includes(job.status)) {
      // another runner (a `skipbench worker`, `serve` or the app) owns it: record the request; the owner sees it at
      // its next poll (pollMs) and stops the job the same way. If that runner is dead, its next start settles it.
      if (job.status !== 'running') return job
      const status: JobStatus = mode === 'cancel' ? 'cancelling' : 'pausing'
      const updated = this.store.transaction(() => {
        this.store.logs.event(job.id, `${mode}-requested`, { by: this.owner, owner: job.host })
        return this.store.jobs.update(job.id, { status })
      })
      this.publishJob(job.status, updated)
      return updated
    }
    throw new JobError(`job ${jobId} is ${job.status}; nothing to ${mode}`)
  }

  private requeue(job: Job, o: { resumeFrom?: string; fresh?: boolean; event: string }): Job {
    const previous = job.status
    const updated = this.store.transaction(() => requeueTx(this.store, this.runsDir, job, o))
    this.publishJob(previous, updated)
    this.pump()
    return updated
  }
}
