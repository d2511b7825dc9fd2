/**
 * What the CLI's `runs` / `queue` / `worker` commands call (cli/ parses arguments and prints; the logic is here).
 *
 *   skipbench runs list [--json] [--db PATH]   → openStoreAt + listRuns + formatRunList / JSON.stringify
 *   skipbench runs show ID [--json]            → showRun + formatRunDetails
 *   skipbench runs ingest DIR...               → ingestRunFolder (core/store)
 *   skipbench queue add CONFIG [--name ...]    → queueAdd
 *   skipbench worker [--concurrency N]         → runWorker (drains the queue headless; SIGINT pauses running jobs)
 *   skipbench runs resume ID                   → resumeRun, then runWorker
 *   skipbench runs cancel ID                   → cancelRun
 *
 * Paths: core/paths.ts resolveStorePaths (--db, else $SKIPBENCH_DB, else $SKIPBENCH_HOME or ./.skipbench/skipbench.db;
 * run folders beside the database unless $SKIPBENCH_RUNS_DIR says otherwise).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { deviceLabel } from '../report/device.js'
import { ClusterManager } from '../cluster/manager.js'
import { slurmInfo } from '../cluster/slurm.js'
import type { SlurmInfo } from '../contract/cluster.js'
import { ACTIVE_CLUSTER_JOB_STATES, type ClusterJob } from '../store/clusters.js'
import { NotFoundError } from '../store/errors.js'
import type { RunListQuery, RunListResult, RunListRow } from '../store/runs.js'
import { openStore, type OpenStoreOptions, type Store } from '../store/store.js'
import type { Checkpoint, Evaluation, Job, LogLine, MetricSummary, Run } from '../store/types.js'
import { provenanceLines } from '../provenance/index.js'
import { readConfigFile } from '../trainer/run.js'
import { parseRunConfig, resolveRunConfigInput } from '../config/index.js'
import { enqueueTrain } from './enqueue.js'
import { JobQueue } from './queue.js'
import type { JobQueueOptions } from './types.js'
import { resolveStorePaths } from '../paths.js'

/**
 * Open (creating and migrating if needed) the database at --db or the default. Close it when done.
 * `readOnlyFallback` (commands that only read: runs list/show): when the database's folder is read-only, SQLite
 * cannot open it at all (WAL needs its -shm file beside it), so a snapshot copy in a temporary folder is opened
 * instead and `onNote` says so.
 */
export function openStoreAt(o: { db?: string; readOnlyFallback?: boolean; onNote?: (m: string) => void } & OpenStoreOptions = {}): Store {
  const { db } = resolveStorePaths(o.db ? { db: o.db } : {})
  const { readOnlyFallback, onNote, ...so } = o
  try {
    return openStore(db, so)
  } catch (e) {
    if (!readOnlyFallback || !(e instanceof Error && /folder .* is read-only/.test(e.message)) || !existsSync(db)) throw e
    const snap = mkdtempSync(join(tmpdir(), 'skipbench-snapshot-'))
    for (const suffix of ['', '-wal']) if (existsSync(db + suffix)) copyFileSync(db + suffix, join(snap, basename(db) + suffix))
    process.once('exit', () => rmSync(snap, { recursive: true, force: true }))
    onNote?.(`note: ${dirname(db)} is read-only; showing a snapshot of ${db} (copied to ${snap})`)
    return openStore(join(snap, basename(db)), so)
  }
}

// ---------------------------------------------------------------- runs list

/** A run-list row; runs handed to a cluster carry their current Slurm job as `slurm`. */
export type RunListEntry = RunListRow & { slurm?: SlurmInfo }

export function listRuns(store: Store, q: RunListQuery = {}): { total: number; rows: RunListEntry[] } {
  const r = store.runs.list(q)
  const jobs = store.clusters.latestForRuns(r.rows.map((x) => x.id))
  if (!jobs.size) return r
  return { ...r, rows: r.rows.map((x) => (jobs.has(x.id) ? { ...x, slurm: slurmInfo(jobs.get(x.id)!) } : x)) }
}

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '' : Number.isFinite(v) ? v.toFixed(digits) : String(v))

/** A plain-text table: id, name, kind, status, step, last/min val/loss, last train/loss, tokens/s, experiment. */
export function formatRunList(r: RunListResult): string {
  const head = ['ID', 'NAME', 'KIND', 'STATUS', 'STEP', 'VAL LOSS', 'MIN VAL', 'TRAIN LOSS', 'TOK/S', 'EXPERIMENT']
  const rows = r.rows.map((x: RunListRow) => [
    String(x.id),
    x.name,
    x.kind,
    x.status,
    String(x.lastStep),
    fmt(x.summaries['val/loss']?.last),
    fmt(x.summaries['val/loss']?.min),
    fmt(x.summaries['train/loss']?.last),
    x.tokensPerSec === null ? '' : Math.round(x.tokensPerSec).toString(),
    x.experiment ?? '',
  ])
  const grouped = r.rows.some((x) => x.group !== undefined)
  if (grouped) {
    head.unshift('GROUP')
    r.rows.forEach((x, i) => rows[i]!.unshift(x.group === null || x.group === undefined ? '-' : String(x.group)))
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  const shown = r.rows.length < r.total ? `\n(${r.rows.length} of ${r.total} runs; use --limit/--offset)` : ''
  return [line(head), ...rows.map(line)].join('\n') + (r.rows.length ? '' : '\n(no runs)') + shown
}

// ---------------------------------------------------------------- runs show

export interface RunDetails {
  run: Run
  summaries: MetricSummary[]
  checkpoints: Checkpoint[]
  evaluations: Evaluation[]
  jobs: Job[]
  /** the newest log lines (at most 50) */
  logs: LogLine[]
  /** a cluster run: its current Slurm job (job id, node, state, elapsed, output tail), else null */
  slurm: SlurmInfo | null
  /** every Slurm job of the run, oldest first (a resubmission adds one) */
  clusterJobs: ClusterJob[]
}

/** A run by id or uid, with everything the CLI's `runs show` prints. NotFoundError if there is none. */
export function showRun(store: Store, idOrUid: string | number): RunDetails {
  const asId = typeof idOrUid === 'number' ? idOrUid : /^\d+$/.test(idOrUid) ? Number(idOrUid) : null
  const run = (asId !== null ? store.runs.get(asId) : null) ?? (typeof idOrUid === 'string' ? store.runs.byUid(idOrUid) : null)
  if (!run) throw new NotFoundError(`run ${idOrUid}`)
  return {
    run,
    summaries: store.metrics.summaries(run.id),
    checkpoints: store.checkpoints.list(run.id),
    evaluations: store.evaluations.list(run.id),
    jobs: store.jobs.forRun(run.id),
    logs: store.logs.tailOfRun(run.id, 50),
    slurm: (() => {
      const j = store.clusters.latestOfRun(run.id)
      return j ? slurmInfo(j) : null
    })(),
    clusterJobs: store.clusters.jobsOfRun(run.id),
  }
}

export function formatRunDetails(d: RunDetails): string {
  const r = d.run
  const out: string[] = [
    `run ${r.id}  ${r.name}  (${r.kind}, ${r.status})`,
    `  uid        ${r.uid}`,
    `  folder     ${r.runDir ?? '-'}`,
    `  engine     ${r.engine ?? '-'} / ${r.backend ?? '-'}`,
    `  device     ${deviceLabel(r.backend, r.versions)}`,
    `  dataset    ${r.dataset ?? '-'}    seed ${r.seed ?? '-'}`,
    `  started    ${r.startedAt ?? '-'}    ended ${r.endedAt ?? '-'}`,
    `  steps      ${r.lastStep}    tokens/s ${r.tokensPerSec === null ? '-' : Math.round(r.tokensPerSec)}`,
  ]
  if (r.error) out.push(`  error      ${r.error}`)
  if (r.tags.length) out.push(`  tags       ${r.tags.join(', ')}`)
  if (r.notes) out.push(`  notes      ${r.notes}`)
  if (r.rerunOf !== null) out.push(`  rerun of   run ${r.rerunOf}`)
  const prov = provenanceLines(r.provenance)
  if (prov.length) {
    out.push('', '  provenance')
    for (const [k, v] of prov) out.push(`  ${k.padEnd(12)} ${v}`)
  }
  const main = d.summaries.filter((s) => !/\/layer_\d+$/.test(s.key))
  if (main.length) {
    out.push('', '  metric                          last        min (step)          count')
    for (const s of main) out.push(`  ${s.key.padEnd(30)}  ${fmt(s.lastValue).padStart(10)}  ${fmt(s.minValue).padStart(10)} (${s.minStep ?? '-'})`.padEnd(64) + `  ${s.count}`)
  }
  if (d.checkpoints.length) {
    out.push('', '  checkpoints')
    for (const c of d.checkpoints) out.push(`  step ${String(c.step).padStart(7)}  ${c.final ? 'final ' : ''}${c.valid ? '' : `INVALID (${c.problem}) `}${c.path}`)
  }
  if (d.evaluations.length) {
    out.push('', '  evaluations')
    for (const e of d.evaluations) out.push(`  ${e.dataset}/${e.split} step ${e.step ?? '-'}: loss ${fmt(e.loss)} over ${e.tokens} tokens${e.flopsPerToken ? `, ${e.flopsPerToken.toExponential(3)} FLOPs/token` : ''}`)
  }
  if (d.slurm) {
    const s = d.slurm
    out.push('', `  slurm      job ${s.job_id ?? '?'} on cluster ${s.cluster}, ${s.state}${s.slurm_state ? ` (${s.slurm_state})` : ''}, node ${s.node ?? '-'}, elapsed ${s.elapsed ?? '-'}, attempt ${s.attempt}`)
    if (s.reason) out.push(`  reason     ${s.reason}`)
    for (const j of d.clusterJobs.slice(0, -1)) out.push(`  earlier    job ${j.jobId ?? j.arrayJobId ?? '?'} ${j.state}${j.reason ? ` — ${j.reason}` : ''}`)
    if (s.output_tail) out.push('  output (tail)', ...s.output_tail.split('\n').map((l) => `    ${l}`))
  }
  if (d.jobs.length) {
    out.push('', '  jobs')
    for (const j of d.jobs) out.push(`  job ${j.id} ${j.kind} ${j.status} attempt ${j.attempts}/${j.maxAttempts}${j.error ? ` — ${j.error}` : ''}`)
  }
  return out.join('\n')
}

// ---------------------------------------------------------------- queue add

export interface QueueAddOptions {
  /** a config file path (JSON; "extends": PRESET works) or the config object itself */
  config: string | Record<string, unknown>
  runsDir?: string
  name?: string
  /** experiment name (created if missing) */
  experiment?: string
  tags?: string[]
  notes?: string
  priority?: number
  maxAttempts?: number
  dataDir?: string
}

/** Validate and queue a training job (nothing runs until a worker/app/server runner picks it up). */
export function queueAdd(store: Store, o: QueueAddOptions): { job: Job; run: Run } {
  const doc = typeof o.config === 'string' ? readConfigFile(o.config) : o.config
  const config = parseRunConfig(resolveRunConfigInput(doc)) // the CLI's boundary: parsed once, here
  const experimentId = o.experiment ? store.experiments.ensure(o.experiment).id : null
  const runsDir = o.runsDir ?? resolveStorePaths({ db: store.path }).runsDir
  return enqueueTrain(store, runsDir, config, {
    experimentId,
    ...(o.name ? { name: o.name } : {}),
    ...(o.tags ? { tags: o.tags } : {}),
    ...(o.notes ? { notes: o.notes } : {}),
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
    ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
  })
}

// ---------------------------------------------------------------- worker

export interface RunWorkerOptions extends Omit<JobQueueOptions, 'store' | 'runsDir'> {
  store: Store
  runsDir?: string
  /** abort → running training jobs checkpoint and pause (resumable), then it returns */
  signal?: AbortSignal
  /** default true: return once the queue is empty; false: keep waiting for new jobs until `signal` aborts */
  exitWhenIdle?: boolean
  /** human-readable progress lines (job status changes, every validation, checkpoints, errors) */
  onLine?: (line: string) => void
}

export interface WorkerSummary {
  recovered: number
  jobs: { id: number; status: string; error: string | null }[]
}

/** Drain the queue headless (`skipbench worker`): recover from a dead runner, then run jobs until idle or aborted. */
export async function runWorker(o: RunWorkerOptions): Promise<WorkerSummary> {
  const { store, signal, onLine, exitWhenIdle = true, ...qo } = o
  const runsDir = o.runsDir ?? resolveStorePaths({ db: store.path }).runsDir
  const queue = new JobQueue({ ...qo, store, runsDir })
  const seen = new Map<number, { id: number; status: string; error: string | null }>()
  queue.on('job', ({ job }) => {
    seen.set(job.id, { id: job.id, status: job.status, error: job.error })
    onLine?.(`job ${job.id} (${job.kind}${job.runId !== null ? `, run ${job.runId}` : ''}): ${job.status}${job.error ? ` — ${job.error}` : ''}`)
  })
  queue.on('progress', (p) => {
    if (p.event === 'validation') onLine?.(`job ${p.jobId}: step ${p.step}/${p.totalSteps} val/loss ${fmt(p.values['val/loss'])}`)
  })
  queue.on('checkpoint', (c) => onLine?.(`job ${c.jobId}: checkpoint at step ${c.step} → ${c.path}`))
  queue.on('storage-error', (e) => onLine?.(`database write failed (${e.message}); ${e.pendingRows} rows held in memory, retrying`))
  const report = await queue.start()
  for (const j of report.recovered) onLine?.(`job ${j.id} was running when the previous runner stopped: now ${j.status} (resume it with the app, or re-queue)`)
  await new Promise<void>((resolveP) => {
    // --keep-running: an empty queue leaves no pending work in the event loop, and Node would exit (code 13, an
    // unsettled top-level await). Hold a handle until aborted; the queue's poll picks up jobs queued meanwhile.
    const keepAlive = exitWhenIdle ? null : setInterval(() => {}, 1 << 30)
    const finish = () => {
      if (keepAlive) clearInterval(keepAlive)
      resolveP()
    }
    if (signal?.aborted) return finish()
    signal?.addEventListener('abort', finish, { once: true })
    if (exitWhenIdle) void queue.drain().then(finish)
  })
  await queue.shutdown('pause')
  return { recovered: report.recovered.length, jobs: [...seen.values()] }
}

// ---------------------------------------------------------------- runs resume / runs cancel

/** The training job of a run (its newest one) by run id or uid. NotFoundError if there is none. */
function trainJobOfRun(store: Store, idOrUid: string | number): { run: Run; job: Job } {
  const { run, jobs } = showRun(store, idOrUid)
  const job = jobs.filter((j) => j.kind === 'train').at(-1)
  if (!job) throw new NotFoundError(`a training job for run ${run.id} (it was ingested, not trained here; nothing to resume or cancel)`)
  return { run, job }
}

/**
 * Queue a paused, interrupted, failed or cancelled run again from its newest valid checkpoint (`skipbench runs
 * resume`). A runner (`skipbench worker`, `serve`, the app) then continues it.
 */
export function resumeRun(store: Store, idOrUid: string | number, o: { runsDir?: string } = {}): Job {
  const { job } = trainJobOfRun(store, idOrUid)
  const runsDir = o.runsDir ?? resolveStorePaths({ db: store.path }).runsDir
  return new JobQueue({ store, runsDir }).resume(job.id)
}

/**
 * Where a run's job runs: here (the job queue: this process, a worker, serve or the app) or on a Slurm cluster
 * (core/cluster: a `cluster_jobs` row that has not ended).
 */
export type JobPlace = 'local' | 'cluster'

export function runPlace(store: Store, runId: number): JobPlace {
  const cj = store.clusters.latestOfRun(runId)
  return cj && ACTIVE_CLUSTER_JOB_STATES.includes(cj.state) ? 'cluster' : 'local'
}

/**
 * Cancel a run's training job (`skipbench runs cancel`): the one path for every caller. A queued, paused, failed or
 * interrupted job is cancelled at once; a running one is asked to checkpoint and stop — by this process's runner if
 * it owns the job, else through the database for the runner that does (it checks every second).
 */
function cancelJob(store: Store, jobId: number, o: { runsDir?: string; queue?: JobQueue } = {}): Job {
  const job = store.jobs.require(jobId)
  const queue = o.queue ?? new JobQueue({ store, runsDir: o.runsDir ?? resolveStorePaths({ db: store.path }).runsDir })
  return queue.cancel(job.id)
}

export type CancelResult = { place: 'local'; job: Job } | { place: 'cluster'; clusterJob: ClusterJob }

/**
 * Cancel a run wherever it runs (`skipbench runs cancel`, the app): the one path for every caller. On a Slurm
 * cluster its job is scancelled and polled once (the run becomes cancelled once Slurm says so, its folder collected);
 * here, cancelJob.
 */
export async function cancelRun(store: Store, idOrUid: string | number, o: { runsDir?: string; queue?: JobQueue; cluster?: ClusterManager } = {}): Promise<CancelResult> {
  const { run } = showRunRef(store, idOrUid)
  if (runPlace(store, run.id) === 'cluster') {
    const m = o.cluster ?? new ClusterManager({ store, runsDir: o.runsDir ?? resolveStorePaths({ db: store.path }).runsDir })
    const j = await m.cancel(run.id)
    await m.poll()
    return { place: 'cluster', clusterJob: store.clusters.job(j.id)! }
  }
  return { place: 'local', job: cancelJob(store, trainJobOfRun(store, idOrUid).job.id, o) }
}

function showRunRef(store: Store, idOrUid: string | number): { run: Run } {
  return { run: showRun(store, idOrUid).run }
}
