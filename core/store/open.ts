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
import { accessSync, constants, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { DATABASE_FILE } from '../paths.js'
import { StoreError } from './errors.js'

export type SqliteDatabase = Database.Database

export interface OpenDatabaseOptions {
  /** Path of a better_sqlite3.node built for the running ABI (Electron). Default: env SKIPBENCH_SQLITE_BINDING, else node_modules. */
  nativeBinding?: string
  /** Open read-only (the file must exist; no migrations are run). Default false. */
  readonly?: boolean
  /** How long a statement waits for another connection's lock before SQLITE_BUSY, in ms. Default 5000. */
  busyTimeoutMs?: number
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000

/** Create the connection and apply the pragmas. Does not migrate (see openStore / migrate). */
export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): SqliteDatabase {
  const memory = path === ':memory:' || path === ''
  if (!memory) preflight(path, !opts.readonly)
  const nativeBinding = opts.nativeBinding ?? (process.env.SKIPBENCH_SQLITE_BINDING || undefined)
  let db: SqliteDatabase
  try {
    db = new Database(path, {
      readonly: opts.readonly ?? false,
      fileMustExist: opts.readonly ?? false,
      timeout: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      ...(nativeBinding ? { nativeBinding } : {}),
    })
  } catch (e) {
    throw memory ? e : explainOpenError(path, e)
  }
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
    throw memory ? e : explainOpenError(path, e)
  }
  return db
}

/** The wrong kind of path, found before SQLite gives a vaguer "unable to open database file". */
function preflight(path: string, create: boolean): void {
  let st: ReturnType<typeof statSync> | null = null
  try {
    st = statSync(path)
  } catch {
    /* does not exist yet */
  }
  if (st?.isDirectory()) throw new DatabaseOpenError(path, `is a folder, not a database file: pass the file inside it, e.g. --db ${join(path, DATABASE_FILE)}`)
  if (!create) return
  const dir = dirname(path)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new DatabaseOpenError(path, `cannot be created: ${dir} (or a folder above it) is a file, not a folder; choose another --db PATH`)
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') throw new DatabaseOpenError(path, `cannot be created: its folder ${dir} is not writable (${code}); make it writable or choose another --db PATH`)
    throw e
  }
}

/** What SQLite's error means for this path, with the fix; anything unexpected is returned as it was. */
export function explainOpenError(path: string, e: unknown): Error {
  const err = e as Error & { code?: string }
  const code = String(err.code ?? '')
  const dir = dirname(path)
  if (code === 'SQLITE_NOTADB') return new DatabaseOpenError(path, 'is not an SQLite database (garbage, or another kind of file): choose another --db PATH; skipbench left the file as it was')
  if (code === 'SQLITE_CORRUPT') return new DatabaseOpenError(path, "is damaged (SQLite reports it malformed): restore a backup, or recover it with `sqlite3 FILE .recover`; skipbench left it as it was")
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR_SHMOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    let writable = true
    try {
      accessSync(dir, constants.W_OK)
      if (existsSync(path)) accessSync(path, constants.W_OK)
    } catch {
      writable = false
    }
    const ro = !writable || isReadOnlyMount(dir)
    if (ro)
      return new DatabaseOpenError(path, `cannot be opened for writing: its folder ${dir} is read-only (SQLite keeps ${basename(path)}-wal and -shm beside the database); make the folder writable, or copy the database to a writable folder`)
    return new DatabaseOpenError(path, `cannot be opened (${err.message}): check that ${dir} exists and can be written`)
  }
  return err
}

/** Whether `dir` is on a file system mounted read-only (root can write anywhere else, so access() cannot tell). */
function isReadOnlyMount(dir: string): boolean {
  try {
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '))
    let best: { at: string; ro: boolean } | null = null
    const real = realpathSync(dir)
    for (const m of mounts) {
      const at = (m[1] ?? '').replace(/\\040/g, ' ')
      if (!at || !(real === at || real.startsWith(at.endsWith('/') ? at : `${at}/`))) continue
      if (!best || at.length >= best.at.length) best = { at, ro: (m[3] ?? '').split(',').includes('ro') }
    }
    return best?.ro ?? false
  } catch {
    return false
  }
}

/** The database path is the wrong kind of thing, unreadable, not SQLite, damaged or in a read-only folder. */
class DatabaseOpenError extends StoreError {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`database ${path} ${problem}`)
    this.name = 'StoreError'
  }
}
