/** Small helpers shared by the repositories. */
import type Database from 'better-sqlite3'
import type { SqliteDatabase } from './open.js'

export type Statement = Database.Statement

/** Prepared statements for SQL built at run time (filters, sorts): prepared once per distinct text, LRU-bounded. */
export class StatementCache {
  private readonly map = new Map<string, Statement>()
  constructor(
    private readonly db: SqliteDatabase,
    private readonly max = 64,
  ) {}
  get(sql: string): Statement {
    let s = this.map.get(sql)
    if (s) {
      this.map.delete(sql)
      this.map.set(sql, s)
      return s
    }
    s = this.db.prepare(sql)
    this.map.set(sql, s)
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!)
    return s
  }
}

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback
  try {
    return JSON.parse(text) as T
  } catch {
    return fallback
  }
}

/** SQLite stores NaN as NULL; read NULL back as NaN for metric values. */
export const toDbNumber = (v: number): number | null => (Number.isNaN(v) ? null : v)
export const fromDbNumber = (v: number | null): number => (v === null ? NaN : v)

export const bool = (v: number | null | undefined) => v === 1
