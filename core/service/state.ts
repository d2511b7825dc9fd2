/**
 * What every area of the service shares: the open Context (swapped when the data folder changes), the event
 * listeners, dataset imports, the path policy, the first-start calibration and the throughput behind estimates,
 * and the small helpers each area uses (engine defaults from Settings, experiment checks).
 */
import type { ApiHandlers, Experiment, RunConfigDoc, ServerEvent } from '../contract/api.js'
import { forkLauncher, type WorkerLauncher } from '../jobs/process.js'
import { StartupCalibration } from './calibration.js'
import { measuredThroughput, type Throughput } from './config.js'
import { Context } from './context.js'
import { Imports } from './datasets.js'
import { notFound } from './errors.js'
import { PathPolicy, resolveDataPaths } from './paths.js'
import { Listeners } from '../util/emitter.js'

export interface ServiceOptions {
  transport: 'electron' | 'http'
  /** where datasets live, and (unless dbPath/runsDir say otherwise) the database, run folders and settings */
  dataDir: string
  /** the database file (default <dataDir>/skipbench.db) */
  dbPath?: string
  /** run folders (default: runs/ beside the database) */
  runsDir?: string
  /** Electron: the data folder may be changed from Settings (reported through onDataDirChange to persist it) */
  dataDirEditable?: boolean
  onDataDirChange?: (dir: string) => void
  /** worker launcher for training jobs (default: a forked Node process running the TypeScript sources) */
  launcher?: WorkerLauncher
  workerEnv?: Record<string, string>
  nativeBinding?: string
  /** coalescing window of per-step events, ms (default 250) */
  throttleMs?: number
  /**
   * calibrate this machine in the background when the database folder's calibration cache has nothing for it
   * (core/service/calibration.ts); default true, except under vitest (unit tests opt in)
   */
  calibrateOnStart?: boolean
  /** transport-specific methods (Electron's native file dialog) */
  overrides?: Partial<Pick<ApiHandlers, 'pickPath'>>
}

const THROUGHPUT_TTL_MS = 10_000

export class ServiceState {
  ctx: Context
  private readonly listeners = new Listeners<ServerEvent>()
  private offHub: () => void
  readonly imports: Imports
  /** every path a caller gives is resolved and checked here (core/service/paths.ts) */
  readonly paths: PathPolicy
  private tp: { at: number; value: Throughput } | null = null
  private readonly calibrateOnStart: boolean
  private cal: StartupCalibration | null = null

  private constructor(
    readonly opts: ServiceOptions,
    ctx: Context,
  ) {
    this.ctx = ctx
    this.offHub = ctx.hub.on(this.forward)
    this.imports = new Imports(() => this.ctx)
    this.paths = new PathPolicy(() => ({ dataDir: this.ctx.dataDir, homeDir: this.ctx.homeDir, runsDir: this.ctx.runsDir, allowedFolders: this.ctx.settings.allowedFolders }))
    this.calibrateOnStart = opts.calibrateOnStart ?? !process.env['VITEST']
    this.calibration()
  }

  static async open(opts: ServiceOptions): Promise<ServiceState> {
    return new ServiceState(opts, await Context.open(contextOptions(opts, opts.dataDir, true)))
  }

  private readonly forward = (e: ServerEvent) => this.listeners.emit(e, e.type)

  on(cb: (e: ServerEvent) => void): () => void {
    return this.listeners.on(cb)
  }

  /** Close the current data folder and open another (the Settings page of the app). */
  async switchDataDir(dataDir: string): Promise<void> {
    this.imports.abortAll()
    this.offHub()
    await this.ctx.close()
    this.ctx = await Context.open(contextOptions(this.opts, dataDir))
    this.offHub = this.ctx.hub.on(this.forward)
    this.tp = null
    this.opts.onDataDirChange?.(this.ctx.dataDir)
  }

  calibration(): StartupCalibration {
    const ctx = this.ctx
    if (!this.cal || this.cal.cacheFile !== ctx.calibrationFile) {
      this.cal = new StartupCalibration(
        ctx.calibrationFile,
        { ...(ctx.settings.engine ? { engine: ctx.settings.engine } : {}), ...(ctx.settings.backend ? { backend: ctx.settings.backend } : {}) },
        ctx.dataDir,
        this.opts.launcher ?? forkLauncher(),
      )
      if (this.calibrateOnStart) void this.cal.start()
    }
    return this.cal
  }

  throughput(): Throughput {
    if (!this.tp || Date.now() - this.tp.at > THROUGHPUT_TTL_MS) this.tp = { at: Date.now(), value: measuredThroughput(this.ctx.store) }
    const c = this.calibration()
    return { ...this.tp.value, calibrating: c.state === 'running', calibrations: c.calibrations(), workerStartSeconds: c.workerStartSeconds }
  }

  withPaths(doc: RunConfigDoc): RunConfigDoc {
    return doc.data === undefined ? doc : { ...doc, data: resolveDataPaths(doc.data, this.paths) }
  }

  /** the engine and backend chosen in Settings, for a config that names none */
  withDefaults(doc: RunConfigDoc): RunConfigDoc {
    const engine = (doc.engine ?? {}) as Record<string, unknown>
    const settings = this.ctx.settings
    if (engine.engine !== undefined || !settings.engine) return doc
    return { ...doc, engine: { ...engine, engine: settings.engine, ...(settings.backend && engine.backend === undefined ? { backend: settings.backend } : {}) } }
  }

  sweepDefaults<T extends { groups: { base: RunConfigDoc }[] }>(spec: T): T {
    return { ...spec, groups: spec.groups.map((g) => ({ ...g, base: this.withDefaults(g.base) })) }
  }

  experimentOut(id: number): Experiment {
    const e = this.ctx.store.experiments.list().find((x) => x.id === id)
    if (!e) throw notFound(`experiment ${id}`)
    return e
  }

  requireExperiment(id: number | null): void {
    if (id !== null && !this.ctx.store.experiments.get(id)) throw notFound(`experiment ${id}`)
  }

  async close(): Promise<void> {
    await this.cal?.done
    this.imports.abortAll()
    this.offHub()
    this.listeners.clear()
    await this.ctx.close()
  }
}

function contextOptions(opts: ServiceOptions, dataDir: string, first = false) {
  return {
    dataDir,
    // an explicit database/runs location applies to the folder given at start; a folder chosen later is self-contained
    ...(first && opts.dbPath ? { dbPath: opts.dbPath } : {}),
    ...(first && opts.runsDir ? { runsDir: opts.runsDir } : {}),
    ...(opts.launcher ? { launcher: opts.launcher } : {}),
    ...(opts.workerEnv ? { workerEnv: opts.workerEnv } : {}),
    ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
    ...(opts.throttleMs !== undefined ? { throttleMs: opts.throttleMs } : {}),
  }
}
