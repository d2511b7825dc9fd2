/**
 * The job runner: a persistent queue (SQLite, `jobs` table) of train and eval jobs, each run in its own OS process
 * (WorkerLauncher: a forked Node process, or Electron's utilityProcess) speaking protocol.ts. This object is the
 * database's single writer while it runs: workers send messages, it batches them into transactions and publishes
 * events only after they are committed.
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
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { readTrainerState } from '../checkpoint/index.js'
import { StoreError } from '../store/errors.js'
import { ingestRunFolder, syncCheckpoints } from '../store/ingest.js'
import { checkpointProblem, runKind, toPoints } from '../store/run-folder.js'
import type { Store } from '../store/store.js'
import { nowIso, RESUMABLE_JOB_STATUSES, type Evaluation, type MetricPoint, type Job, type JobKind, type JobStatus, type JsonObject, type Run, type RunStatus } from '../store/types.js'
import { resolveRunConfigInput } from '../config/index.js'
import { parseRunConfig, runConfigToJson } from '../config/index.js'
import { TypedEmitter } from './events.js'
import { forkLauncher, type WorkerHandle, type WorkerLauncher } from './process.js'
import { parseEvalPayload, parseFromWorker, parseTrainPayload, type FromWorker, type StartMessage, type TrainPayload } from './protocol.js'

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

interface Op {
  /** metric rows: inserted for the whole batch at once, before every apply() of the batch */
  metrics?: { runId: number; points: MetricPoint[] }
  apply?: () => void
  /** runs after the commit (events, in-memory state) */
  after?: () => void
  rows: number
}

interface Active {
  job: Job
  handle: WorkerHandle
  runId: number | null
  runDir: string | null
  resumeFrom: string | null
  stop: 'cancel' | 'pause' | null
  killTimer: NodeJS.Timeout | null
  terminal: Extract<FromWorker, { type: 'done' | 'error' | 'eval-result' }> | null
  lastStep: number | null
  /** the worker said 'ready' (it loaded); a process that exits before that could not start */
  ready: boolean
  /** its last stderr lines, to name the cause when it dies without a message */
  stderrTail: string[]
  exited: Promise<void>
}

/**
 * The cause a crashed process printed, as one line: the first `SomeError: message` / `Error [CODE]: message` line of
 * its stderr (Node's uncaught-exception report), else its last non-blank line; '' if it printed nothing.
 */
export function causeFromStderr(lines: readonly string[]): string {
  const err = lines.find((l) => /^\s*(\w*Error|\w*Exception)\b[^:]*:/.test(l)) ?? lines.filter((l) => l.trim() && !/^\s*(at |\^|node:)/.test(l)).at(-1) ?? ''
  const one = err.trim().replace(/\s+/g, ' ')
  return one.length > 400 ? `${one.slice(0, 400)}…` : one
}

const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled']
const ACTIVE: readonly JobStatus[] = ['running', 'pausing', 'cancelling']

const isStorageError = (e: unknown) => {
  const code = String((e as { code?: unknown })?.code ?? '')
  return /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY)/.test(code) || (e as NodeJS.ErrnoException)?.code === 'ENOSPC'
}

function pidAlive(pid: number | null): boolean {
  if (!pid || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether `pid` is alive AND looks like the process we recorded (pids are reused, e.g. after a reboot). Linux: its
 * command line must match; elsewhere we cannot tell, so `null` (alive, identity unknown).
 */
function pidLooksLike(pid: number | null, pattern: RegExp): boolean | null {
  if (!pidAlive(pid)) return false
  if (process.platform !== 'linux') return null
  try {
    return pattern.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '))
  } catch {
    return false
  }
}
const WORKER_CMDLINE = /worker-entry|skipbench|electron/i
const RUNNER_CMDLINE = /node|electron|skipbench/i

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'run'

export class JobQueue extends TypedEmitter<JobQueueEvents> {
  readonly store: Store
  readonly runsDir: string
  private readonly launcher: WorkerLauncher
  private readonly concurrency: Record<JobKind, number>
  private readonly flushIntervalMs: number
  private readonly maxBatchRows: number
  private readonly maxPendingRows: number
  private readonly stopGraceMs: number
  /** this runner's identity in jobs.host: "<hostname>:<pid>" */
  readonly owner: string
  private readonly active = new Map<number, Active>()
  private ops: Op[] = []
  private pendingRows = 0
  private flushTimer: NodeJS.Timeout | null = null
  private storageFailures = 0
  private started = false
  private stopping = false
  private drainWaiters: (() => void)[] = []
  private pollTimer: NodeJS.Timeout | null = null

  constructor(private readonly opts: JobQueueOptions) {
    super()
    this.store = opts.store
    this.runsDir = resolve(opts.runsDir)
    this.launcher = opts.launcher ?? forkLauncher()
    this.concurrency = { train: 1, eval: 1, ...(opts.concurrency ?? {}) }
    this.flushIntervalMs = opts.flushIntervalMs ?? 100
    this.maxBatchRows = opts.maxBatchRows ?? 5000
    this.maxPendingRows = opts.maxPendingRows ?? 1_000_000
    this.stopGraceMs = opts.stopGraceMs ?? 60_000
    this.owner = `${hostname()}:${process.pid}`
  }

  // ------------------------------------------------------------------ public API

  /**
   * Recover from a previous runner that died (see RecoveryReport), then start scheduling. Call once. Waits for
   * orphaned workers of the dead runner to finish their checkpoint (up to stopGraceMs), then kills them.
   */
  async start(): Promise<RecoveryReport> {
    if (this.started) throw new JobError('JobQueue.start() was already called')
    this.started = true
    const report = await this.recover()
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
          this.requestStop(a, now.status === 'cancelling' ? 'cancel' : 'pause', false)
        }
      }
      this.pump()
    } catch (e) {
      // a busy or full database: the next poll tries again (never an uncaught exception in a timer)
      this.emit('storage-error', { message: `polling the queue failed: ${(e as Error).message}`, pendingRows: this.pendingRows, failures: this.storageFailures })
    }
  }

  /** Queue a training run: validates the config (presets via "extends"), creates the run row and its folder name. */
  addTrain(configInput: unknown, o: AddTrainOptions = {}): { job: Job; run: Run } {
    const r = enqueueTrain(this.store, this.runsDir, configInput, { ...o, ...(this.opts.dataDir ? { dataDir: this.opts.dataDir } : {}) })
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
    const payload = parseEvalPayload({
      runId,
      checkpoint,
      config: run.config,
      ...(o.data ? { data: o.data } : {}),
      ...(o.valTokens ? { valTokens: o.valTokens } : {}),
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
    const ck = this.pickCheckpoint(job)
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
      } else if (!a.stop) this.requestStop(a, a.job.kind === 'train' ? 'pause' : 'cancel')
    }
    await Promise.all(exits)
    this.flush()
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
  }

  /** Commit pending rows now. False if the commit failed (they stay pending). */
  flush(): boolean {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer)
      this.flushTimer = null
    }
    if (!this.ops.length) return true
    const batch = this.ops
    try {
      this.store.transaction(() => {
        const rows: { runId: number; points: MetricPoint[] }[] = []
        for (const op of batch) if (op.metrics) rows.push(op.metrics)
        if (rows.length) this.store.metrics.insertBatch(rows)
        for (const op of batch) op.apply?.()
      })
    } catch (e) {
      if (!isStorageError(e)) return this.flushOneByOne(batch, e)
      this.storageFailures++
      this.emit('storage-error', { message: (e as Error).message, pendingRows: this.pendingRows, failures: this.storageFailures })
      if (this.pendingRows > this.maxPendingRows)
        for (const a of this.active.values()) if (!a.stop && a.job.kind === 'train') this.requestStop(a, 'pause', false)
      this.scheduleFlush(Math.min(5000, this.flushIntervalMs * 2 ** Math.min(this.storageFailures, 6)))
      return false
    }
    this.ops = []
    this.pendingRows = 0
    if (this.storageFailures) {
      this.storageFailures = 0
      this.emit('storage-ok', { pendingRows: 0 })
    }
    for (const op of batch) op.after?.()
    return true
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
          if (isStorageError(e)) return this.scheduleFlush(1000)
          throw e
        }
        if (!job) break
        this.launch(job)
      }
    }
    this.notifyDrain()
  }

  private setStatus(job: Job, status: JobStatus, extra: Parameters<Store['jobs']['update']>[1] = {}): Job {
    const next = this.store.jobs.update(job.id, { status, ...extra })
    return next
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
          const ck = this.pickCheckpoint(job, job.resumeFrom)
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
        this.scheduleFlush(1000)
        return
      }
      this.finishWithoutProcess(job, 'failed', message)
      return
    }

    const handle = this.launcher.launch({ env: this.opts.workerEnv ?? {} })
    let resolveExit!: () => void
    const a: Active = {
      job,
      handle,
      runId: job.runId,
      runDir,
      resumeFrom,
      stop: null,
      killTimer: null,
      terminal: null,
      lastStep: null,
      ready: false,
      stderrTail: [],
      exited: new Promise<void>((r) => (resolveExit = r)),
    }
    this.active.set(job.id, a)
    const pid = handle.pid ?? null
    this.push({ rows: 0, apply: () => void this.store.jobs.update(job.id, { pid }) })
    a.job = { ...a.job, pid }
    this.publishJob('queued', a.job)

    handle.onMessage((raw) => this.onMessage(a, raw, start))
    handle.onOutput((stream, line) => {
      if (stream === 'stderr' && !a.ready) {
        a.stderrTail.push(line.slice(0, 2000))
        if (a.stderrTail.length > 40) a.stderrTail.shift()
      }
    })
    handle.onOutput((stream, line) => this.push({ rows: 0, apply: () => this.store.logs.add({ runId: a.runId, jobId: job.id, level: stream === 'stderr' ? 'warn' : 'info', message: line.slice(0, 4000) }) }))
    handle.onExit((code, signal) => {
      if (a.killTimer) clearTimeout(a.killTimer)
      this.onExit(a, code, signal)
      resolveExit()
    })
  }

  // ------------------------------------------------------------------ worker messages

  private onMessage(a: Active, raw: unknown, start: StartMessage): void {
    let msg: FromWorker
    try {
      msg = parseFromWorker(raw)
    } catch (e) {
      this.log(a, 'error', (e as Error).message)
      return
    }
    const jobId = a.job.id
    const runId = a.runId
    switch (msg.type) {
      case 'ready':
        a.ready = true
        a.stderrTail = []
        a.handle.send(start)
        if (a.stop) a.handle.send({ type: 'stop', mode: a.stop })
        return
      case 'started': {
        if (runId === null) return
        this.push({
          rows: 0,
          apply: () => {
            this.store.runs.update(runId, { engine: msg.engine.engine, backend: msg.engine.backend, versions: msg.engine.versions, ...(msg.provenance ? { provenance: msg.provenance as JsonObject } : {}) })
            this.store.logs.add({ runId, jobId, level: 'info', message: msg.resumedFrom ? `resumed from ${msg.resumedFrom} at step ${msg.step}` : `started (${msg.params} parameters, ${msg.engine.backend})` })
          },
        })
        return
      }
      case 'metrics': {
        if (runId === null) return
        a.lastStep = msg.step
        const points = toPoints(msg.step, msg.values)
        const tps = msg.tokensPerSec
        this.push({
          rows: points.length,
          metrics: { runId, points },
          apply: () => {
            if (tps !== null && Number.isFinite(tps) && msg.event === 'step' && (msg.step % 10 === 0 || msg.step + 1 === msg.totalSteps))
              this.store.runs.update(runId, { tokensPerSec: this.store.metrics.meanTokensPerSec(runId) ?? tps })
          },
          after: () =>
            this.emit('progress', { jobId, runId, event: msg.event, step: msg.step, totalSteps: msg.totalSteps, values: msg.values, tokensPerSec: tps, etaSeconds: msg.etaSeconds }),
        })
        return
      }
      case 'checkpoint': {
        if (runId === null) return
        this.push({
          rows: 0,
          apply: () => {
            this.store.checkpoints.record(runId, { step: msg.step, path: msg.dir, final: msg.final, bytes: msg.bytes })
            for (const p of msg.pruned) {
              const c = this.store.checkpoints.byPath(runId, p)
              if (c) this.store.checkpoints.markInvalid(c.id, `${p}: pruned (training.keep_checkpoints)`)
            }
            this.store.logs.event(jobId, 'checkpoint', { step: msg.step, path: msg.dir, reason: msg.reason })
          },
          after: () => this.emit('checkpoint', { jobId, runId, step: msg.step, path: msg.dir, final: msg.final }),
        })
        return
      }
      case 'log':
        this.log(a, msg.level, msg.message)
        return
      case 'done':
      case 'error':
      case 'eval-result':
        a.terminal = msg
        if (msg.type === 'error') this.log(a, 'error', msg.message + (msg.stack ? `\n${msg.stack}` : ''))
        return
    }
  }

  private log(a: Active, level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    const jobId = a.job.id
    const runId = a.runId
    this.push({ rows: 0, apply: () => this.store.logs.add({ runId, jobId, level, message }), after: () => this.emit('log', { jobId, runId, level, message }) })
  }

  // ------------------------------------------------------------------ ending a job

  private onExit(a: Active, code: number | null, signal: NodeJS.Signals | null): void {
    this.active.delete(a.job.id)
    const t = a.terminal
    const cause = !a.ready && !t ? causeFromStderr(a.stderrTail) : ''
    // a process that never loaded failed to start: say so, with what it printed (one line), in the job's error
    const how = !a.ready && !t && !signal ? `could not start (exited with code ${code})${cause ? `: ${cause}` : ''}` : signal ? `killed by ${signal}` : `exited with code ${code}`
    const at = a.lastStep !== null ? ` after step ${a.lastStep}` : ''
    const job = a.job
    const runId = a.runId

    if (job.kind === 'eval') {
      if (t?.type === 'eval-result') {
        let evaluation: Evaluation | null = null
        this.finish(a, 'completed', null, () => {
          const payload = parseEvalPayload(job.payload)
          const ck = this.store.checkpoints.byPath(payload.runId, payload.checkpoint)
          const ds = this.store.datasets.byName(t.dataset)
          evaluation = this.store.evaluations.add({
            runId: payload.runId,
            checkpointId: ck?.id ?? null,
            datasetId: ds?.id ?? null,
            dataset: t.dataset,
            split: t.split,
            step: t.step,
            tokens: t.tokens,
            loss: t.loss,
            gateStats: (t.gateStats ?? null) as JsonObject | null,
            flopsPerToken: t.flopsPerToken,
            flops: t.flops,
          })
        }, () => evaluation && this.emit('evaluation', { jobId: job.id, evaluation }))
      } else if (a.stop) this.finish(a, 'cancelled', a.stop === 'cancel' ? null : `stopped (${how})`)
      else this.finish(a, 'failed', t?.type === 'error' ? t.message : `evaluation worker ${how}`)
      return
    }

    if (t?.type === 'done') {
      if (t.status === 'completed') return this.finish(a, 'completed', null, undefined, undefined, t.checkpoint)
      // the trainer checkpointed and stopped: paused (resumable) or cancelled, as asked
      return this.finish(a, a.stop === 'pause' ? 'paused' : 'cancelled', null, undefined, undefined, t.checkpoint)
    }
    if (t?.type === 'error') {
      if (t.code === 'resume-failed' && t.checkpoint && runId !== null && !a.stop) {
        // the checkpoint looked fine but does not load: mark it and fall back to an earlier one
        const bad = t.checkpoint
        const message = t.message
        this.push({
          rows: 0,
          apply: () => {
            const c = this.store.checkpoints.byPath(runId, bad)
            if (c) this.store.checkpoints.markInvalid(c.id, message)
            else this.store.checkpoints.markInvalid(this.store.checkpoints.record(runId, { step: readStepOr(bad, 0), path: bad }).id, message)
            this.store.logs.add({ runId, jobId: job.id, level: 'warn', message: `checkpoint ${bad} does not load (${message}); falling back to an earlier one` })
          },
        })
        const ok = this.flush()
        const fallback = ok ? this.pickCheckpoint(job) : { path: null, problems: [] }
        if (fallback.path) return this.requeueAfterExit(a, { resumeFrom: fallback.path, reason: `checkpoint ${bad} does not load: ${message}`, countAttempt: false })
        return this.finish(a, 'failed', `cannot resume: ${message}${fallback.problems.length ? `; no earlier usable checkpoint (${fallback.problems.join('; ')})` : '; no earlier checkpoint'}`)
      }
      if (a.stop) return this.finish(a, a.stop === 'pause' ? 'paused' : 'cancelled', `stopped while failing: ${t.message}`)
      return this.finish(a, 'failed', t.message)
    }
    // no final message: the process died
    const reason = `worker ${how}${at}`
    if (a.stop) return this.finish(a, a.stop === 'pause' ? 'paused' : 'cancelled', `${reason} (after a ${a.stop} request)`)
    if (this.stopping) return this.finish(a, 'interrupted', reason)
    if (job.attempts < job.maxAttempts) {
      this.flush()
      const ck = this.pickCheckpoint(job)
      return this.requeueAfterExit(a, ck.path ? { resumeFrom: ck.path, reason, countAttempt: true } : { fresh: true, reason, countAttempt: true })
    }
    return this.finish(a, 'failed', reason)
  }

  /** Final status for a job that had a process: queued after its rows, so it commits after them. */
  private finish(
    a: Active,
    status: JobStatus,
    error: string | null,
    extraApply?: () => void,
    extraAfter?: () => void,
    checkpoint?: string | null,
  ): void {
    const job = a.job
    const runId = a.runId
    const previous = job.status
    let updated: Job = job
    this.push({
      rows: 0,
      apply: () => {
        extraApply?.()
        if (runId !== null && job.kind === 'train') {
          if (a.runDir) syncCheckpoints(this.store, runId, a.runDir)
          const runStatus: RunStatus = status === 'pausing' || status === 'cancelling' ? 'running' : (status as RunStatus)
          this.store.runs.update(runId, { status: runStatus, error, endedAt: nowIso() })
        }
        const resumeFrom = job.kind === 'train' && status !== 'completed' ? (checkpoint ?? (runId !== null ? (this.store.checkpoints.latestValid(runId)?.path ?? null) : null)) : null
        updated = this.setStatus(job, status, { error, pid: null, endedAt: nowIso(), resumeFrom })
        this.store.logs.event(job.id, status, { ...(error ? { reason: error } : {}), ...(a.lastStep !== null ? { step: a.lastStep } : {}) })
      },
      after: () => {
        extraAfter?.()
        this.publishJob(previous, updated)
        this.pump()
        this.notifyDrain()
      },
    })
    this.flush()
  }

  private finishWithoutProcess(job: Job, status: JobStatus, error: string | null): void {
    const previous = job.status
    let updated = job
    try {
      this.store.transaction(() => {
        if (job.runId !== null && job.kind === 'train') this.store.runs.update(job.runId, { status: status as RunStatus, error, endedAt: nowIso() })
        updated = this.setStatus(job, status, { error, pid: null, endedAt: nowIso() })
        this.store.logs.event(job.id, status, error ? { reason: error } : {})
      })
    } catch (e) {
      if (!isStorageError(e)) throw e
      return
    }
    this.publishJob(previous, updated)
    queueMicrotask(() => this.pump())
  }

  private requeueAfterExit(a: Active, o: { resumeFrom?: string; fresh?: boolean; reason: string; countAttempt: boolean }): void {
    const job = a.job
    const previous = job.status
    let updated = job
    this.push({
      rows: 0,
      apply: () => {
        if (a.runId !== null && a.runDir) syncCheckpoints(this.store, a.runId, a.runDir)
        updated = this.requeueTx(job, { ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}), fresh: !!o.fresh, event: 'auto-retry', reason: o.reason })
        if (!o.countAttempt) updated = this.store.jobs.update(job.id, { attempts: Math.max(0, job.attempts - 1) })
      },
      after: () => {
        this.publishJob(previous, updated)
        this.pump()
      },
    })
    this.flush()
  }

  // ------------------------------------------------------------------ stop / requeue helpers

  private stop(jobId: number, mode: 'cancel' | 'pause'): Job {
    const a = this.active.get(jobId)
    if (a) {
      this.requestStop(a, mode)
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
    if (ACTIVE.includes(job.status)) {
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

  private requestStop(a: Active, mode: 'cancel' | 'pause', persist = true): void {
    if (a.stop) return
    a.stop = mode
    const status: JobStatus = mode === 'cancel' ? 'cancelling' : 'pausing'
    if (persist) {
      try {
        const previous = a.job.status
        a.job = this.store.transaction(() => {
          this.store.logs.event(a.job.id, `${mode}-requested`, {})
          return this.store.jobs.update(a.job.id, { status })
        })
        this.publishJob(previous, a.job)
      } catch (e) {
        if (!isStorageError(e)) throw e
      }
    }
    a.handle.send({ type: 'stop', mode })
    a.killTimer = setTimeout(() => {
      this.log(a, 'warn', `no checkpoint within ${this.stopGraceMs} ms of the ${mode} request: killing the worker`)
      a.handle.kill('SIGKILL')
    }, this.stopGraceMs)
    a.killTimer.unref?.()
  }

  private requeue(job: Job, o: { resumeFrom?: string; fresh?: boolean; event: string }): Job {
    const previous = job.status
    const updated = this.store.transaction(() => this.requeueTx(job, o))
    this.publishJob(previous, updated)
    this.pump()
    return updated
  }

  /** Set a job queued again; `fresh` gives a training job a new run (new uid and folder). Call in a transaction. */
  private requeueTx(job: Job, o: { resumeFrom?: string; fresh?: boolean; event: string; reason?: string }): Job {
    let runId = job.runId
    let payload = job.payload
    if (o.fresh && job.kind === 'train') {
      const old = parseTrainPayload(job.payload)
      const prevRun = runId !== null ? this.store.runs.get(runId) : null
      const run = this.createRun(old.config as JsonObject, {
        name: prevRun?.name,
        experimentId: prevRun?.experimentId ?? null,
        tags: prevRun?.tags,
        notes: prevRun ? `retry of run ${prevRun.id}${prevRun.notes ? `; ${prevRun.notes}` : ''}` : undefined,
      })
      runId = run.id
      payload = { ...old, runDir: run.runDir!, runUid: run.uid } as JsonObject
    } else if (runId !== null && job.kind === 'train') this.store.runs.update(runId, { status: 'queued', error: null })
    this.store.logs.event(job.id, o.event, { ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}), ...(o.fresh ? { newRunId: runId } : {}), ...(o.reason ? { reason: o.reason } : {}) })
    return this.store.jobs.update(job.id, {
      status: 'queued',
      runId,
      payload,
      resumeFrom: o.resumeFrom ?? null,
      error: o.reason ?? null,
      pid: null,
      endedAt: null,
      ...(o.event === 'retry' ? { attempts: 0 } : {}),
    })
  }

  private createRun(config: JsonObject, o: { name?: string | null; experimentId?: number | null; tags?: string[]; notes?: string }): Run {
    return createQueuedRun(this.store, this.runsDir, config, o)
  }

  /**
   * The checkpoint to resume from: `preferred` if usable, else the newest valid one of the run (after syncing the
   * rows with the folder). Broken ones are marked invalid on the way, with their problem.
   */
  private pickCheckpoint(job: Job, preferred?: string): { path: string | null; problems: string[] } {
    const problems: string[] = []
    const runId = job.runId
    if (runId === null) return { path: null, problems: ['the job has no run'] }
    const run = this.store.runs.get(runId)
    return this.store.transaction(() => {
      if (run?.runDir) syncCheckpoints(this.store, runId, run.runDir)
      if (preferred) {
        const p = checkpointProblem(preferred)
        const row = this.store.checkpoints.byPath(runId, preferred)
        if (!p && (!row || row.valid)) return { path: preferred, problems }
        problems.push(p ?? row?.problem ?? `${preferred}: marked invalid`)
        if (row && row.valid && p) this.store.checkpoints.markInvalid(row.id, p)
      }
      for (;;) {
        const c = this.store.checkpoints.latestValid(runId)
        if (!c) return { path: null, problems }
        const p = checkpointProblem(c.path)
        if (!p) return { path: c.path, problems }
        this.store.checkpoints.markInvalid(c.id, p)
        problems.push(p)
      }
    })
  }

  // ------------------------------------------------------------------ recovery

  private async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { recovered: [], requeued: [] }
    const me = hostname()
    for (const job of this.store.jobs.list({ status: [...ACTIVE], limit: 100_000 })) {
      const [host, pidText] = (job.host ?? '').split(':')
      const ownerPid = Number(pidText)
      if (host === me && Number.isInteger(ownerPid) && ownerPid !== process.pid && pidLooksLike(ownerPid, RUNNER_CMDLINE) !== false) continue // a live runner owns it
      // the dead runner's worker may still be writing its checkpoint (it stops when it loses its parent)
      if (host === me || !job.host) await this.waitForExit(job.pid)
      const previous = job.status
      const status: JobStatus = job.status === 'pausing' ? 'paused' : job.status === 'cancelling' ? 'cancelled' : 'interrupted'
      const reason = status === 'interrupted' ? `the job runner (${job.host ?? 'unknown'}) stopped while this job was running` : null
      let updated = job
      this.store.transaction(() => {
        if (job.runId !== null && job.kind === 'train') {
          const run = this.store.runs.get(job.runId)
          if (run?.runDir) {
            try {
              // every event the trainer emitted is in its folder: commit what the dead runner had not
              const r = ingestRunFolder(this.store, run.runDir, { updateStatus: false })
              if (r.metricsAdded) this.store.logs.add({ runId: run.id, jobId: job.id, level: 'info', message: `recovered ${r.metricsAdded} metric rows from ${run.runDir}` })
            } catch (e) {
              this.store.logs.add({ runId: run.id, jobId: job.id, level: 'warn', message: `could not ingest ${run.runDir}: ${(e as Error).message}` })
              syncCheckpoints(this.store, run.id, run.runDir)
            }
          }
          this.store.runs.update(job.runId, { status: status as RunStatus, error: reason, endedAt: nowIso() })
        }
        const resumeFrom = job.runId !== null ? (this.store.checkpoints.latestValid(job.runId)?.path ?? null) : null
        updated = this.store.jobs.update(job.id, { status, error: reason, pid: null, endedAt: nowIso(), resumeFrom })
        this.store.logs.event(job.id, status, { recovered: true, ...(reason ? { reason } : {}) })
      })
      report.recovered.push(updated)
      this.publishJob(previous, updated)
      if (this.opts.recover === 'resume' && status === 'interrupted' && job.kind === 'train') {
        const ck = this.pickCheckpoint(updated)
        if (ck.path) {
          this.requeue(updated, { resumeFrom: ck.path, event: 'resume' })
          report.requeued.push(job.id)
        }
      }
    }
    return report
  }

  /** Wait (up to stopGraceMs) for an orphaned worker to write its checkpoint and exit; then kill it if it is ours. */
  private async waitForExit(pid: number | null): Promise<void> {
    const ours = pidLooksLike(pid, WORKER_CMDLINE)
    if (ours === false) return
    const until = Date.now() + this.stopGraceMs
    while (pidAlive(pid) && Date.now() < until) await sleep(50)
    if (ours && pidAlive(pid)) {
      try {
        process.kill(pid!, 'SIGKILL')
      } catch {
        /* gone */
      }
      while (pidAlive(pid)) await sleep(20)
    }
  }

  // ------------------------------------------------------------------ the write buffer

  private push(op: Op): void {
    this.ops.push(op)
    this.pendingRows += op.rows
    if (this.storageFailures) return // the retry timer is running
    if (this.pendingRows >= this.maxBatchRows) this.flush()
    else this.scheduleFlush(this.flushIntervalMs)
  }

  private scheduleFlush(ms: number): void {
    if (this.flushTimer) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      this.flush()
      if (!this.storageFailures) this.pump()
    }, ms)
  }

  /** A non-storage error in a batch: apply ops one at a time, dropping (and reporting) the ones that fail. */
  private flushOneByOne(batch: Op[], first: unknown): boolean {
    this.ops = []
    this.pendingRows = 0
    for (const op of batch) {
      try {
        this.store.transaction(() => {
          if (op.metrics) this.store.metrics.insertBatch([op.metrics])
          op.apply?.()
        })
        op.after?.()
      } catch (e) {
        if (isStorageError(e)) {
          this.ops.push(op)
          this.pendingRows += op.rows
          continue
        }
        console.error('skipbench: a job-runner write failed and was dropped:', (e as Error).message, '(first error:', (first as Error)?.message, ')')
      }
    }
    if (this.ops.length) this.scheduleFlush(1000)
    return this.ops.length === 0
  }
}

/** A run row in status queued, with its folder under runsDir. Call in a transaction. */
function createQueuedRun(store: Store, runsDir: string, config: JsonObject, o: { name?: string | null; experimentId?: number | null; tags?: string[]; notes?: string }): Run {
  const uid = randomUUID()
  const name = o.name || (typeof config.name === 'string' && config.name) || 'run'
  const training = (config.training ?? {}) as { seed?: number }
  const data = (config.data ?? {}) as { dataset?: string }
  return store.runs.create({
    uid,
    name,
    kind: runKind(config),
    status: 'queued',
    config,
    seed: training.seed ?? null,
    dataset: data.dataset ?? null,
    runDir: join(resolve(runsDir), `${slug(name)}-${uid.slice(0, 8)}`),
    experimentId: o.experimentId ?? null,
    tags: o.tags ?? [],
    notes: o.notes ?? '',
  })
}

/**
 * Put a training job in the queue without running anything (`skipbench queue add`; JobQueue.addTrain uses it too).
 * Validates the config (a preset via "extends" works), creates the run (status queued) and the job in one
 * transaction. A runner (`skipbench worker`, the app, the server) picks it up.
 */
export function enqueueTrain(store: Store, runsDir: string, configInput: unknown, o: AddTrainOptions & { dataDir?: string } = {}): { job: Job; run: Run } {
  const config = parseRunConfig(resolveRunConfigInput(configInput))
  const configJson = runConfigToJson(config) as JsonObject
  return store.transaction(() => {
    const run = createQueuedRun(store, runsDir, configJson, { name: o.name ?? config.name, experimentId: o.experimentId ?? null, tags: o.tags, notes: o.notes })
    const payload: TrainPayload = { config: configJson, runDir: run.runDir!, runUid: run.uid, ...(o.dataDir ? { dataDir: o.dataDir } : {}) }
    const job = store.jobs.enqueue({ kind: 'train', payload: payload as JsonObject, runId: run.id, priority: o.priority, maxAttempts: o.maxAttempts })
    store.logs.event(job.id, 'queued', { runId: run.id })
    return { job, run }
  })
}

function readStepOr(dir: string, fallback: number): number {
  try {
    return readTrainerState(dir).step
  } catch {
    return fallback
  }
}

export { TERMINAL as TERMINAL_JOB_STATUSES }
