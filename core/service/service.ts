/**
 * The application service: implements the contract (core/contract) over core/. Both transports (Electron IPC in
 * main/, HTTP + WebSocket in core/server) call exactly this, after validating inputs with the contract's schemas
 * (`dispatch`), and forward its events (`on`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { CONFIG_FILE, FINAL_DIR, MODEL_FILE } from '../checkpoint/index.js'
import { exportModel } from '../trainer/export-model.js'
import { isAbsolute, join, resolve } from 'node:path'
import type { ApiHandlers, ApiMethod, Experiment, RunConfigDoc, ServerEvent, Settings } from '../contract/api.js'
import { API } from '../contract/api.js'
import { detectEngines } from '../engine/detect.js'
import { forkLauncher, type WorkerLauncher } from '../jobs/process.js'
import { queueRerun } from '../jobs/rerun.js'
import { getParallel } from './parallel.js'
import { compileFilter } from '../store/filter.js'
import type { SavedView as StoredView } from '../store/views.js'
import { queueSweep } from '../sweeps/index.js'
import { StartupCalibration } from './calibration.js'
import { checkConfig, measuredThroughput, planSweep, type StoreChecks, type Throughput } from './config.js'
import { issue, issueText } from '../config/index.js'
import { compareExperiment } from './compare.js'
import { buildReport, previewReportHtml } from '../reporting/index.js'
import { previewReportOffThread } from '../reporting/offthread.js'

/** experiments with at least this many runs get their report preview built off the event loop (a worker thread) */
export const OFF_THREAD_MIN_RUNS = 100
import { Context } from './context.js'
import { Imports } from './datasets.js'
import { BadRequest, classify, conflict, notFound, ServiceError } from './errors.js'
import { globBase, isDatasetPath, PathPolicy, resolveDataPaths } from './paths.js'
import { listPresetSummaries } from './presets.js'
import { cancelRun, deleteRun, diffRuns, getGates, getRun, getRunLogs, getSeries, listRuns, resumeRun, retryRun, runRow } from './runs.js'
import { packageFile } from '../paths.js'

export { BadRequest, classify, ServiceError } from './errors.js'

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

export interface Service {
  readonly handlers: ApiHandlers
  /** every ServerEvent; returns the unsubscribe function */
  on(cb: (e: ServerEvent) => void): () => void
  readonly dataDir: string
  /** the first-start calibration of the current data folder (settled at once when none was needed or enabled) */
  calibration(): Promise<void>
  close(): Promise<void>
}

export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
  return pkg.version
}

const THROUGHPUT_TTL_MS = 10_000

export async function createService(opts: ServiceOptions): Promise<Service> {
  const contextOptions = (dataDir: string, first = false) => ({
    dataDir,
    // an explicit database/runs location applies to the folder given at start; a folder chosen later is self-contained
    ...(first && opts.dbPath ? { dbPath: opts.dbPath } : {}),
    ...(first && opts.runsDir ? { runsDir: opts.runsDir } : {}),
    ...(opts.launcher ? { launcher: opts.launcher } : {}),
    ...(opts.workerEnv ? { workerEnv: opts.workerEnv } : {}),
    ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
    ...(opts.throttleMs !== undefined ? { throttleMs: opts.throttleMs } : {}),
  })
  let ctx = await Context.open(contextOptions(opts.dataDir, true))
  const listeners = new Set<(e: ServerEvent) => void>()
  const forward = (e: ServerEvent) => {
    for (const cb of [...listeners]) cb(e)
  }
  let offHub = ctx.hub.on(forward)
  const imports = new Imports(() => ctx)
  // every path a caller gives is resolved and checked here (core/service/paths.ts)
  const paths = new PathPolicy(() => ({ dataDir: ctx.dataDir, homeDir: ctx.homeDir, runsDir: ctx.runsDir, allowedFolders: ctx.settings.allowedFolders }))
  const withPaths = (doc: RunConfigDoc): RunConfigDoc => (doc.data === undefined ? doc : { ...doc, data: resolveDataPaths(doc.data, paths) })
  let note: string | null = null
  let tp: { at: number; value: Throughput } | null = null
  const calibrateOnStart = opts.calibrateOnStart ?? !process.env['VITEST']
  let cal: StartupCalibration | null = null
  const calibration = (): StartupCalibration => {
    if (!cal || cal.cacheFile !== ctx.calibrationFile) {
      cal = new StartupCalibration(
        ctx.calibrationFile,
        { ...(ctx.settings.engine ? { engine: ctx.settings.engine } : {}), ...(ctx.settings.backend ? { backend: ctx.settings.backend } : {}) },
        ctx.dataDir,
        opts.launcher ?? forkLauncher(),
      )
      if (calibrateOnStart) void cal.start()
    }
    return cal
  }
  calibration()
  const throughput = (): Throughput => {
    if (!tp || Date.now() - tp.at > THROUGHPUT_TTL_MS) tp = { at: Date.now(), value: measuredThroughput(ctx.store) }
    const c = calibration()
    return { ...tp.value, calibrating: c.state === 'running', calibrations: c.calibrations(), workerStartSeconds: c.workerStartSeconds }
  }

  const experimentOut = (id: number): Experiment => {
    const e = ctx.store.experiments.list().find((x) => x.id === id)
    if (!e) throw notFound(`experiment ${id}`)
    return e
  }
  const viewOut = (v: StoredView) => ({ id: v.id, experimentId: v.experimentId, name: v.name, state: v.state as never, updatedAt: v.updatedAt })
  const requireExperiment = (id: number | null) => {
    if (id !== null && !ctx.store.experiments.get(id)) throw notFound(`experiment ${id}`)
  }
  const withDefaults = (doc: RunConfigDoc): RunConfigDoc => {
    const engine = (doc.engine ?? {}) as Record<string, unknown>
    if (engine.engine !== undefined || !ctx.settings.engine) return doc
    return { ...doc, engine: { ...engine, engine: ctx.settings.engine, ...(ctx.settings.backend && engine.backend === undefined ? { backend: ctx.settings.backend } : {}) } }
  }
  // what the schema cannot know: the data sets this data folder has, and whether a dataset path exists
  const storeChecks: StoreChecks = {
    datasets: () => imports.list().datasets.filter((d) => d.ok).map((d) => d.name),
    pathIssue: (d) => {
      if (!isDatasetPath(d) || /[*?[\]{}]/.test(d)) return null
      try {
        const abs = paths.resolve(d, 'dataset folder', 'read')
        return existsSync(abs) ? null : issue('data.dataset', `no dataset folder or shard file at ${abs}`, `Nothing at ${abs}: give the folder of a prepared dataset or a token file`)
      } catch (e) {
        return issue('data.dataset', (e as Error).message)
      }
    },
  }
  const sweepDefaults = <T extends { groups: { base: RunConfigDoc }[] }>(spec: T): T => ({ ...spec, groups: spec.groups.map((g) => ({ ...g, base: withDefaults(g.base) })) })
  const settingsOut = (): Settings => ({
    dataDir: ctx.dataDir,
    database: ctx.dbPath,
    runsDir: ctx.runsDir,
    engine: ctx.settings.engine,
    backend: ctx.settings.backend,
    concurrency: ctx.settings.concurrency,
    allowedFolders: ctx.settings.allowedFolders,
    dataDirEditable: opts.dataDirEditable ?? false,
    note,
  })

  const handlers: ApiHandlers = {
    async getAppInfo() {
      return {
        name: 'skipbench' as const,
        version: appVersion(),
        transport: opts.transport,
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        engines: await detectEngines(),
      }
    },
    listPresets: () => listPresetSummaries(),

    // ------------------------------------------------------------------ experiments
    async listExperiments({ search }) {
      const all = ctx.store.experiments.list()
      const q = search?.trim().toLowerCase()
      if (!q) return all
      return all.filter((e) => e.name.toLowerCase().includes(q) || e.description.toLowerCase().includes(q) || e.tags.some((t) => t.toLowerCase().includes(q)))
    },
    async getExperiment({ id }) {
      return experimentOut(id)
    },
    async createExperiment(input) {
      const e = ctx.store.experiments.create(input)
      ctx.emit({ type: 'experiment-changed', change: 'created', experimentId: e.id })
      return experimentOut(e.id)
    },
    async updateExperiment({ id, ...patch }) {
      ctx.store.experiments.update(id, patch)
      ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId: id })
      return experimentOut(id)
    },
    async deleteExperiment({ id, deleteRuns }) {
      if (!ctx.store.experiments.get(id)) throw notFound(`experiment ${id}`)
      const ids = ctx.store.runs.list({ experimentId: id, limit: 10_000, summaries: [] }).rows.map((r) => r.id)
      let runsDeleted = 0
      if (deleteRuns) for (const runId of ids) if ((await deleteRun(ctx, runId, true)).deleted) runsDeleted++
      const deleted = ctx.store.experiments.remove(id)
      if (!deleteRuns) for (const runId of ids) ctx.forget(runId) // their experiment is now null
      ctx.emit({ type: 'experiment-changed', change: 'deleted', experimentId: id })
      return { deleted, runsDeleted }
    },

    // ------------------------------------------------------------------ runs
    async listRuns(q) {
      return listRuns(ctx, q)
    },
    async getRun({ runId }) {
      return getRun(ctx, runId)
    },
    async getRunLogs(q) {
      return getRunLogs(ctx, q)
    },
    async getSeries(q) {
      return getSeries(ctx, q)
    },
    async getGates(q) {
      return getGates(ctx, q)
    },
    async diffRuns({ runIds }) {
      return diffRuns(ctx, runIds)
    },

    async getParallel(q) {
      return getParallel(ctx, q)
    },
    async listViews({ experimentId }) {
      return ctx.store.views.list(experimentId).map(viewOut)
    },
    async saveView({ experimentId, name, state }) {
      if (experimentId !== null) requireExperiment(experimentId)
      if (state.where.trim()) compileFilter(state.where) // refuse a view whose filter does not parse
      return viewOut(ctx.store.views.save(experimentId, name, state))
    },
    async deleteView({ id }) {
      return { deleted: ctx.store.views.remove(id) }
    },

    // ------------------------------------------------------------------ configs and launching
    async validateConfig({ config }) {
      return checkConfig(withDefaults(config), throughput, storeChecks)
    },
    async planSweep(spec) {
      return planSweep(sweepDefaults(spec), throughput(), ctx.settings.concurrency, ctx.calibrationFile, storeChecks).plan
    },
    async startRun({ config: given, experimentId, name, tags, on }) {
      requireExperiment(experimentId)
      const config = withPaths(given)
      const check = checkConfig(withDefaults(config), throughput, storeChecks)
      if (!check.ok) throw new BadRequest(`Not started: ${check.issues.map(issueText).join('; ')}`)
      if (on) {
        // "Run on: NAME": submitted to that Slurm cluster; the context's poller streams it into the store
        if (!ctx.store.clusters.get(on)) throw notFound(`cluster "${on}" (add it in Settings)`)
        const { runs, jobs } = await ctx.clusters.submit(on, [{ config: withDefaults(config), experimentId, tags, ...(name?.trim() ? { name: name.trim() } : {}) }])
        ctx.emit({ type: 'runs-changed', change: 'created', runIds: [runs[0]!.id], experimentId })
        if (experimentId !== null) ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId })
        ctx.watchClusters()
        return { runId: runs[0]!.id, jobId: jobs[0]!.id }
      }
      const { job, run } = ctx.queue.addTrain(withDefaults(config), { experimentId, tags, ...(name?.trim() ? { name: name.trim() } : {}) })
      ctx.emit({ type: 'runs-changed', change: 'created', runIds: [run.id], experimentId })
      if (experimentId !== null) ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId })
      return { runId: run.id, jobId: job.id }
    },
    async startSweep({ experimentId, spec }) {
      requireExperiment(experimentId)
      const { plan, sweep } = planSweep(sweepDefaults(spec), throughput(), ctx.settings.concurrency, ctx.calibrationFile, storeChecks)
      if (plan.axisIssues.length) throw new BadRequest(`Not started: ${plan.axisIssues.map((a) => issueText(a.issue)).join('; ')}`)
      for (const p of sweep.points) p.config = { ...p.config, data: resolveDataPaths(p.config.data, paths) }
      if (plan.invalid) {
        const bad = plan.runs.filter((r) => !r.ok).slice(0, 5)
        throw new BadRequest(`Not started: ${plan.invalid} of ${plan.count} sweep runs are invalid: ${bad.map((r) => `${r.name}: ${r.issues.map(issueText).join(', ')}`).join('; ')}`)
      }
      // core/sweeps queues it as the CLI does (tags sweep:<name>, group:<group>); starting the same sweep again
      // resumes or retries its unfinished points instead of duplicating them
      const queued = queueSweep(ctx.queue, sweep, { experiment: ctx.store.experiments.get(experimentId)!.name })
      const runIds = queued.points.map((p) => p.runId)
      const jobIds = queued.points.map((p) => p.jobId)
      ctx.emit({ type: 'runs-changed', change: 'created', runIds, experimentId })
      ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId })
      return { runIds, jobIds }
    },
    async cancelRun({ runId }) {
      return cancelRun(ctx, runId)
    },
    async resumeRun({ runId }) {
      return resumeRun(ctx, runId)
    },
    async retryRun({ runId }) {
      const r = retryRun(ctx, runId)
      ctx.emit({ type: 'runs-changed', change: 'created', runIds: [r.runId], experimentId: ctx.derived(r.runId).experimentId })
      return r
    },
    async rerunRun({ runId }) {
      if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
      const { job, run } = queueRerun(ctx.store, runId, ctx.runsDir, (c, o) => ctx.queue.addTrain(c, o))
      ctx.emit({ type: 'runs-changed', change: 'created', runIds: [run.id], experimentId: run.experimentId })
      return { runId: run.id, jobId: job.id }
    },
    async updateRun({ runId, ...patch }) {
      if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
      ctx.store.runs.update(runId, patch)
      const row = runRow(ctx, runId)
      ctx.emit({ type: 'runs-changed', change: 'updated', runIds: [runId], experimentId: row.experimentId })
      return row
    },
    async deleteRun({ runId, deleteFiles }) {
      return deleteRun(ctx, runId, deleteFiles)
    },
    async cloneRun({ runId }) {
      const run = ctx.store.runs.get(runId)
      if (!run) throw notFound(`run ${runId}`)
      const config = structuredClone(run.config) as RunConfigDoc
      const name = `${run.name} (copy)`
      config.name = name
      return { config, name, experimentId: run.experimentId }
    },
    async evaluateRun({ runId, dataset, tokenizer, valTokens }) {
      if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
      // evaluation data by path obeys the same rule as every other path (core/service/paths.ts)
      const data = resolveDataPaths({ dataset, ...(tokenizer ? { tokenizer } : {}) }, paths)
      const job = ctx.queue.addEval(runId, { data, ...(valTokens ? { valTokens } : {}) })
      return { jobId: job.id }
    },

    async exportModel({ runId, format, dtype, outDir }) {
      const run = ctx.store.runs.get(runId)
      if (!run) throw notFound(`run ${runId}`)
      const ck = run.runDir ? join(run.runDir, FINAL_DIR) : null
      if (!ck || !existsSync(join(ck, CONFIG_FILE))) throw conflict(`run ${runId} has no final checkpoint yet: export it once it has finished training`)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
      const dir = outDir ? paths.resolve(outDir, 'export folder', 'write') : join(ctx.homeDir, 'exports', `${run.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stamp}`)
      const file = join(dir, format === 'onnx' ? 'model.onnx' : MODEL_FILE)
      if (existsSync(file) || (format === 'safetensors' && existsSync(join(dir, CONFIG_FILE))))
        throw conflict(`${existsSync(file) ? file : join(dir, CONFIG_FILE)} already exists: choose another folder`)
      mkdirSync(dir, { recursive: true })
      const r = await exportModel({ checkpoint: ck, format, out: file, dtype })
      return { path: r.path, bytes: r.bytes, format: r.format, dtype: r.dtype, configPath: r.configPath }
    },

    async compareExperiment(q) {
      return compareExperiment(ctx, q)
    },
    async previewReport({ experimentId, estimator, flopsKind }) {
      if (!ctx.store.experiments.get(experimentId)) throw notFound(`experiment ${experimentId}`)
      const options = { experiment: experimentId, estimator, flopsKind }
      // a large experiment takes seconds of CPU: build it on a worker thread so other requests are answered meanwhile
      const runs = ctx.store.runs.list({ experimentId, limit: 1 }).total
      const off = runs >= OFF_THREAD_MIN_RUNS ? previewReportOffThread(ctx.dbPath, options, opts.nativeBinding) : null
      return { html: off ? await off : previewReportHtml(ctx.store, options) }
    },
    async exportReport({ experimentId, estimator, flopsKind, formats, outDir, overwrite }) {
      const e = ctx.store.experiments.get(experimentId)
      if (!e) throw notFound(`experiment ${experimentId}`)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
      const dir = outDir ? paths.resolve(outDir, 'report folder', 'write') : join(ctx.homeDir, 'reports', `${e.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stamp}`)
      if (!overwrite && existsSync(dir) && readdirSync(dir).length)
        throw conflict(`report folder ${dir} already exists and is not empty: choose another folder, or pass overwrite: true to replace its files`)
      const r = await buildReport(ctx.store, { experiment: experimentId, estimator, flopsKind, formats, outDir: dir })
      return { outDir: r.outDir, files: r.files.map((f) => ({ format: f.format, path: f.path })), seconds: r.seconds + r.buildSeconds, warnings: r.warnings }
    },

    // ------------------------------------------------------------------ datasets
    async listDatasets() {
      return imports.list()
    },
    async prepareCorpus({ tokenizer }) {
      return imports.prepareCorpus(tokenizer)
    },
    async importDataset(req) {
      const from = req.from.map((f) => {
        const abs = isAbsolute(f) ? f : resolve(ctx.dataDir, f)
        paths.resolve(globBase(abs), 'import source', 'read')
        return abs
      })
      return imports.importDataset({ ...req, from })
    },
    async cancelImport({ importId }) {
      return imports.cancel(importId)
    },

    // ------------------------------------------------------------------ settings
    // ------------------------------------------------------------------ Slurm clusters
    async listClusters() {
      return ctx.clusters.profiles()
    },
    async saveCluster(profile) {
      return ctx.clusters.saveProfile(profile)
    },
    async removeCluster({ name }) {
      if (!ctx.store.clusters.get(name)) throw notFound(`cluster "${name}"`)
      return { removed: ctx.clusters.removeProfile(name) }
    },
    async checkCluster({ name }) {
      if (!ctx.store.clusters.get(name)) throw notFound(`cluster "${name}"`)
      return ctx.clusters.check(name)
    },
    async getSettings() {
      return settingsOut()
    },
    async updateSettings(patch) {
      note = null
      if (patch.dataDir !== undefined && resolve(patch.dataDir) !== ctx.dataDir) {
        if (!opts.dataDirEditable) throw new BadRequest('the data folder of a running server is set when it starts: restart it with `skipbench serve --data-dir DIR`')
        const running = ctx.queue.running.length
        if (running) throw conflict(`${running} run(s) are training in ${ctx.dataDir}: cancel or wait for them before switching the data folder`)
        imports.abortAll()
        offHub()
        await ctx.close()
        ctx = await Context.open(contextOptions(patch.dataDir))
        offHub = ctx.hub.on(forward)
        tp = null
        opts.onDataDirChange?.(ctx.dataDir)
      }
      const next = { ...ctx.settings }
      if (patch.engine !== undefined) next.engine = patch.engine
      if (patch.backend !== undefined) next.backend = patch.backend?.trim() || null
      if (patch.concurrency !== undefined) next.concurrency = patch.concurrency
      if (patch.allowedFolders !== undefined) next.allowedFolders = [...new Set(patch.allowedFolders.map((f) => resolve(f)))]
      note = ctx.saveSettings(next)
      const s = settingsOut()
      ctx.emit({ type: 'settings-changed', settings: s })
      return s
    },

    async pickPath() {
      return { supported: false, paths: [] }
    },
    ...opts.overrides,
    // what the user picks in a native dialog (the app) may then be read and written
    ...(opts.overrides?.pickPath
      ? {
          async pickPath(input) {
            const r = await opts.overrides!.pickPath!(input)
            paths.allowPicked(r.paths)
            return r
          },
        }
      : {}),
  }

  return {
    handlers,
    on(cb) {
      listeners.add(cb)
      return () => void listeners.delete(cb)
    },
    get dataDir() {
      return ctx.dataDir
    },
    calibration: () => calibration().done,
    async close() {
      await cal?.done
      imports.abortAll()
      offHub()
      listeners.clear()
      await ctx.close()
    },
  }
}

/** Validate input, call, validate output. Invalid input throws BadRequest (a 400 / bad_request with the issues). */
export async function dispatch(handlers: ApiHandlers, method: ApiMethod, payload: unknown): Promise<unknown> {
  const spec = API[method]
  const parsed = spec.input.safeParse(payload ?? {})
  if (!parsed.success) {
    throw new BadRequest(`invalid input for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  }
  const fn = handlers[method] as (i: unknown) => Promise<unknown>
  let out: unknown
  try {
    out = await fn(parsed.data)
  } catch (e) {
    // the user's errors leave as ServiceErrors with a clear message; the rest stays as it was (internal)
    const c = classify(e)
    if (e instanceof ServiceError || c.code === 'internal' || c.code === 'unauthorized') throw e
    throw new ServiceError(c.message, c.code)
  }
  const checked = spec.output.safeParse(out)
  if (!checked.success) {
    throw new Error(`skipbench bug: ${method} returned data outside the contract: ${checked.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  return checked.data
}

export { runRow }
