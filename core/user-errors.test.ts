// UserError: every error class that is the user's to fix extends it; the CLI and the service ask `isUserError`,
// also of an error rebuilt on this side of a worker-thread boundary.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../cli/args.js'
import { CheckpointError } from './checkpoint/safetensors.js'
import { ClusterError } from './cluster/profile.js'
import { ConfigError, RunConfigError } from './config/index.js'
import { DatasetError } from './data/dataset.js'
import { ImportAbortedError, ImportError } from './data/import/types.js'
import { LoaderError } from './data/loader.js'
import { ShardError } from './data/shard.js'
import { HardSkipUnsupportedError } from './engine/hard-skip.js'
import { EngineError } from './engine/index.js'
import { GraphError } from './engine/ort/ir.js'
import { OrtProviderError } from './engine/ort/session.js'
import { BackendUnavailableError } from './engine/tfjs/backend.js'
import { JobError } from './jobs/types.js'
import { ProtocolError } from './jobs/protocol.js'
import { ReportError } from './report-export/build.js'
import { previewReportOffThread } from './report-export/offthread.js'
import { ChromiumMissingError } from './report-export/pdf.js'
import { classify } from './service/errors.js'
import { FilterError } from './store/filter.js'
import { IngestError, MigrationHashMismatchError, NotASkipbenchDatabaseError, NotFoundError, SchemaTooNewError, StoreError } from './store/errors.js'
import { SweepError } from './sweeps/grid.js'
import { DataError } from './trainer/data.js'
import { TrainingError } from './trainer/trainer.js'
import { isUserError, UserError } from './user-errors.js'

const make = (C: unknown, ...args: unknown[]) => new (C as new (...a: unknown[]) => Error)(...args)

describe('UserError', () => {
  it('every user-facing error class extends it and keeps its own name; bugs do not', () => {
    const user = [
      ConfigError, RunConfigError, TrainingError, SweepError, CheckpointError, ShardError, LoaderError, DatasetError, DataError, ImportError, ImportAbortedError,
      EngineError, BackendUnavailableError, OrtProviderError, HardSkipUnsupportedError, StoreError, FilterError, ClusterError, SchemaTooNewError,
      MigrationHashMismatchError, NotASkipbenchDatabaseError, IngestError, NotFoundError, JobError, ReportError, ChromiumMissingError, UsageError,
    ]
    for (const C of user) {
      const e = C === RunConfigError ? make(C, ['bad']) : C === SchemaTooNewError ? make(C, 'x.db', 99, 10) : C === MigrationHashMismatchError ? make(C, 'x.db', 10, 'a', 'b') : make(C, 'what went wrong and the fix', [])
      expect(e, C.name).toBeInstanceOf(UserError)
      expect(isUserError(e), C.name).toBe(true)
      expect(e.name, C.name).not.toBe('Error')
      expect(classify(e).code, C.name).not.toBe('internal')
    }
    expect(classify(new ConfigError('bad')).code).toBe('bad_request')
    expect(classify(new NotFoundError('no run 7')).status).toBe(404)
    expect(classify(make(JobError, 'busy')).status).toBe(409)
    for (const bug of [new Error('x'), new TypeError('y'), make(GraphError, 'z'), make(ProtocolError, 'w')]) {
      expect(isUserError(bug)).toBe(false)
      expect(classify(bug).code).toBe('internal')
    }
  })

  it('an error that crossed a thread boundary keeps saying it is the user\u2019s (the report preview worker)', async () => {
    expect(isUserError(Object.assign(new Error('m'), { name: 'StoreError', userError: true }))).toBe(true)
    expect(isUserError(Object.assign(new Error('m'), { name: 'StoreError' }))).toBe(false)
    const dir = mkdtempSync(join(tmpdir(), 'sb-usererr-'))
    try {
      const notADb = join(dir, 'notes.db')
      writeFileSync(notADb, 'not a database, just text that is long enough to have a header page of its own '.repeat(40))
      const p = previewReportOffThread(notADb, { experiment: 1 })
      expect(p).not.toBeNull()
      const e = await p!.then(
        () => null,
        (x: unknown) => x as Error,
      )
      expect(e).toBeInstanceOf(Error)
      expect(e).not.toBeInstanceOf(UserError) // rebuilt from a message, not the class itself
      expect(isUserError(e), `${e!.name}: ${e!.message}`).toBe(true)
      expect(classify(e).code).toBe('bad_request')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
