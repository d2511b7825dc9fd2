/** Log lines (of runs and jobs) and job events (the job's state history). */
import type { SqliteDatabase } from './open.js'
import { parseJson, type Statement } from './sql.js'
import type { JobEvent, JsonObject, LogLevel, LogLine } from './types.js'

interface LogRow {
  id: number
  run_id: number | null
  job_id: number | null
  at: string
  level: LogLevel
  message: string
}
interface EventRow {
  id: number
  job_id: number
  at: string
  type: string
  data: string
}

export interface NewLogLine {
  runId?: number | null
  jobId?: number | null
  level: LogLevel
  message: string
  /** ISO time; default now */
  at?: string
}

export class LogsRepository {
  private readonly s: Record<'log' | 'logsOfRun' | 'logsOfJob' | 'tailOfRun' | 'event' | 'eventsOfJob', Statement>

  constructor(db: SqliteDatabase) {
    this.s = {
      log: db.prepare(`INSERT INTO log_lines (run_id, job_id, at, level, message)
        VALUES (@run, @job, coalesce(@at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), @level, @message)`),
      logsOfRun: db.prepare('SELECT * FROM log_lines WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?'),
      logsOfJob: db.prepare('SELECT * FROM log_lines WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?'),
      tailOfRun: db.prepare('SELECT * FROM (SELECT * FROM log_lines WHERE run_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id'),
      event: db.prepare('INSERT INTO job_events (job_id, type, data) VALUES (?, ?, ?)'),
      eventsOfJob: db.prepare('SELECT * FROM job_events WHERE job_id = ? ORDER BY id'),
    }
  }

  add(l: NewLogLine): void {
    this.s.log.run({ run: l.runId ?? null, job: l.jobId ?? null, at: l.at ?? null, level: l.level, message: l.message })
  }

  /** Lines of a run (or job) after id `afterId` (for tailing), oldest first. */
  forRun(runId: number, opts: { afterId?: number; limit?: number } = {}): LogLine[] {
    return (this.s.logsOfRun.all(runId, opts.afterId ?? 0, opts.limit ?? 1000) as LogRow[]).map(toLog)
  }

  /** The newest `n` lines of a run, oldest first. */
  tailOfRun(runId: number, n: number): LogLine[] {
    return (this.s.tailOfRun.all(runId, n) as LogRow[]).map(toLog)
  }

  forJob(jobId: number, opts: { afterId?: number; limit?: number } = {}): LogLine[] {
    return (this.s.logsOfJob.all(jobId, opts.afterId ?? 0, opts.limit ?? 1000) as LogRow[]).map(toLog)
  }

  event(jobId: number, type: string, data: JsonObject = {}): void {
    this.s.event.run(jobId, type, JSON.stringify(data))
  }

  events(jobId: number): JobEvent[] {
    return (this.s.eventsOfJob.all(jobId) as EventRow[]).map((r) => ({ id: r.id, jobId: r.job_id, at: r.at, type: r.type, data: parseJson<JsonObject>(r.data, {}) }))
  }
}

const toLog = (r: LogRow): LogLine => ({ id: r.id, runId: r.run_id, jobId: r.job_id, at: r.at, level: r.level, message: r.message })
