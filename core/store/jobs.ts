/** The jobs table (SQL only; the scheduling logic is core/jobs/queue.ts, which takes this as its JobStore). */
import { NotFoundError } from './errors.js'
import type { SqliteDatabase } from './open.js'
import { parseJson, StatementCache, type Statement } from './sql.js'
import { nowIso, type Job, type JobKind, type JobStatus, type JsonObject } from './types.js'

interface JobRow {
  id: number
  kind: JobKind
  status: JobStatus
  payload: string
  run_id: number | null
  priority: number
  attempts: number
  max_attempts: number
  resume_from: string | null
  pid: number | null
  host: string | null
  error: string | null
  created_at: string
  updated_at: string
  started_at: string | null
  ended_at: string | null
}

const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  payload: parseJson<JsonObject>(r.payload, {}),
  runId: r.run_id,
  priority: r.priority,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  resumeFrom: r.resume_from,
  pid: r.pid,
  host: r.host,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
})

export interface NewJob {
  kind: JobKind
  payload: JsonObject
  runId?: number | null
  /** higher runs first; default 0 */
  priority?: number
  /** automatic attempts after a crash (a worker dying without reporting); default 1 = no automatic retry */
  maxAttempts?: number
  resumeFrom?: string | null
}

export type JobPatch = Partial<Pick<Job, 'status' | 'payload' | 'runId' | 'priority' | 'attempts' | 'maxAttempts' | 'resumeFrom' | 'pid' | 'host' | 'error' | 'startedAt' | 'endedAt'>>

const PATCH_COLUMNS: Record<keyof JobPatch, string> = {
  status: 'status',
  payload: 'payload',
  runId: 'run_id',
  priority: 'priority',
  attempts: 'attempts',
  maxAttempts: 'max_attempts',
  resumeFrom: 'resume_from',
  pid: 'pid',
  host: 'host',
  error: 'error',
  startedAt: 'started_at',
  endedAt: 'ended_at',
}

export class JobsRepository {
  private readonly s: Record<'insert' | 'byId' | 'next' | 'claim' | 'countActive' | 'list' | 'listAll' | 'remove' | 'byRun', Statement>
  private readonly dynamic: StatementCache

  constructor(private readonly db: SqliteDatabase) {
    this.dynamic = new StatementCache(db, 16)
    this.s = {
      insert: db.prepare(`INSERT INTO jobs (kind, status, payload, run_id, priority, max_attempts, resume_from)
        VALUES (@kind, 'queued', @payload, @run_id, @priority, @max_attempts, @resume_from) RETURNING *`),
      byId: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      next: db.prepare(`SELECT * FROM jobs WHERE status = 'queued' AND kind = ? ORDER BY priority DESC, id LIMIT 1`),
      claim: db.prepare(`UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = @now, ended_at = NULL, error = NULL,
          pid = NULL, host = @host, updated_at = @now WHERE id = @id AND status = 'queued' RETURNING *`),
      countActive: db.prepare(`SELECT count(*) FROM jobs WHERE kind = ? AND status IN ('running', 'pausing', 'cancelling')`).pluck(),
      list: db.prepare(`SELECT * FROM jobs WHERE status IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?`),
      listAll: db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?'),
      remove: db.prepare('DELETE FROM jobs WHERE id = ?'),
      byRun: db.prepare('SELECT * FROM jobs WHERE run_id = ? ORDER BY id'),
    }
  }

  enqueue(j: NewJob): Job {
    return toJob(
      this.s.insert.get({
        kind: j.kind,
        payload: JSON.stringify(j.payload),
        run_id: j.runId ?? null,
        priority: j.priority ?? 0,
        max_attempts: j.maxAttempts ?? 1,
        resume_from: j.resumeFrom ?? null,
      }) as JobRow,
    )
  }

  get(id: number): Job | null {
    const r = this.s.byId.get(id) as JobRow | undefined
    return r ? toJob(r) : null
  }

  require(id: number): Job {
    const j = this.get(id)
    if (!j) throw new NotFoundError(`job ${id}`)
    return j
  }

  /** Atomically take the next queued job of `kind` (highest priority, then oldest) and mark it running. */
  claimNext(kind: JobKind, host: string): Job | null {
    return this.db.transaction(() => {
      const r = this.s.next.get(kind) as JobRow | undefined
      if (!r) return null
      return toJob(this.s.claim.get({ id: r.id, host, now: nowIso() }) as JobRow)
    }).immediate()
  }

  countActive(kind: JobKind): number {
    return this.s.countActive.get(kind) as number
  }

  update(id: number, patch: JobPatch): Job {
    const sets: string[] = []
    const params: Record<string, unknown> = { id, now: nowIso() }
    for (const [k, col] of Object.entries(PATCH_COLUMNS) as [keyof JobPatch, string][]) {
      const v = patch[k]
      if (v === undefined) continue
      sets.push(`${col} = @${col}`)
      params[col] = k === 'payload' ? JSON.stringify(v) : v
    }
    const r = this.dynamic.get(`UPDATE jobs SET ${sets.concat('updated_at = @now').join(', ')} WHERE id = @id RETURNING *`).get(params) as JobRow | undefined
    if (!r) throw new NotFoundError(`job ${id}`)
    return toJob(r)
  }

  list(opts: { status?: JobStatus[]; limit?: number } = {}): Job[] {
    const limit = opts.limit ?? 1000
    const rows = opts.status?.length ? this.s.list.all(JSON.stringify(opts.status), limit) : this.s.listAll.all(limit)
    return (rows as JobRow[]).map(toJob)
  }

  /** Jobs that trained or evaluated a run, oldest first. */
  forRun(runId: number): Job[] {
    return (this.s.byRun.all(runId) as JobRow[]).map(toJob)
  }

  remove(id: number): boolean {
    return this.s.remove.run(id).changes > 0
  }
}
