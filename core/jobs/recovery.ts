/**
 * Crash recovery at start: jobs still marked active (running / pausing / cancelling) whose runner is gone. Their
 * orphaned workers get up to stopGraceMs to write their checkpoint (then are killed, if they are ours), their run
 * folders are ingested (every event the trainer emitted is there), and they are marked interrupted (or paused /
 * cancelled, as was asked); with `recover: 'resume'` interrupted training jobs are queued again from their last
 * valid checkpoint.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { ingestRunFolder, syncCheckpoints } from '../store/ingest.js'
import type { Store } from '../store/store.js'
import { ACTIVE_JOB_STATUSES, nowIso, type Job, type JobStatus, type RunStatus } from '../store/types.js'
import { pickCheckpoint } from './enqueue.js'
import type { RecoveryReport } from './types.js'

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

/** What recovery needs of the queue. */
export interface RecoveryHost {
  readonly store: Store
  readonly stopGraceMs: number
  readonly mode: 'mark' | 'resume'
  publishJob(previous: JobStatus | null, job: Job): void
  requeue(job: Job, o: { resumeFrom?: string; fresh?: boolean; event: string }): Job
}

export async function recoverJobs(host: RecoveryHost): Promise<RecoveryReport> {
  const store = host.store
  const report: RecoveryReport = { recovered: [], requeued: [] }
  const me = hostname()
  for (const job of store.jobs.list({ status: [...ACTIVE_JOB_STATUSES], limit: 100_000 })) {
    const [host_, pidText] = (job.host ?? '').split(':')
    const ownerPid = Number(pidText)
    if (host_ === me && Number.isInteger(ownerPid) && ownerPid !== process.pid && pidLooksLike(ownerPid, RUNNER_CMDLINE) !== false) continue // a live runner owns it
    // the dead runner's worker may still be writing its checkpoint (it stops when it loses its parent)
    if (host_ === me || !job.host) await waitForExit(job.pid, host.stopGraceMs)
    const previous = job.status
    const status: JobStatus = job.status === 'pausing' ? 'paused' : job.status === 'cancelling' ? 'cancelled' : 'interrupted'
    const reason = status === 'interrupted' ? `the job runner (${job.host ?? 'unknown'}) stopped while this job was running` : null
    let updated = job
    store.transaction(() => {
      if (job.runId !== null && job.kind === 'train') {
        const run = store.runs.get(job.runId)
        if (run?.runDir) {
          try {
            // every event the trainer emitted is in its folder: commit what the dead runner had not
            const r = ingestRunFolder(store, run.runDir, { updateStatus: false })
            if (r.metricsAdded) store.logs.add({ runId: run.id, jobId: job.id, level: 'info', message: `recovered ${r.metricsAdded} metric rows from ${run.runDir}` })
          } catch (e) {
            store.logs.add({ runId: run.id, jobId: job.id, level: 'warn', message: `could not ingest ${run.runDir}: ${(e as Error).message}` })
            syncCheckpoints(store, run.id, run.runDir)
          }
        }
        store.runs.update(job.runId, { status: status as RunStatus, error: reason, endedAt: nowIso() })
      }
      const resumeFrom = job.runId !== null ? (store.checkpoints.latestValid(job.runId)?.path ?? null) : null
      updated = store.jobs.update(job.id, { status, error: reason, pid: null, endedAt: nowIso(), resumeFrom })
      store.logs.event(job.id, status, { recovered: true, ...(reason ? { reason } : {}) })
    })
    report.recovered.push(updated)
    host.publishJob(previous, updated)
    if (host.mode === 'resume' && status === 'interrupted' && job.kind === 'train') {
      const ck = pickCheckpoint(store, updated)
      if (ck.path) {
        host.requeue(updated, { resumeFrom: ck.path, event: 'resume' })
        report.requeued.push(job.id)
      }
    }
  }
  return report
}

/** Wait (up to graceMs) for an orphaned worker to write its checkpoint and exit; then kill it if it is ours. */
async function waitForExit(pid: number | null, graceMs: number): Promise<void> {
  const ours = pidLooksLike(pid, WORKER_CMDLINE)
  if (ours === false) return
  const until = Date.now() + graceMs
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
