/** Checkpoint rows: where a run's checkpoint folders are, and whether each is still usable. */
import type { SqliteDatabase } from './open.js'
import { bool, type Statement } from './sql.js'
import type { Checkpoint, NewCheckpoint } from './types.js'

interface CheckpointRow {
  id: number
  run_id: number
  step: number
  path: string
  final: number
  bytes: number | null
  valid: number
  problem: string | null
  created_at: string
}

const toCheckpoint = (r: CheckpointRow): Checkpoint => ({
  id: r.id,
  runId: r.run_id,
  step: r.step,
  path: r.path,
  final: bool(r.final),
  bytes: r.bytes,
  valid: bool(r.valid),
  problem: r.problem,
  createdAt: r.created_at,
})

export class CheckpointsRepository {
  private readonly s: Record<'upsert' | 'list' | 'latestValid' | 'markInvalid' | 'byId' | 'byPath', Statement>

  constructor(db: SqliteDatabase) {
    this.s = {
      // re-recording a folder (a new checkpoint written under the same name) makes it valid again
      upsert: db.prepare(`INSERT INTO checkpoints (run_id, step, path, final, bytes) VALUES (@run, @step, @path, @final, @bytes)
        ON CONFLICT (run_id, path) DO UPDATE SET step = excluded.step, final = excluded.final, bytes = coalesce(excluded.bytes, bytes),
          valid = 1, problem = NULL
        WHERE step IS NOT excluded.step OR final IS NOT excluded.final OR valid = 0 OR (excluded.bytes IS NOT NULL AND bytes IS NOT excluded.bytes)
        RETURNING *`),
      list: db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, final, id'),
      latestValid: db.prepare('SELECT * FROM checkpoints WHERE run_id = ? AND valid = 1 AND step <= ? ORDER BY step DESC, final DESC, id DESC LIMIT 1'),
      markInvalid: db.prepare('UPDATE checkpoints SET valid = 0, problem = ? WHERE id = ?'),
      byId: db.prepare('SELECT * FROM checkpoints WHERE id = ?'),
      byPath: db.prepare('SELECT * FROM checkpoints WHERE run_id = ? AND path = ?'),
    }
  }

  /** Record (or refresh) a checkpoint folder of a run. Idempotent. */
  record(runId: number, c: NewCheckpoint): Checkpoint {
    const r = this.s.upsert.get({ run: runId, step: c.step, path: c.path, final: c.final ? 1 : 0, bytes: c.bytes ?? null }) as CheckpointRow | undefined
    return toCheckpoint(r ?? (this.s.byPath.get(runId, c.path) as CheckpointRow))
  }

  list(runId: number): Checkpoint[] {
    return (this.s.list.all(runId) as CheckpointRow[]).map(toCheckpoint)
  }

  /** The newest checkpoint not known to be bad (optionally at or before `maxStep`). */
  latestValid(runId: number, maxStep = Number.MAX_SAFE_INTEGER): Checkpoint | null {
    const r = this.s.latestValid.get(runId, maxStep) as CheckpointRow | undefined
    return r ? toCheckpoint(r) : null
  }

  get(id: number): Checkpoint | null {
    const r = this.s.byId.get(id) as CheckpointRow | undefined
    return r ? toCheckpoint(r) : null
  }

  byPath(runId: number, path: string): Checkpoint | null {
    const r = this.s.byPath.get(runId, path) as CheckpointRow | undefined
    return r ? toCheckpoint(r) : null
  }

  markInvalid(id: number, problem: string): void {
    this.s.markInvalid.run(problem, id)
  }
}
