/**
 * Sweeps through the job queue: every valid point becomes a training job of one experiment (tags: the sweep's
 * name and the point's group). Queuing is idempotent per experiment: a point whose run already exists in the
 * experiment (same name and same config) is not queued again; if that run was paused, interrupted or cancelled it
 * is resumed from its last checkpoint, and if it failed it is retried as a new run. So `skipbench sweep` can be run
 * again after a Ctrl-C and continues where it stopped.
 */
import { canonicalJson } from '../analysis/records.js'
import type { JobQueue } from '../jobs/queue.js'
import type { ProgressEvent } from '../jobs/types.js'
import { TERMINAL_JOB_STATUSES, type Job, type JobStatus, type Run } from '../store/types.js'
import { FIELD_LABELS, runConfigToJson } from '../config/index.js'
import type { ExpandedSweep, SweepPoint } from './grid.js'

export interface QueuedPoint {
  point: SweepPoint
  runId: number
  jobId: number
  /** what happened to it: newly queued, already there (done or pending), resumed or retried */
  action: 'queued' | 'exists' | 'resumed' | 'retried'
  status: JobStatus
}

export interface QueueSweepOptions {
  experiment: string
  description?: string
  /** higher first (default 0) */
  priority?: number
  /** attempts after worker crashes (default 1) */
  maxAttempts?: number
}

export interface QueuedSweep {
  experimentId: number
  experiment: string
  points: QueuedPoint[]
}

const configKey = (c: unknown) => {
  const o = { ...(c as Record<string, unknown>) }
  delete o.engine // the same point on another engine is still the same point
  return canonicalJson(o)
}

/** Queue the sweep's valid points as training jobs of `experiment` (see the module comment for re-runs). */
export function queueSweep(queue: JobQueue, sweep: ExpandedSweep, o: QueueSweepOptions): QueuedSweep {
  const store = queue.store
  const exp = store.experiments.ensure(o.experiment, o.description ?? sweep.description ?? `sweep ${sweep.name}`)
  const existing = store.runs.list({ experimentId: exp.id, limit: 10_000, sort: { by: 'id', dir: 'asc' }, summaries: [] }).rows.map((r) => store.runs.require(r.id))
  const jobsByRun = new Map<number, Job>()
  for (const j of store.jobs.list({ limit: 100_000 })) if (j.kind === 'train' && j.runId !== null) {
    const prev = jobsByRun.get(j.runId)
    if (!prev || prev.id < j.id) jobsByRun.set(j.runId, j)
  }
  const byKey = new Map<string, Run[]>()
  for (const r of existing) {
    const k = `${r.name}\n${configKey(r.config)}`
    byKey.set(k, [...(byKey.get(k) ?? []), r])
  }
  const out: QueuedPoint[] = []
  for (const p of sweep.points) {
    const json = runConfigToJson(p.config)
    const matches = byKey.get(`${p.name}\n${configKey(json)}`) ?? []
    // prefer a completed run, then any with a live or resumable job
    const done = matches.find((r) => r.status === 'completed')
    const candidate = done ?? matches.at(-1)
    const job = candidate ? jobsByRun.get(candidate.id) : undefined
    if (candidate && job) {
      if (done || ['queued', 'running', 'pausing', 'cancelling', 'completed'].includes(job.status)) {
        out.push({ point: p, runId: candidate.id, jobId: job.id, action: 'exists', status: job.status })
        continue
      }
      if (job.status === 'failed') {
        const j = queue.retry(job.id)
        out.push({ point: p, runId: j.runId!, jobId: j.id, action: 'retried', status: j.status })
        continue
      }
      try {
        const j = queue.resume(job.id)
        out.push({ point: p, runId: j.runId!, jobId: j.id, action: 'resumed', status: j.status })
      } catch {
        const j = queue.retry(job.id) // no usable checkpoint: start it again
        out.push({ point: p, runId: j.runId!, jobId: j.id, action: 'retried', status: j.status })
      }
      continue
    }
    const { job: j, run } = queue.addTrain(p.config, {
      name: p.name,
      experimentId: exp.id,
      tags: [`sweep:${sweep.name}`, `group:${p.group}`],
      // in words (the labels the app shows; the point's values are in its config and name)
      notes: `sweep ${sweep.name}, point ${p.index}: ${Object.entries(p.assignment).map(([k, v]) => `${FIELD_LABELS[k] ?? k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') || '(base)'}`,
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
    })
    out.push({ point: p, runId: run.id, jobId: j.id, action: 'queued', status: j.status })
  }
  return { experimentId: exp.id, experiment: exp.name, points: out }
}

export interface SweepProgress {
  /** jobs finished (any terminal status) out of the total */
  finished: number
  total: number
  /** the event that triggered this report */
  job?: Job
  progress?: ProgressEvent
  point?: QueuedPoint
}

/**
 * Wait until every job of the queued sweep is terminal (completed, failed or cancelled) or stopped (paused,
 * interrupted: it resolves then too, since nothing would continue them). The queue must be started (or is started
 * here). Reports progress through `onProgress`.
 */
export async function waitForSweep(queue: JobQueue, q: QueuedSweep, onProgress?: (p: SweepProgress) => void, signal?: AbortSignal): Promise<Job[]> {
  const ids = new Set(q.points.map((p) => p.jobId))
  const byJob = new Map(q.points.map((p) => [p.jobId, p]))
  const stopped: readonly JobStatus[] = [...TERMINAL_JOB_STATUSES, 'paused', 'interrupted']
  const isDone = (id: number) => stopped.includes(queue.store.jobs.require(id).status)
  const count = () => [...ids].filter(isDone).length
  return new Promise<Job[]>((resolve) => {
    const finish = () => {
      offJob()
      offProgress()
      resolve([...ids].map((id) => queue.store.jobs.require(id)))
    }
    const offJob = queue.on('job', ({ job }) => {
      if (!ids.has(job.id)) return
      const finished = count()
      onProgress?.({ finished, total: ids.size, job, point: byJob.get(job.id)! })
      if (finished === ids.size) finish()
    })
    const offProgress = queue.on('progress', (e) => {
      if (!ids.has(e.jobId)) return
      onProgress?.({ finished: count(), total: ids.size, progress: e, point: byJob.get(e.jobId)! })
    })
    signal?.addEventListener('abort', () => finish(), { once: true })
    if (count() === ids.size) finish()
  })
}
