/**
 * The store: one connection, migrated, with its repositories. Exactly one process writes (the CLI, the server or
 * the Electron main process — the job runner's parent); workers never open the database, they send messages.
 */
import { CheckpointsRepository } from './checkpoints.js'
import { ClustersRepository } from './clusters.js'
import { DatasetsRepository } from './datasets.js'
import { EvaluationsRepository } from './evaluations.js'
import { ExperimentsRepository } from './experiments.js'
import { JobsRepository } from './jobs.js'
import { LogsRepository } from './logs.js'
import { MetricsRepository } from './metrics.js'
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js'
import { explainOpenError, openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from './open.js'
import { RunsRepository } from './runs.js'
import { ViewsRepository } from './views.js'

export interface OpenStoreOptions extends OpenDatabaseOptions {
  /** migration options (backup location, tests: target version / custom steps) */
  migrate?: MigrateOptions
}

export class Store {
  readonly experiments: ExperimentsRepository
  readonly runs: RunsRepository
  readonly metrics: MetricsRepository
  readonly checkpoints: CheckpointsRepository
  readonly evaluations: EvaluationsRepository
  readonly datasets: DatasetsRepository
  readonly jobs: JobsRepository
  readonly logs: LogsRepository
  readonly clusters: ClustersRepository
  readonly views: ViewsRepository
  private closed = false

  constructor(
    readonly db: SqliteDatabase,
    readonly migration: MigrateResult | null = null,
  ) {
    this.metrics = new MetricsRepository(db)
    this.experiments = new ExperimentsRepository(db)
    this.runs = new RunsRepository(db, this.metrics)
    this.checkpoints = new CheckpointsRepository(db)
    this.evaluations = new EvaluationsRepository(db)
    this.datasets = new DatasetsRepository(db)
    this.jobs = new JobsRepository(db)
    this.logs = new LogsRepository(db)
    this.clusters = new ClustersRepository(db)
    this.views = new ViewsRepository(db)
  }

  get path(): string {
    return this.db.name
  }

  /**
   * Run `fn` in one transaction (BEGIN IMMEDIATE: takes the write lock up front, so it never fails half-way with
   * SQLITE_BUSY). Nested calls become savepoints. All or nothing: readers see none of it until it commits.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate()
    } catch (e) {
      this.metrics.resetCache()
      throw e
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      if (!this.db.readonly) this.db.pragma('optimize')
    } catch {
      // closing must not fail because optimize did (e.g. a full disk)
    }
    this.db.close()
  }
}

/** Open (creating if needed) and migrate the database at `path`, and build the repositories. */
export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  const db = openDatabase(path, opts)
  try {
    const result = opts.readonly ? null : migrate(db, opts.migrate)
    return new Store(db, result)
  } catch (e) {
    db.close()
    throw path === ':memory:' || path === '' ? e : explainOpenError(path, e)
  }
}
