/** Experiments: named groups of runs with a description and tags. */
import { NotFoundError } from './errors.js'
import type { SqliteDatabase } from './open.js'
import { parseJson, type Statement } from './sql.js'
import type { Experiment, ExperimentWithCounts } from './types.js'

interface ExperimentRow {
  id: number
  name: string
  description: string
  tags: string
  created_at: string
  runs?: number
}

const toExperiment = (r: ExperimentRow): Experiment => ({
  id: r.id,
  name: r.name,
  description: r.description,
  tags: parseJson<string[]>(r.tags, []),
  createdAt: r.created_at,
})

export class ExperimentsRepository {
  private readonly s: Record<'insert' | 'byId' | 'byName' | 'list' | 'update' | 'remove', Statement>

  constructor(private readonly db: SqliteDatabase) {
    this.s = {
      insert: db.prepare('INSERT INTO experiments (name, description, tags) VALUES (@name, @description, @tags) RETURNING *'),
      byId: db.prepare('SELECT * FROM experiments WHERE id = ?'),
      byName: db.prepare('SELECT * FROM experiments WHERE name = ?'),
      list: db.prepare(`SELECT e.*, (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id) AS runs FROM experiments e ORDER BY e.name`),
      update: db.prepare(
        'UPDATE experiments SET name = coalesce(@name, name), description = coalesce(@description, description), tags = coalesce(@tags, tags) WHERE id = @id',
      ),
      remove: db.prepare('DELETE FROM experiments WHERE id = ?'),
    }
  }

  create(e: { name: string; description?: string; tags?: string[] }): Experiment {
    return toExperiment(this.s.insert.get({ name: e.name, description: e.description ?? '', tags: JSON.stringify(e.tags ?? []) }) as ExperimentRow)
  }

  /** The experiment with this name, created if missing. */
  ensure(name: string, description = ''): Experiment {
    return this.byName(name) ?? this.create({ name, description })
  }

  get(id: number): Experiment | null {
    const r = this.s.byId.get(id) as ExperimentRow | undefined
    return r ? toExperiment(r) : null
  }

  byName(name: string): Experiment | null {
    const r = this.s.byName.get(name) as ExperimentRow | undefined
    return r ? toExperiment(r) : null
  }

  list(): ExperimentWithCounts[] {
    return (this.s.list.all() as ExperimentRow[]).map((r) => ({ ...toExperiment(r), runs: r.runs ?? 0 }))
  }

  update(id: number, patch: { name?: string; description?: string; tags?: string[] }): Experiment {
    const info = this.s.update.run({ id, name: patch.name ?? null, description: patch.description ?? null, tags: patch.tags ? JSON.stringify(patch.tags) : null })
    if (!info.changes) throw new NotFoundError(`experiment ${id}`)
    return this.get(id)!
  }

  /** Deletes the experiment; its runs stay, with no experiment. */
  remove(id: number): boolean {
    return this.s.remove.run(id).changes > 0
  }
}
