import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MigrationHashMismatchError, NotASkipbenchDatabaseError, SchemaTooNewError, StoreError } from './errors.js'
import { LATEST_SCHEMA_VERSION, migrate, migrationHash, schemaVersion } from './migrate.js'
import { MIGRATIONS, type Migration } from './migrations/index.js'
import { openDatabase } from './open.js'
import { openStore } from './store.js'
import { tempDir, type TempDir } from './test-helpers.js'

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

let tmp: TempDir
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

describe('migrate', () => {
  it('creates the latest schema from an empty file, with pragmas, user_version and a hash per step', () => {
    const path = tmp.file('a.db')
    const store = openStore(path)
    expect(store.migration).toMatchObject({ from: 0, to: LATEST_SCHEMA_VERSION, applied: MIGRATIONS.map((m) => m.version), backupPath: null })
    expect(schemaVersion(store.db)).toBe(LATEST_SCHEMA_VERSION)
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1) // NORMAL
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000)
    const ledger = store.db.prepare('SELECT version, name, hash FROM schema_migrations ORDER BY version').all()
    expect(ledger).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, hash: migrationHash(m) })))
    store.close()
    // reopening applies nothing and makes no backup
    const again = openStore(path)
    expect(again.migration).toMatchObject({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] })
    again.close()
    expect(readdirSync(tmp.path).filter((f) => f.endsWith('.bak'))).toEqual([])
  })

  it('keeps migration versions strictly increasing', () => {
    const versions = MIGRATIONS.map((m) => m.version)
    expect(versions).toEqual([...versions].sort((a, b) => a - b))
    expect(new Set(versions).size).toBe(versions.length)
    for (const v of versions) expect(v % 10).toBe(0)
    const db = openDatabase(':memory:')
    expect(() => migrate(db, { migrations: [MIGRATIONS[1]!, MIGRATIONS[0]!] })).toThrow(/greater than the previous/)
    db.close()
  })

  it('refuses a database from the future cleanly, without touching the file', () => {
    const path = tmp.file('future.db')
    openStore(path).close()
    const raw = new Database(path)
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1000}`)
    raw.close()
    const before = sha(path)
    let err: unknown
    try {
      openStore(path)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SchemaTooNewError)
    expect(err).toBeInstanceOf(StoreError)
    const e = err as SchemaTooNewError
    expect(e.dbVersion).toBe(LATEST_SCHEMA_VERSION + 1000)
    expect(e.codeVersion).toBe(LATEST_SCHEMA_VERSION)
    expect(e.message).toMatch(/newer than this skipbench understands.*upgrade skipbench/)
    expect(sha(path)).toBe(before)
  })

  it('refuses a database whose applied migration SQL changed', () => {
    const path = tmp.file('edited.db')
    openStore(path).close()
    const edited: Migration[] = MIGRATIONS.map((m, i) => (i === 1 ? { ...m, sql: m.sql + '\n-- edited' } : m))
    const db = openDatabase(path)
    expect(() => migrate(db, { migrations: edited })).toThrow(MigrationHashMismatchError)
    db.close()
  })

  it('refuses a foreign SQLite database', () => {
    const path = tmp.file('other.db')
    const raw = new Database(path)
    raw.exec('CREATE TABLE something (x)')
    raw.close()
    expect(() => openStore(path)).toThrow(NotASkipbenchDatabaseError)
  })

  it('a failing step leaves the database exactly as it was (one transaction)', () => {
    const path = tmp.file('fail.db')
    const db = openDatabase(path)
    migrate(db, { target: 20 })
    db.prepare(`INSERT INTO runs (uid, name, kind, status, config) VALUES ('u', 'r', 'dense', 'completed', '{}')`).run()
    const broken: Migration[] = [...MIGRATIONS.slice(0, 3), { version: 35, name: 'ok-step', sql: 'CREATE TABLE t1 (x)' }, { version: 45, name: 'broken', sql: 'CREATE TABLE oops (' }]
    expect(() => migrate(db, { migrations: broken })).toThrow(/migration 45 \(broken\) failed/)
    expect(schemaVersion(db)).toBe(20)
    expect(db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name IN ('jobs', 't1')`).pluck().get()).toBe(0)
    expect(db.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(1)
    db.close()
  })

  for (const start of MIGRATIONS.slice(0, -1).map((m) => m.version)) {
    it(`migrates a populated database from version ${start} to the latest, keeping a backup`, () => {
      const path = tmp.file(`from-${start}.db`)
      const db = openDatabase(path)
      migrate(db, { target: start })
      expect(schemaVersion(db)).toBe(start)
      // data that every schema since 0010 can hold
      db.exec(`INSERT INTO experiments (name) VALUES ('exp');
        INSERT INTO runs (uid, name, experiment_id, kind, status, config, dataset) VALUES
          ('u1', 'one', 1, 'gated', 'completed', '{"model":{"dim":16}}', 'tiny-shakespeare'),
          ('u2', 'two', NULL, 'dense', 'failed', '{"model":{"dim":32}}', NULL);
        INSERT INTO metric_keys (key) VALUES ('train/loss'), ('val/loss');
        INSERT INTO metrics (run_id, key_id, step, value) VALUES (1, 1, 1, 3.0), (1, 1, 2, 2.0), (1, 1, 3, 2.5), (1, 2, 2, 2.7), (2, 1, 1, 4.0);
        INSERT INTO checkpoints (run_id, step, path) VALUES (1, 2, '/runs/u1/checkpoints/step-000002');`)
      // from 0020 on, the writer links datasets itself (RunsRepository does)
      if (start >= 20) db.exec(`INSERT INTO datasets (name) VALUES ('tiny-shakespeare'); UPDATE runs SET dataset_id = 1 WHERE uid = 'u1';`)
      // from 0040 on, the writer maintains the summaries itself (MetricsRepository does)
      if (start >= 40)
        db.exec(`INSERT INTO metric_summaries (run_id, key_id, count, first_step, last_step, last_value, min_value, min_step, max_value) VALUES
          (1, 1, 3, 1, 3, 2.5, 2, 2, 3), (1, 2, 1, 2, 2, 2.7, 2.7, 2, 2.7), (2, 1, 1, 1, 1, 4, 4, 1, 4);`)
      db.close()

      const store = openStore(path)
      expect(store.migration!.from).toBe(start)
      expect(store.migration!.to).toBe(LATEST_SCHEMA_VERSION)
      const backup = store.migration!.backupPath!
      expect(existsSync(backup)).toBe(true)
      const old = new Database(backup, { readonly: true })
      expect(old.pragma('user_version', { simple: true })).toBe(start)
      expect(old.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(5)
      old.close()

      // nothing lost
      expect(store.runs.byUid('u1')).toMatchObject({ name: 'one', kind: 'gated', experimentId: 1, config: { model: { dim: 16 } } })
      expect(store.metrics.series(1, 'train/loss').values).toEqual([3, 2, 2.5])
      expect(store.checkpoints.list(1)).toHaveLength(1)
      // 0020: datasets backfilled from run names
      expect(store.datasets.list().map((d) => d.name)).toEqual(['tiny-shakespeare'])
      expect(store.runs.byUid('u1')!.datasetId).toBe(store.datasets.byName('tiny-shakespeare')!.id)
      // 0040: summaries backfilled from the metrics
      expect(store.metrics.summaries(1)).toEqual([
        { key: 'train/loss', count: 3, firstStep: 1, lastStep: 3, lastValue: 2.5, minValue: 2, minStep: 2, maxValue: 3 },
        { key: 'val/loss', count: 1, firstStep: 2, lastStep: 2, lastValue: 2.7, minValue: 2.7, minStep: 2, maxValue: 2.7 },
      ])
      const list = store.runs.list({ sort: { metric: 'train/loss', agg: 'min', dir: 'asc' } })
      expect(list.rows.map((r) => [r.uid, r.summaries['train/loss']!.min])).toEqual([
        ['u1', 2],
        ['u2', 4],
      ])
      // 0060: provenance and rerun_of default to empty
      expect(store.runs.byUid('u1')).toMatchObject({ provenance: {}, rerunOf: null })
      // the new tables work
      const job = store.jobs.enqueue({ kind: 'train', payload: { a: 1 }, runId: 1 })
      expect(store.jobs.get(job.id)!.status).toBe('queued')
      expect(store.db.pragma('foreign_key_check')).toEqual([])
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok')
      store.close()
    })
  }

  it('backs up into backupDir when asked', () => {
    const path = tmp.file('b.db')
    const db = openDatabase(path)
    migrate(db, { target: 10 })
    db.close()
    writeFileSync(tmp.file('marker'), '')
    const store = openStore(path, { migrate: { backupDir: tmp.path } })
    expect(store.migration!.backupPath).toMatch(/b\.db\.v10-.*\.bak$/)
    store.close()
  })
})
