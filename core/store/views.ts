/** Saved views: named run-table states (filter, group-by, sort, brushing) per experiment (NULL: the all-runs table). */
import { NotFoundError } from './errors.js'
import type { SqliteDatabase } from './open.js'
import { parseJson, type Statement } from './sql.js'
import { nowIso, type JsonObject } from './types.js'

export interface SavedView {
  id: number
  experimentId: number | null
  name: string
  state: JsonObject
  createdAt: string
  updatedAt: string
}

interface Row {
  id: number
  experiment_id: number | null
  name: string
  state: string
  created_at: string
  updated_at: string
}
const toView = (r: Row): SavedView => ({ id: r.id, experimentId: r.experiment_id, name: r.name, state: parseJson<JsonObject>(r.state, {}), createdAt: r.created_at, updatedAt: r.updated_at })

export class ViewsRepository {
  private readonly s: Record<'list' | 'find' | 'insert' | 'update' | 'remove' | 'byId', Statement>
  constructor(db: SqliteDatabase) {
    this.s = {
      list: db.prepare('SELECT * FROM saved_views WHERE coalesce(experiment_id, 0) = coalesce(?, 0) ORDER BY name'),
      find: db.prepare('SELECT * FROM saved_views WHERE coalesce(experiment_id, 0) = coalesce(?, 0) AND name = ?'),
      insert: db.prepare('INSERT INTO saved_views (experiment_id, name, state) VALUES (?, ?, ?) RETURNING *'),
      update: db.prepare('UPDATE saved_views SET state = ?, updated_at = ? WHERE id = ? RETURNING *'),
      remove: db.prepare('DELETE FROM saved_views WHERE id = ?'),
      byId: db.prepare('SELECT * FROM saved_views WHERE id = ?'),
    }
  }

  list(experimentId: number | null): SavedView[] {
    return (this.s.list.all(experimentId) as Row[]).map(toView)
  }

  /** Create, or replace the state of the view with this name in this experiment. */
  save(experimentId: number | null, name: string, state: JsonObject): SavedView {
    const have = this.s.find.get(experimentId, name) as Row | undefined
    const r = have ? (this.s.update.get(JSON.stringify(state), nowIso(), have.id) as Row) : (this.s.insert.get(experimentId, name, JSON.stringify(state)) as Row)
    return toView(r)
  }

  get(id: number): SavedView {
    const r = this.s.byId.get(id) as Row | undefined
    if (!r) throw new NotFoundError(`saved view ${id}`)
    return toView(r)
  }

  remove(id: number): boolean {
    return this.s.remove.run(id).changes > 0
  }
}
