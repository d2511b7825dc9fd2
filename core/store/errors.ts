/** Typed errors of the store. Each message says what happened and what to do about it. */
import { UserError } from '../user-errors.js'

export class StoreError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'StoreError'
  }
}

/** The database was written by a newer skipbench (its schema version is above the newest migration we know). */
export class SchemaTooNewError extends StoreError {
  constructor(
    readonly path: string,
    readonly dbVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      `${path}: database schema version ${dbVersion} is newer than this skipbench understands (up to ${codeVersion}). ` +
        `It was written by a newer skipbench: upgrade skipbench, or open another database (--db PATH). The file was not changed.`,
    )
    this.name = 'SchemaTooNewError'
  }
}

/** A migration that was already applied to this database has different SQL now (someone edited a shipped migration). */
export class MigrationHashMismatchError extends StoreError {
  constructor(
    readonly path: string,
    readonly version: number,
    readonly stored: string,
    readonly current: string,
  ) {
    super(
      `${path}: migration ${version} was applied with hash ${stored.slice(0, 12)}… but the code now has ${current.slice(0, 12)}…. ` +
        `Shipped migrations must never change: add a new migration instead. The file was not changed.`,
    )
    this.name = 'MigrationHashMismatchError'
  }
}

/** The file is an SQLite database, but not one of ours (tables present, user_version 0). */
export class NotASkipbenchDatabaseError extends StoreError {
  constructor(
    readonly path: string,
    readonly tables: string[],
  ) {
    super(`${path}: not a skipbench database (user_version 0 but it has tables: ${tables.slice(0, 5).join(', ')}). Choose another --db PATH.`)
    this.name = 'NotASkipbenchDatabaseError'
  }
}

/** A run folder cannot be ingested (no run.json, unreadable config, …). */
export class IngestError extends StoreError {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(`${dir}: ${message}`)
    this.name = 'IngestError'
  }
}

export class NotFoundError extends StoreError {
  /** `message` replaces the default "<what> not found" where a longer one helps (e.g. listing what there is) */
  constructor(what: string, message = `${what} not found`) {
    super(message)
    this.name = 'NotFoundError'
  }
}
