/**
 * Schema migrations (style rule 11): numbered steps (migrations/0010-….ts, multiples of 10), PRAGMA user_version
 * holds the newest applied step, schema_migrations holds a sha256 per applied step.
 *
 * migrate():
 * 1. asserts the steps are strictly increasing;
 * 2. refuses a database from the future (SchemaTooNewError) and a foreign database (NotASkipbenchDatabaseError)
 *    before touching the file;
 * 3. checks that every applied step still has the SQL it was applied with (MigrationHashMismatchError);
 * 4. copies a non-empty database (VACUUM INTO `<db>.v<from>-<time>.bak`) before changing it;
 * 5. applies all pending steps in ONE transaction (a failure leaves the file exactly as it was), sets user_version,
 *    records the hashes, then runs PRAGMA optimize.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { MigrationHashMismatchError, NotASkipbenchDatabaseError, SchemaTooNewError, StoreError } from './errors.js'
import { MIGRATIONS, type Migration } from './migrations/index.js'
import type { SqliteDatabase } from './open.js'

export interface MigrateOptions {
  /** the steps to apply (tests pass a prefix or an extra step); default MIGRATIONS */
  migrations?: readonly Migration[]
  /** stop after this version (tests build earlier schemas); default the newest */
  target?: number
  /** copy a non-empty database before migrating it; default true (ignored for in-memory databases) */
  backup?: boolean
  /** where backups go; default beside the database */
  backupDir?: string
}

export interface MigrateResult {
  from: number
  to: number
  applied: number[]
  /** path of the copy made before migrating, or null (nothing to migrate, an empty or in-memory database) */
  backupPath: string | null
}

export const migrationHash = (m: Migration): string => createHash('sha256').update(`${m.version}\n${m.name}\n${m.sql}`).digest('hex')

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

function assertMonotonic(migrations: readonly Migration[]): void {
  let prev = 0
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= prev)
      throw new StoreError(`migration ${m.name}: version ${m.version} must be an integer greater than the previous (${prev})`)
    prev = m.version
  }
}

export function schemaVersion(db: SqliteDatabase): number {
  return db.pragma('user_version', { simple: true }) as number
}

function dbPath(db: SqliteDatabase): string {
  return db.name || ':memory:'
}

const isMemory = (db: SqliteDatabase) => db.memory || db.name === '' || db.name === ':memory:'

export function migrate(db: SqliteDatabase, opts: MigrateOptions = {}): MigrateResult {
  const migrations = opts.migrations ?? MIGRATIONS
  assertMonotonic(migrations)
  const path = dbPath(db)
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0
  const target = opts.target ?? latest
  const from = schemaVersion(db)

  if (from > latest) throw new SchemaTooNewError(path, from, latest)
  if (from === 0) {
    const tables = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`).all() as { name: string }[])
      .map((r) => r.name)
      .filter((n) => n !== 'schema_migrations')
    if (tables.length) throw new NotASkipbenchDatabaseError(path, tables)
  } else if (!migrations.some((m) => m.version === from)) {
    throw new StoreError(`${path}: database schema version ${from} is not one of this skipbench's migrations (${migrations.map((m) => m.version).join(', ')})`)
  }

  // applied steps must be unchanged
  const hasLedger = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).get() !== undefined
  if (hasLedger) {
    const rows = db.prepare('SELECT version, hash FROM schema_migrations ORDER BY version').all() as { version: number; hash: string }[]
    for (const r of rows) {
      const m = migrations.find((x) => x.version === r.version)
      const current = m ? migrationHash(m) : '(missing from the code)'
      if (current !== r.hash) throw new MigrationHashMismatchError(path, r.version, r.hash, current)
    }
  } else if (from > 0) {
    throw new StoreError(`${path}: schema version ${from} but no schema_migrations table: the file was changed outside skipbench`)
  }

  const pending = migrations.filter((m) => m.version > from && m.version <= target)
  if (!pending.length) return { from, to: from, applied: [], backupPath: null }

  let backupPath: string | null = null
  if (from > 0 && (opts.backup ?? true) && !isMemory(db)) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    const dir = opts.backupDir ?? dirname(path)
    let candidate = join(dir, `${basename(path)}.v${from}-${stamp}.bak`)
    for (let i = 1; existsSync(candidate); i++) candidate = join(dir, `${basename(path)}.v${from}-${stamp}-${i}.bak`)
    db.prepare('VACUUM INTO ?').run(candidate)
    backupPath = candidate
  }

  const record = () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      hash       TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )`)
    const ins = db.prepare('INSERT INTO schema_migrations (version, name, hash) VALUES (?, ?, ?)')
    for (const m of pending) {
      try {
        db.exec(m.sql)
      } catch (e) {
        throw new StoreError(`${path}: migration ${m.version} (${m.name}) failed: ${(e as Error).message}. The database was left unchanged.`)
      }
      ins.run(m.version, m.name, migrationHash(m))
    }
    // a bad backfill must not commit: check foreign keys inside the transaction
    const fkProblems = db.pragma('foreign_key_check') as unknown[]
    if (fkProblems.length)
      throw new StoreError(`${path}: foreign key check failed while migrating: ${JSON.stringify(fkProblems.slice(0, 3))}. The database was left unchanged.`)
    db.pragma(`user_version = ${pending[pending.length - 1]!.version}`)
  }
  db.transaction(record).immediate()
  db.pragma('optimize')
  return { from, to: pending[pending.length - 1]!.version, applied: pending.map((m) => m.version), backupPath }
}
