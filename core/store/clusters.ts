/** Cluster profiles and the Slurm jobs of runs handed to a cluster (SQL only; the logic is core/cluster). */
import { NotFoundError } from './errors.js'
import type { SqliteDatabase } from './open.js'
import { parseJson, type Statement } from './sql.js'
import { nowIso, type JsonObject } from './types.js'

export interface ClusterRow {
  id: number
  name: string
  profile: JsonObject
  createdAt: string
  updatedAt: string
}

export type ClusterJobState = 'submitting' | 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'resubmitted'
export const ACTIVE_CLUSTER_JOB_STATES: readonly ClusterJobState[] = ['submitting', 'pending', 'running']

export interface ClusterJob {
  id: number
  runId: number
  cluster: string
  submitKey: string
  attempt: number
  state: ClusterJobState
  /** the Slurm job id of this run's job (for an array task: its own id, as squeue %A prints it) */
  jobId: string | null
  arrayJobId: string | null
  arrayIndex: number | null
  slurmState: string | null
  node: string | null
  elapsed: string | null
  exitCode: string | null
  reason: string | null
  remoteRunDir: string
  outputPath: string | null
  outputTail: string | null
  metricsOffset: number
  cancelRequested: boolean
  createdAt: string
  updatedAt: string
  endedAt: string | null
}

interface JobRow {
  id: number
  run_id: number
  cluster: string
  submit_key: string
  attempt: number
  state: ClusterJobState
  job_id: string | null
  array_job_id: string | null
  array_index: number | null
  slurm_state: string | null
  node: string | null
  elapsed: string | null
  exit_code: string | null
  reason: string | null
  remote_run_dir: string
  output_path: string | null
  output_tail: string | null
  metrics_offset: number
  cancel_requested: number
  created_at: string
  updated_at: string
  ended_at: string | null
}

const toJob = (r: JobRow): ClusterJob => ({
  id: r.id,
  runId: r.run_id,
  cluster: r.cluster,
  submitKey: r.submit_key,
  attempt: r.attempt,
  state: r.state,
  jobId: r.job_id,
  arrayJobId: r.array_job_id,
  arrayIndex: r.array_index,
  slurmState: r.slurm_state,
  node: r.node,
  elapsed: r.elapsed,
  exitCode: r.exit_code,
  reason: r.reason,
  remoteRunDir: r.remote_run_dir,
  outputPath: r.output_path,
  outputTail: r.output_tail,
  metricsOffset: r.metrics_offset,
  cancelRequested: r.cancel_requested !== 0,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  endedAt: r.ended_at,
})

export type ClusterJobPatch = Partial<
  Pick<ClusterJob, 'state' | 'jobId' | 'arrayJobId' | 'arrayIndex' | 'slurmState' | 'node' | 'elapsed' | 'exitCode' | 'reason' | 'outputPath' | 'outputTail' | 'metricsOffset' | 'cancelRequested' | 'endedAt'>
>

const PATCH: Record<keyof ClusterJobPatch, string> = {
  state: 'state',
  jobId: 'job_id',
  arrayJobId: 'array_job_id',
  arrayIndex: 'array_index',
  slurmState: 'slurm_state',
  node: 'node',
  elapsed: 'elapsed',
  exitCode: 'exit_code',
  reason: 'reason',
  outputPath: 'output_path',
  outputTail: 'output_tail',
  metricsOffset: 'metrics_offset',
  cancelRequested: 'cancel_requested',
  endedAt: 'ended_at',
}

export class ClustersRepository {
  private readonly s: Record<string, Statement>

  constructor(private readonly db: SqliteDatabase) {
    this.s = {
      upsert: db.prepare(`INSERT INTO clusters (name, profile) VALUES (?, ?)
        ON CONFLICT(name) DO UPDATE SET profile = excluded.profile, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') RETURNING *`),
      byName: db.prepare('SELECT * FROM clusters WHERE name = ?'),
      list: db.prepare('SELECT * FROM clusters ORDER BY name'),
      remove: db.prepare('DELETE FROM clusters WHERE name = ?'),
      insertJob: db.prepare(`INSERT INTO cluster_jobs (run_id, cluster, submit_key, attempt, state, remote_run_dir)
        VALUES (@run, @cluster, @key, @attempt, 'submitting', @dir) RETURNING *`),
      jobById: db.prepare('SELECT * FROM cluster_jobs WHERE id = ?'),
      jobsOfRun: db.prepare('SELECT * FROM cluster_jobs WHERE run_id = ? ORDER BY id'),
      latestOfRun: db.prepare('SELECT * FROM cluster_jobs WHERE run_id = ? ORDER BY id DESC LIMIT 1'),
      active: db.prepare(`SELECT * FROM cluster_jobs WHERE state IN ('submitting', 'pending', 'running') ORDER BY id`),
      activeOf: db.prepare(`SELECT * FROM cluster_jobs WHERE cluster = ? AND state IN ('submitting', 'pending', 'running') ORDER BY id`),
      latestForRuns: db.prepare(`SELECT * FROM cluster_jobs WHERE id IN (SELECT max(id) FROM cluster_jobs WHERE run_id IN (SELECT value FROM json_each(?)) GROUP BY run_id)`),
    }
  }

  private toCluster(r: { id: number; name: string; profile: string; created_at: string; updated_at: string }): ClusterRow {
    return { id: r.id, name: r.name, profile: parseJson<JsonObject>(r.profile, {}), createdAt: r.created_at, updatedAt: r.updated_at }
  }

  /** Add or replace the profile called `name`. */
  save(name: string, profile: JsonObject): ClusterRow {
    return this.toCluster(this.s.upsert!.get(name, JSON.stringify(profile)) as never)
  }

  get(name: string): ClusterRow | null {
    const r = this.s.byName!.get(name)
    return r ? this.toCluster(r as never) : null
  }

  require(name: string): ClusterRow {
    const c = this.get(name)
    if (!c) throw new NotFoundError(`cluster "${name}" (add it with: skipbench cluster add ${name} --slurm --workdir DIR)`)
    return c
  }

  list(): ClusterRow[] {
    return (this.s.list!.all() as never[]).map((r) => this.toCluster(r))
  }

  remove(name: string): boolean {
    return this.s.remove!.run(name).changes > 0
  }

  addJob(j: { runId: number; cluster: string; submitKey: string; attempt: number; remoteRunDir: string }): ClusterJob {
    return toJob(this.s.insertJob!.get({ run: j.runId, cluster: j.cluster, key: j.submitKey, attempt: j.attempt, dir: j.remoteRunDir }) as JobRow)
  }

  job(id: number): ClusterJob | null {
    const r = this.s.jobById!.get(id) as JobRow | undefined
    return r ? toJob(r) : null
  }

  jobsOfRun(runId: number): ClusterJob[] {
    return (this.s.jobsOfRun!.all(runId) as JobRow[]).map(toJob)
  }

  /** The run's current (newest) Slurm job, or null for a run that never went to a cluster. */
  latestOfRun(runId: number): ClusterJob | null {
    const r = this.s.latestOfRun!.get(runId) as JobRow | undefined
    return r ? toJob(r) : null
  }

  /** The newest Slurm job of each of these runs (runs without one are absent). */
  latestForRuns(runIds: number[]): Map<number, ClusterJob> {
    const m = new Map<number, ClusterJob>()
    if (!runIds.length) return m
    for (const r of this.s.latestForRuns!.all(JSON.stringify(runIds)) as JobRow[]) m.set(r.run_id, toJob(r))
    return m
  }

  active(cluster?: string): ClusterJob[] {
    return ((cluster ? this.s.activeOf!.all(cluster) : this.s.active!.all()) as JobRow[]).map(toJob)
  }

  updateJob(id: number, patch: ClusterJobPatch): ClusterJob {
    const sets: string[] = []
    const params: Record<string, unknown> = { id, now: nowIso() }
    for (const [k, col] of Object.entries(PATCH) as [keyof ClusterJobPatch, string][]) {
      const v = patch[k]
      if (v === undefined) continue
      sets.push(`${col} = @${col}`)
      params[col] = typeof v === 'boolean' ? (v ? 1 : 0) : v
    }
    const r = this.db.prepare(`UPDATE cluster_jobs SET ${sets.concat('updated_at = @now').join(', ')} WHERE id = @id RETURNING *`).get(params) as JobRow | undefined
    if (!r) throw new NotFoundError(`cluster job ${id}`)
    return toJob(r)
  }
}
