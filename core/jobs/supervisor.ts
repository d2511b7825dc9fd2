/**
 * The process supervisor: starts a job's worker process (WorkerLauncher), hands it its start message once it says
 * `ready`, turns its messages into writes (through the BatchedWriter, so they commit in batches and events follow
 * commits), carries out stop requests (the worker checkpoints and stops; killed after stopGraceMs), and decides,
 * when the process exits, how the job ends: completed, paused, cancelled, failed, or retried from its last valid
 * checkpoint.
 */
import { readTrainerState } from '../checkpoint/index.js'
import { syncCheckpoints } from '../store/ingest.js'
import { toPoints } from '../store/run-folder.js'
import type { Store } from '../store/store.js'
import { nowIso, type Evaluation, type Job, type JobStatus, type JsonObject, type RunStatus } from '../store/types.js'
import { pickCheckpoint, requeueTx } from './enqueue.js'
import type { WorkerHandle, WorkerLauncher } from './process.js'
import { parseEvalPayload, parseFromWorker, type FromWorker, type StartMessage } from './protocol.js'
import type { JobQueueEvents } from './types.js'
import { isStorageError, type BatchedWriter } from './writer.js'

export interface Active {
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
function causeFromStderr(lines: readonly string[]): string {
  const err = lines.find((l) => /^\s*(\w*Error|\w*Exception)\b[^:]*:/.test(l)) ?? lines.filter((l) => l.trim() && !/^\s*(at |\^|node:)/.test(l)).at(-1) ?? ''
  const one = err.trim().replace(/\s+/g, ' ')
  return one.length > 400 ? `${one.slice(0, 400)}…` : one
}

/** What the supervisor needs of the queue. */
export interface SupervisorHost {
  readonly store: Store
  readonly runsDir: string
  readonly writer: BatchedWriter
  readonly launcher: WorkerLauncher
  readonly workerEnv: Record<string, string>
  readonly stopGraceMs: number
  /** the runner is shutting down */
  stopping(): boolean
  emit<K extends keyof JobQueueEvents>(event: K, e: JobQueueEvents[K]): void
  publishJob(previous: JobStatus | null, job: Job): void
  pump(): void
  notifyDrain(): void
}

export class Supervisor {
  /** the jobs with a live worker process, by job id */
  readonly active = new Map<number, Active>()

  constructor(private readonly host: SupervisorHost) {}

  /** Start the worker process of a claimed (and prepared) job. */
  spawn(job: Job, start: StartMessage, runDir: string | null, resumeFrom: string | null): void {
    const handle = this.host.launcher.launch({ env: this.host.workerEnv })
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
    this.host.writer.push({ rows: 0, apply: () => void this.host.store.jobs.update(job.id, { pid }) })
    a.job = { ...a.job, pid }
    this.host.publishJob('queued', a.job)

    handle.onMessage((raw) => this.onMessage(a, raw, start))
    handle.onOutput((stream, line) => {
      if (stream === 'stderr' && !a.ready) {
        a.stderrTail.push(line.slice(0, 2000))
        if (a.stderrTail.length > 40) a.stderrTail.shift()
      }
    })
    handle.onOutput((stream, line) => this.host.writer.push({ rows: 0, apply: () => this.host.store.logs.add({ runId: a.runId, jobId: job.id, level: stream === 'stderr' ? 'warn' : 'info', message: line.slice(0, 4000) }) }))
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
        this.host.writer.push({
          rows: 0,
          apply: () => {
            this.host.store.runs.update(runId, { engine: msg.engine.engine, backend: msg.engine.backend, versions: msg.engine.versions, ...(msg.provenance ? { provenance: msg.provenance as JsonObject } : {}) })
            this.host.store.logs.add({ runId, jobId, level: 'info', message: msg.resumedFrom ? `resumed from ${msg.resumedFrom} at step ${msg.step}` : `started (${msg.params} parameters, ${msg.engine.backend})` })
          },
        })
        return
      }
      case 'metrics': {
        if (runId === null) return
        a.lastStep = msg.step
        const points = toPoints(msg.step, msg.values)
        const tps = msg.tokensPerSec
        this.host.writer.push({
          rows: points.length,
          metrics: { runId, points },
          apply: () => {
            if (tps !== null && Number.isFinite(tps) && msg.event === 'step' && (msg.step % 10 === 0 || msg.step + 1 === msg.totalSteps))
              this.host.store.runs.update(runId, { tokensPerSec: this.host.store.metrics.meanTokensPerSec(runId) ?? tps })
          },
          after: () =>
            this.host.emit('progress', { jobId, runId, event: msg.event, step: msg.step, totalSteps: msg.totalSteps, values: msg.values, tokensPerSec: tps, etaSeconds: msg.etaSeconds }),
        })
        return
      }
      case 'checkpoint': {
        if (runId === null) return
        this.host.writer.push({
          rows: 0,
          apply: () => {
            this.host.store.checkpoints.record(runId, { step: msg.step, path: msg.dir, final: msg.final, bytes: msg.bytes })
            for (const p of msg.pruned) {
              const c = this.host.store.checkpoints.byPath(runId, p)
              if (c) this.host.store.checkpoints.markInvalid(c.id, `${p}: pruned (training.keep_checkpoints)`)
            }
            this.host.store.logs.event(jobId, 'checkpoint', { step: msg.step, path: msg.dir, reason: msg.reason })
          },
          after: () => this.host.emit('checkpoint', { jobId, runId, step: msg.step, path: msg.dir, final: msg.final }),
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
    this.host.writer.push({ rows: 0, apply: () => this.host.store.logs.add({ runId, jobId, level, message }), after: () => this.host.emit('log', { jobId, runId, level, message }) })
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
          const ck = this.host.store.checkpoints.byPath(payload.runId, payload.checkpoint)
          const ds = this.host.store.datasets.byName(t.dataset)
          evaluation = this.host.store.evaluations.add({
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
        }, () => evaluation && this.host.emit('evaluation', { jobId: job.id, evaluation }))
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
        this.host.writer.push({
          rows: 0,
          apply: () => {
            const c = this.host.store.checkpoints.byPath(runId, bad)
            if (c) this.host.store.checkpoints.markInvalid(c.id, message)
            else this.host.store.checkpoints.markInvalid(this.host.store.checkpoints.record(runId, { step: readStepOr(bad, 0), path: bad }).id, message)
            this.host.store.logs.add({ runId, jobId: job.id, level: 'warn', message: `checkpoint ${bad} does not load (${message}); falling back to an earlier one` })
          },
        })
        const ok = this.host.writer.flush()
        const fallback = ok ? pickCheckpoint(this.host.store, job) : { path: null, problems: [] }
        if (fallback.path) return this.requeueAfterExit(a, { resumeFrom: fallback.path, reason: `checkpoint ${bad} does not load: ${message}`, countAttempt: false })
        return this.finish(a, 'failed', `cannot resume: ${message}${fallback.problems.length ? `; no earlier usable checkpoint (${fallback.problems.join('; ')})` : '; no earlier checkpoint'}`)
      }
      if (a.stop) return this.finish(a, a.stop === 'pause' ? 'paused' : 'cancelled', `stopped while failing: ${t.message}`)
      return this.finish(a, 'failed', t.message)
    }
    // no final message: the process died
    const reason = `worker ${how}${at}`
    if (a.stop) return this.finish(a, a.stop === 'pause' ? 'paused' : 'cancelled', `${reason} (after a ${a.stop} request)`)
    if (this.host.stopping()) return this.finish(a, 'interrupted', reason)
    if (job.attempts < job.maxAttempts) {
      this.host.writer.flush()
      const ck = pickCheckpoint(this.host.store, job)
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
    this.host.writer.push({
      rows: 0,
      apply: () => {
        extraApply?.()
        if (runId !== null && job.kind === 'train') {
          if (a.runDir) syncCheckpoints(this.host.store, runId, a.runDir)
          const runStatus: RunStatus = status === 'pausing' || status === 'cancelling' ? 'running' : (status as RunStatus)
          this.host.store.runs.update(runId, { status: runStatus, error, endedAt: nowIso() })
        }
        const resumeFrom = job.kind === 'train' && status !== 'completed' ? (checkpoint ?? (runId !== null ? (this.host.store.checkpoints.latestValid(runId)?.path ?? null) : null)) : null
        updated = this.host.store.jobs.update(job.id, { status, error, pid: null, endedAt: nowIso(), resumeFrom })
        this.host.store.logs.event(job.id, status, { ...(error ? { reason: error } : {}), ...(a.lastStep !== null ? { step: a.lastStep } : {}) })
      },
      after: () => {
        extraAfter?.()
        this.host.publishJob(previous, updated)
        this.host.pump()
        this.host.notifyDrain()
      },
    })
    this.host.writer.flush()
  }

  private requeueAfterExit(a: Active, o: { resumeFrom?: string; fresh?: boolean; reason: string; countAttempt: boolean }): void {
    const job = a.job
    const previous = job.status
    let updated = job
    this.host.writer.push({
      rows: 0,
      apply: () => {
        if (a.runId !== null && a.runDir) syncCheckpoints(this.host.store, a.runId, a.runDir)
        updated = requeueTx(this.host.store, this.host.runsDir, job, { ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}), fresh: !!o.fresh, event: 'auto-retry', reason: o.reason })
        if (!o.countAttempt) updated = this.host.store.jobs.update(job.id, { attempts: Math.max(0, job.attempts - 1) })
      },
      after: () => {
        this.host.publishJob(previous, updated)
        this.host.pump()
      },
    })
    this.host.writer.flush()
  }

  // ------------------------------------------------------------------ stop requests

  requestStop(a: Active, mode: 'cancel' | 'pause', persist = true): void {
    if (a.stop) return
    a.stop = mode
    const status: JobStatus = mode === 'cancel' ? 'cancelling' : 'pausing'
    if (persist) {
      try {
        const previous = a.job.status
        a.job = this.host.store.transaction(() => {
          this.host.store.logs.event(a.job.id, `${mode}-requested`, {})
          return this.host.store.jobs.update(a.job.id, { status })
        })
        this.host.publishJob(previous, a.job)
      } catch (e) {
        if (!isStorageError(e)) throw e
      }
    }
    a.handle.send({ type: 'stop', mode })
    a.killTimer = setTimeout(() => {
      this.log(a, 'warn', `no checkpoint within ${this.host.stopGraceMs} ms of the ${mode} request: killing the worker`)
      a.handle.kill('SIGKILL')
    }, this.host.stopGraceMs)
    a.killTimer.unref?.()
  }
}

function readStepOr(dir: string, fallback: number): number {
  try {
    return readTrainerState(dir).step
  } catch {
    return fallback
  }
}
