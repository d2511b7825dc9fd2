/**
 * Errors that are the user's to fix (a bad config, an unreadable checkpoint, a corrupt shard, ...), by class name so
 * no module has to import every error class. The CLI prints their message without a stack trace; the service answers
 * them with 400 (or 404/409 where core/service/errors.ts says so).
 */
export const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  // configuration and runs
  'ConfigError',
  'RunConfigError',
  'TrainingError',
  'SweepError',
  // checkpoints and data
  'CheckpointError',
  'ShardError',
  'LoaderError',
  'DatasetError',
  'DataError',
  'ImportError',
  'TokenizerError',
  'CorpusError',
  // engines
  'EngineError',
  'BackendUnavailableError',
  'OrtProviderError',
  'HardSkipUnsupportedError',
  // store and jobs
  'StoreError',
  'FilterError',
  // Slurm clusters (core/cluster)
  'ClusterError',
  'SchemaTooNewError',
  'MigrationHashMismatchError',
  'NotASkipbenchDatabaseError',
  'IngestError',
  'NotFoundError',
  'JobError',
  // reports
  'ReportError',
  'ChromiumMissingError',
])

export const isUserError = (e: unknown): e is Error => e instanceof Error && USER_ERROR_NAMES.has(e.name)
