/** Runs: one row per training run (the full resolved config, provenance, status), list queries and diffs. */
import { randomUUID } from 'node:crypto'
import { diffObjects, type DiffField } from './diff.js'
import { checkConfigPath, compileFilter } from './filter.js'
import { NotFoundError, StoreError } from './errors.js'
import type { MetricsRepository } from './metrics.js'
import type { SqliteDatabase } from './open.js'
import { parseJson, StatementCache, type Statement } from './sql.js'
import { nowIso, type JsonObject, type NewRun, type Run, type RunKind, type RunPatch, type RunStatus } from './types.js'

interface RunRow {
  id: number
  uid: string
  name: string
  experiment_id: number | null
  kind: RunKind
  status: RunStatus
  config: string
  seed: number | null
  engine: string | null
  backend: string | null
  versions: string
  dataset: string | null
  dataset_id: number | null
  run_dir: string | null
  started_at: string | null
  ended_at: string | null
  last_step: number
  tokens_per_sec: number | null
  notes: string
  tags: string
  error: string | null
  created_at: string
  updated_at: string
  provenance: string | null
  rerun_of: number | null
}

const toRun = (r: RunRow): Run => ({
  id: r.id,
  uid: r.uid,
  name: r.name,
  experimentId: r.experiment_id,
  kind: r.kind,
  status: r.status,
  config: parseJson<JsonObject>(r.config, {}),
  seed: r.seed,
  engine: r.engine,
  backend: r.backend,
  versions: parseJson<Record<string, string>>(r.versions, {}),
  dataset: r.dataset,
  datasetId: r.dataset_id,
  runDir: r.run_dir,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  lastStep: r.last_step,
  tokensPerSec: r.tokens_per_sec,
  notes: r.notes,
  tags: parseJson<string[]>(r.tags, []),
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  provenance: parseJson<JsonObject>(r.provenance, {}),
  rerunOf: r.rerun_of ?? null,
})

/** Columns a run list can be sorted by (besides metric summaries). */
const RUN_SORT_COLUMNS = ['id', 'name', 'status', 'kind', 'created_at', 'started_at', 'ended_at', 'last_step', 'tokens_per_sec', 'experiment'] as const
export type RunSortColumn = (typeof RUN_SORT_COLUMNS)[number]
export type SummaryAgg = 'last' | 'min' | 'max'

export interface RunListQuery {
  ids?: number[]
  /** a number: that experiment; null: runs in no experiment */
  experimentId?: number | null
  status?: RunStatus[]
  kind?: RunKind
  dataset?: string
  engine?: string
  /** runs carrying ALL these tags */
  tags?: string[]
  /** substring of name, uid or notes (case-insensitive for ASCII) */
  search?: string
  /** config fields by dotted path, e.g. { 'model.dim': 32, 'model.zero_init_masks': false } */
  configEquals?: Record<string, string | number | boolean | null>
  /** the filter language (core/store/filter.ts), e.g. 'model.n_layers >= 8 and val.loss < 2.1 and tag:baseline' */
  where?: string
  /** a config path (model.n_layers): each row's value comes back as `group` */
  groupBy?: string
  /** metric keys to summarise per run (last, min, max, steps); default ['train/loss', 'val/loss'] */
  summaries?: string[]
  /** default { by: 'id', dir: 'desc' }; a metric sort must name a key in `summaries` (added if missing) */
  sort?: { by: RunSortColumn; dir?: 'asc' | 'desc' } | { metric: string; agg: SummaryAgg; dir?: 'asc' | 'desc' }
  /** default 100, at most 10,000 */
  limit?: number
  offset?: number
}

export interface RunSummaryValue {
  last: number | null
  lastStep: number | null
  min: number | null
  minStep: number | null
  max: number | null
  count: number
}

/** A run-list row: the run without its config (which can be large), plus metric summaries. */
export interface RunListRow extends Omit<Run, 'config'> {
  experiment: string | null
  /** the value of `groupBy` in the run's config (JSON text for objects; null when absent) */
  group?: string | number | null
  summaries: Record<string, RunSummaryValue>
}

export interface RunListResult {
  /** matching runs before limit/offset */
  total: number
  rows: RunListRow[]
}

export interface RunDiff {
  runs: { id: number; uid: string; name: string }[]
  /** differing fields: config paths, plus run.* (kind, seed, engine, backend, dataset, versions.*) */
  fields: DiffField[]
}

const LIST_COLUMNS = `r.id, r.uid, r.name, r.experiment_id, r.kind, r.status, NULL AS config, r.seed, r.engine, r.backend, r.versions,
  r.dataset, r.dataset_id, r.run_dir, r.started_at, r.ended_at, r.last_step, r.tokens_per_sec, r.notes, r.tags, r.error,
  r.created_at, r.updated_at, NULL AS provenance, r.rerun_of, e.name AS experiment`

const SORT_SQL: Record<RunSortColumn, string> = {
  id: 'r.id',
  name: 'r.name',
  status: 'r.status',
  kind: 'r.kind',
  created_at: 'r.created_at',
  started_at: 'r.started_at',
  ended_at: 'r.ended_at',
  last_step: 'r.last_step',
  tokens_per_sec: 'r.tokens_per_sec',
  experiment: 'e.name',
}

const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  name: 'name',
  experimentId: 'experiment_id',
  kind: 'kind',
  status: 'status',
  config: 'config',
  seed: 'seed',
  engine: 'engine',
  backend: 'backend',
  versions: 'versions',
  dataset: 'dataset',
  datasetId: 'dataset_id',
  runDir: 'run_dir',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  tokensPerSec: 'tokens_per_sec',
  notes: 'notes',
  tags: 'tags',
  error: 'error',
  provenance: 'provenance',
  rerunOf: 'rerun_of',
}
const JSON_PATCH = new Set<keyof RunPatch>(['config', 'versions', 'tags', 'provenance'])

function bindRun(r: NewRun) {
  return {
    uid: r.uid ?? randomUUID(),
    name: r.name,
    experiment_id: r.experimentId ?? null,
    kind: r.kind,
    status: r.status ?? 'queued',
    config: JSON.stringify(r.config),
    seed: r.seed ?? null,
    engine: r.engine ?? null,
    backend: r.backend ?? null,
    versions: JSON.stringify(r.versions ?? {}),
    dataset: r.dataset ?? null,
    dataset_id: r.datasetId ?? null,
    run_dir: r.runDir ?? null,
    started_at: r.startedAt ?? null,
    ended_at: r.endedAt ?? null,
    tokens_per_sec: r.tokensPerSec ?? null,
    notes: r.notes ?? '',
    tags: JSON.stringify(r.tags ?? []),
    error: r.error ?? null,
    provenance: JSON.stringify(r.provenance ?? {}),
    rerun_of: r.rerunOf ?? null,
  }
}

export class RunsRepository {
  private readonly s: Record<'insert' | 'byId' | 'byUid' | 'remove' | 'setStatus' | 'statusCounts' | 'datasetId', Statement>
  private readonly dynamic: StatementCache

  constructor(
    private readonly db: SqliteDatabase,
    private readonly metrics: MetricsRepository,
  ) {
    this.dynamic = new StatementCache(db)
    this.s = {
      insert: db.prepare(`INSERT INTO runs (uid, name, experiment_id, kind, status, config, seed, engine, backend, versions, dataset, dataset_id,
          run_dir, started_at, ended_at, tokens_per_sec, notes, tags, error, provenance, rerun_of)
        VALUES (@uid, @name, @experiment_id, @kind, @status, @config, @seed, @engine, @backend, @versions, @dataset, @dataset_id,
          @run_dir, @started_at, @ended_at, @tokens_per_sec, @notes, @tags, @error, @provenance, @rerun_of) RETURNING *`),
      byId: db.prepare('SELECT * FROM runs WHERE id = ?'),
      byUid: db.prepare('SELECT * FROM runs WHERE uid = ?'),
      remove: db.prepare('DELETE FROM runs WHERE id = ?'),
      setStatus: db.prepare(`UPDATE runs SET status = @status, error = @error, ended_at = coalesce(@ended_at, ended_at),
          started_at = coalesce(@started_at, started_at), updated_at = @now WHERE id = @id`),
      statusCounts: db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status'),
      datasetId: db.prepare('INSERT INTO datasets (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id').pluck(),
    }
  }

  /** Insert a run. A dataset given by name only is linked to its datasets row (created if missing). */
  create(r: NewRun): Run {
    const datasetId = r.datasetId !== undefined ? r.datasetId : r.dataset ? (this.s.datasetId.get(r.dataset) as number) : null
    return toRun(this.s.insert.get(bindRun({ ...r, datasetId })) as RunRow)
  }

  get(id: number): Run | null {
    const r = this.s.byId.get(id) as RunRow | undefined
    return r ? toRun(r) : null
  }

  require(id: number): Run {
    const r = this.get(id)
    if (!r) throw new NotFoundError(`run ${id}`)
    return r
  }

  byUid(uid: string): Run | null {
    const r = this.s.byUid.get(uid) as RunRow | undefined
    return r ? toRun(r) : null
  }

  /** Change fields; `undefined` leaves a field alone, `null` clears it. Returns the updated run. */
  update(id: number, patch: RunPatch): Run {
    const sets: string[] = []
    const params: Record<string, unknown> = { id, now: nowIso() }
    if (patch.dataset && patch.datasetId === undefined) patch = { ...patch, datasetId: this.s.datasetId.get(patch.dataset) as number }
    for (const [k, col] of Object.entries(PATCH_COLUMNS) as [keyof RunPatch, string][]) {
      const v = patch[k]
      if (v === undefined) continue
      sets.push(`${col} = @${col}`)
      params[col] = JSON_PATCH.has(k) && v !== null ? JSON.stringify(v) : v
    }
    if (sets.length) {
      const info = this.dynamic.get(`UPDATE runs SET ${sets.join(', ')}, updated_at = @now WHERE id = @id`).run(params)
      if (!info.changes) throw new NotFoundError(`run ${id}`)
    }
    return this.require(id)
  }

  setStatus(id: number, status: RunStatus, opts: { error?: string | null; endedAt?: string | null; startedAt?: string | null } = {}): void {
    this.s.setStatus.run({ id, status, error: opts.error ?? null, ended_at: opts.endedAt ?? null, started_at: opts.startedAt ?? null, now: nowIso() })
  }

  /** Deletes the run and (by cascade) its metrics, summaries, checkpoints rows, evaluations and logs. Files stay. */
  remove(id: number): boolean {
    return this.s.remove.run(id).changes > 0
  }

  statusCounts(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const r of this.s.statusCounts.all() as { status: string; n: number }[]) out[r.status] = r.n
    return out
  }

  /** List, filter and sort runs with metric summaries. One indexed query; fast on 10,000 runs. */
  list(q: RunListQuery = {}): RunListResult {
    const where: string[] = []
    const params: unknown[] = []
    if (q.ids) {
      if (!q.ids.length) return { total: 0, rows: [] }
      where.push(`r.id IN (SELECT value FROM json_each(?))`)
      params.push(JSON.stringify(q.ids))
    }
    if (q.experimentId === null) where.push('r.experiment_id IS NULL')
    else if (q.experimentId !== undefined) {
      where.push('r.experiment_id = ?')
      params.push(q.experimentId)
    }
    if (q.status?.length) {
      where.push(`r.status IN (${q.status.map(() => '?').join(', ')})`)
      params.push(...q.status)
    }
    if (q.kind) {
      where.push('r.kind = ?')
      params.push(q.kind)
    }
    if (q.dataset) {
      where.push('r.dataset = ?')
      params.push(q.dataset)
    }
    if (q.engine) {
      where.push('r.engine = ?')
      params.push(q.engine)
    }
    for (const t of q.tags ?? []) {
      where.push('EXISTS (SELECT 1 FROM json_each(r.tags) WHERE value = ?)')
      params.push(t)
    }
    if (q.search) {
      where.push(`(r.name LIKE ? ESCAPE '\\' OR r.uid LIKE ? ESCAPE '\\' OR r.notes LIKE ? ESCAPE '\\')`)
      const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      params.push(like, like, like)
    }
    for (const [path, value] of Object.entries(q.configEquals ?? {})) {
      if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[\d+\])*$/.test(path)) throw new StoreError(`bad config path "${path}" (use dotted names, e.g. model.dim)`)
      if (value === null) where.push(`json_type(r.config, ?) = 'null'`)
      else where.push('json_extract(r.config, ?) = ?')
      params.push(`$.${path}`)
      if (value !== null) params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value)
    }
    if (q.where?.trim()) {
      const f = compileFilter(q.where)
      where.push(f.sql)
      params.push(...f.params)
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : ''

    const keys = [...(q.summaries ?? ['train/loss', 'val/loss'])]
    const sort = q.sort ?? { by: 'id' as const, dir: 'desc' as const }
    if ('metric' in sort && !keys.includes(sort.metric)) keys.push(sort.metric)
    const joins: string[] = []
    const cols: string[] = []
    const joinParams: unknown[] = []
    keys.forEach((k, i) => {
      joins.push(`LEFT JOIN metric_summaries s${i} ON s${i}.run_id = r.id AND s${i}.key_id = ?`)
      joinParams.push(this.metrics.existingKeyId(k) ?? -1)
      cols.push(`s${i}.last_value AS s${i}_last, s${i}.last_step AS s${i}_last_step, s${i}.min_value AS s${i}_min, s${i}.min_step AS s${i}_min_step,
        s${i}.max_value AS s${i}_max, s${i}.count AS s${i}_count`)
    })
    const dir = sort.dir === 'asc' ? 'ASC' : 'DESC'
    let orderSql: string
    if ('metric' in sort) {
      const i = keys.indexOf(sort.metric)
      const col = sort.agg === 'last' ? `s${i}.last_value` : sort.agg === 'min' ? `s${i}.min_value` : `s${i}.max_value`
      orderSql = `${col} ${dir} NULLS LAST, r.id DESC`
    } else {
      const col = SORT_SQL[sort.by]
      if (!col) throw new StoreError(`cannot sort runs by "${String(sort.by)}"; use one of ${RUN_SORT_COLUMNS.join(', ')} or a metric`)
      orderSql = `${col} ${dir} NULLS LAST${sort.by === 'id' ? '' : ', r.id DESC'}`
    }
    const limit = Math.max(0, Math.min(q.limit ?? 100, 10_000))
    const offset = Math.max(0, q.offset ?? 0)

    if (q.groupBy) {
      cols.push('json_extract(r.config, ?) AS group_value')
      joinParams.unshift(`$.${checkConfigPath(q.groupBy).join('.')}`)
    }
    const total = this.dynamic.get(`SELECT count(*) FROM runs r ${whereSql}`).pluck().get(...params) as number
    const sql = `SELECT ${LIST_COLUMNS}${cols.length ? ', ' + cols.join(', ') : ''}
      FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id ${joins.join(' ')}
      ${whereSql} ORDER BY ${orderSql} LIMIT ? OFFSET ?`
    const raw = this.dynamic.get(sql).all(...joinParams, ...params, limit, offset) as (RunRow & Record<string, unknown>)[]
    const rows = raw.map((r) => {
      const { config: _c, ...run } = toRun(r)
      const summaries: Record<string, RunSummaryValue> = {}
      keys.forEach((k, i) => {
        summaries[k] = {
          last: r[`s${i}_last`] as number | null,
          lastStep: r[`s${i}_last_step`] as number | null,
          min: r[`s${i}_min`] as number | null,
          minStep: r[`s${i}_min_step`] as number | null,
          max: r[`s${i}_max`] as number | null,
          count: (r[`s${i}_count`] as number | null) ?? 0,
        }
      })
      return { ...run, experiment: (r.experiment as string | null) ?? null, summaries, ...(q.groupBy ? { group: (r.group_value as string | number | null) ?? null } : {}) }
    })
    return { total, rows }
  }

  /** The stored configs of these runs (id → config), in one query. */
  configs(ids: number[]): Map<number, JsonObject> {
    const out = new Map<number, JsonObject>()
    if (!ids.length) return out
    const rows = this.dynamic.get('SELECT id, config FROM runs WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as { id: number; config: string }[]
    for (const r of rows) out.set(r.id, parseJson<JsonObject>(r.config, {}))
    return out
  }

  /** Fields that differ between runs: config paths and run-level provenance (run.kind, run.seed, run.engine, …). */
  diff(ids: number[]): RunDiff {
    const runs = ids.map((id) => this.require(id))
    const objects = runs.map((r) => ({
      ...r.config,
      run: { kind: r.kind, seed: r.seed, engine: r.engine, backend: r.backend, dataset: r.dataset, versions: r.versions },
    }))
    return { runs: runs.map((r) => ({ id: r.id, uid: r.uid, name: r.name })), fields: diffObjects(objects) }
  }
}
