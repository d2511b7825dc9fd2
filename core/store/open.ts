/**
 * Opening the database: the ONE place that creates a better-sqlite3 connection and sets its pragmas.
 *
 * - WAL journal (readers never block the writer and see only committed transactions), foreign keys on,
 *   synchronous=NORMAL (durable across process crashes; a power loss may lose the last commits, never corrupt),
 *   busy_timeout so a second process waits instead of failing with SQLITE_BUSY.
 * - `nativeBinding` (ADR 0002): the Electron app passes the path of its Electron-ABI build of better-sqlite3
 *   (`.electron-native/…/better_sqlite3.node`); plain Node uses node_modules' build. The env var
 *   SKIPBENCH_SQLITE_BINDING overrides the default for either.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

export type SqliteDatabase = Database.Database

export interface OpenDatabaseOptions {
  /** Path of a better_sqlite3.node built for the running ABI (Electron). Default: env SKIPBENCH_SQLITE_BINDING, else node_modules. */
  nativeBinding?: string
  /** Open read-only (the file must exist; no migrations are run). Default false. */
  readonly?: boolean
  /** How long a statement waits for another connection's lock before SQLITE_BUSY, in ms. Default 5000. */
  busyTimeoutMs?: number
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/** Create the connection and apply the pragmas. Does not migrate (see openStore / migrate). */
export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): SqliteDatabase {
  const memory = path === ':memory:' || path === ''
  if (!memory && !opts.readonly) mkdirSync(dirname(path), { recursive: true })
  const nativeBinding = opts.nativeBinding ?? (process.env.SKIPBENCH_SQLITE_BINDING || undefined)
  const db = new Database(path, {
    readonly: opts.readonly ?? false,
    fileMustExist: opts.readonly ?? false,
    timeout: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    ...(nativeBinding ? { nativeBinding } : {}),
  })
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`)
    if (!opts.readonly && !memory) db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    // a little more page cache than the 2 MB default: run lists and series scans stay in memory
    db.pragma('cache_size = -16000')
    db.pragma('temp_store = MEMORY')
  } catch (e) {
    db.close()
    throw e
  }
  return db
}
