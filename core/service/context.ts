/**
 * What the service holds while open: the store (this process is its single writer), the job queue whose workers
 * train, the event hub, the settings, and small in-memory indexes (config-derived run facts, newest job per run,
 * live ETAs) so run lists stay one indexed query even with thousands of runs.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ClusterManager } from '../cluster/manager.js'
import type { ServerEvent } from '../contract/api.js'
import { JobQueue } from '../jobs/queue.js'
import type { ProgressEvent } from '../jobs/types.js'
import type { WorkerLauncher } from '../jobs/process.js'
import type { ModelConfig } from '../model/config.js'
import { paramCount } from '../model/params.js'
import { openStore, type Store } from '../store/store.js'
import type { Job, Run } from '../store/types.js'
import { parseRunConfigWithWarnings, runKind, sequencesPerStep, targetEnd, tokensPerStep, type RunConfig } from '../config/index.js'
import { calibrationFileBeside, databaseIn, runsDirBeside } from '../paths.js'
import { EventHub } from './events.js'
import { loadSettings, saveSettings, type StoredSettings } from './settings.js'

export interface ContextOptions {
  /** datasets (and, unless dbPath/runsDir say otherwise, the database and run folders) */
  dataDir: string
  /** the database (default <dataDir>/skipbench.db); settings.json and calibration.json live beside it */
  dbPath?: string
  /** run folders (default: runs/ beside the database, as the CLI) */
  runsDir?: string
  /** worker launcher (Electron passes one that runs the worker under Node); default: fork with tsx */
  launcher?: WorkerLauncher
  workerEnv?: Record<string, string>
  /** better-sqlite3 binding built for the running ABI (Electron) */
  nativeBinding?: string
  /** coalescing window of per-step events, ms (default 250) */
  throttleMs?: number
}

/** Facts about a run that follow from its (immutable) config. */
export interface Derived {
  experimentId: number | null
  totalSteps: number | null
  targetEnd: number | null
  nLayers: number | null
  dim: number | null
  params: number | null
  gated: boolean
  /** sequences per optimizer step */
  batch: number | null
  tokensPerStep: number | null
  model: ModelConfig | null
  config: RunConfig | null
}

export interface Live {
  step: number
  totalSteps: number
  etaSeconds: number | null
  tokensPerSec: number | null
}

const TERMINAL_OR_IDLE = new Set(['completed', 'failed', 'cancelled', 'paused', 'interrupted', 'queued'])

/** Keys of a step's values sent with metrics-appended: run-level ones, not the per-layer ones. */
export const isRunLevelKey = (k: string) => !k.includes('/layer_')

export class Context {
  readonly dataDir: string
  readonly dbPath: string
  readonly runsDir: string
  readonly store: Store
  queue: JobQueue
  /** runs handed to Slurm clusters: polled every `clusterPollMs` while any cluster job is active */
  readonly clusters: ClusterManager
  private clusterTimer: NodeJS.Timeout | null = null
  readonly hub: EventHub
  settings: StoredSettings
  private readonly derivedCache = new Map<number, Derived>()
  /** newest training job per run */
  private readonly trainJobOf = new Map<number, number>()
  /** every job per run (train and eval), ascending */
  private readonly jobsOf = new Map<number, number[]>()
  /** the run each job belonged to when last seen (a retry gives a job a new run) */
  private readonly runOfJob = new Map<number, number | null>()
  readonly live = new Map<number, Live>()
  private offs: (() => void)[] = []
  private pendingConcurrency: number | null = null

  private constructor(
    private readonly opts: ContextOptions,
    store: Store,
  ) {
    this.dataDir = resolve(opts.dataDir)
    this.dbPath = store.path
    this.runsDir = opts.runsDir ? resolve(opts.runsDir) : runsDirBeside(this.dbPath)
    this.store = store
    this.hub = new EventHub(opts.throttleMs ?? 250)
    this.settings = loadSettings(this.homeDir)
    this.queue = this.makeQueue(this.settings.concurrency)
    for (const j of store.jobs.list({ limit: 10_000_000 }).reverse()) this.trackJob(j)
    this.clusters = new ClusterManager({ store, runsDir: this.runsDir, dataDir: this.dataDir })
    this.clusters.on('progress', (p) =>
      this.onProgress({ jobId: p.clusterJobId, runId: p.runId, event: p.event, step: p.step, totalSteps: p.totalSteps, values: p.values, tokensPerSec: p.values['train/tokens_per_sec'] ?? null, etaSeconds: null }),
    )
    this.clusters.on('run', (r) => {
      const run = this.store.runs.get(r.runId)
      if (!run) return
      this.derivedCache.delete(r.runId)
      this.hub.flushPrefix(`run:${r.runId}:`)
      if (TERMINAL_OR_IDLE.has(run.status)) this.live.delete(r.runId)
      this.emit({ type: 'run-status', runId: r.runId, experimentId: run.experimentId, status: run.status, error: run.error, jobId: null })
    })
    this.clusters.on('log', (l) => {
      const j = l.runId !== null ? this.store.clusters.latestOfRun(l.runId) : null
      if (j) this.emit({ type: 'log', runId: l.runId, jobId: j.id, level: l.level, message: l.message.slice(0, 4000) })
    })
  }

  /** Poll the clusters now and then every `ms` while jobs are active (re-attaches after a restart). */
  watchClusters(ms = Number(process.env.SKIPBENCH_CLUSTER_POLL_MS) || 2000): void {
    if (this.clusterTimer) return
    const tick = async () => {
      this.clusterTimer = null
      try {
        if (this.store.clusters.active().length) await this.clusters.poll()
      } catch {
        // a failed poll changes nothing; the next one retries (the manager reports per-cluster problems itself)
      }
      if (!this.closing) this.clusterTimer = setTimeout(() => void tick(), ms)
      this.clusterTimer?.unref?.()
    }
    this.clusterTimer = setTimeout(() => void tick(), 0)
    this.clusterTimer.unref?.()
  }
  private closing = false

  static async open(opts: ContextOptions): Promise<Context> {
    const dataDir = resolve(opts.dataDir)
    mkdirSync(dataDir, { recursive: true })
    const store = openStore(opts.dbPath ? resolve(opts.dbPath) : databaseIn(dataDir), opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {})
    const ctx = new Context(opts, store)
    mkdirSync(ctx.runsDir, { recursive: true })
    await ctx.queue.start()
    ctx.watchClusters()
    return ctx
  }

  /** the folder of the database: settings.json and the sweep calibration cache (calibration.json) live there */
  get homeDir(): string {
    return dirname(this.dbPath)
  }

  get calibrationFile(): string {
    return calibrationFileBeside(this.dbPath)
  }

  private makeQueue(concurrency: number): JobQueue {
    const q = new JobQueue({
      store: this.store,
      runsDir: this.runsDir,
      dataDir: this.dataDir,
      concurrency: { train: concurrency, eval: 1 },
      ...(this.opts.launcher ? { launcher: this.opts.launcher } : {}),
      ...(this.opts.workerEnv ? { workerEnv: this.opts.workerEnv } : {}),
    })
    this.offs.forEach((off) => off())
    this.offs = [
      q.on('job', ({ job }) => this.onJob(job)),
      q.on('progress', (p) => this.onProgress(p)),
      q.on('checkpoint', (c) => this.emit({ type: 'checkpoint', runId: c.runId, step: c.step, final: c.final })),
      q.on('log', (l) => this.emit({ type: 'log', runId: l.runId, jobId: l.jobId, level: l.level, message: l.message.slice(0, 4000) })),
      q.on('evaluation', ({ evaluation: e }) =>
        this.emit({
          type: 'evaluation',
          runId: e.runId,
          evaluation: { id: e.id, dataset: e.dataset, split: e.split, step: e.step, tokens: e.tokens, loss: finite(e.loss), flopsPerToken: finite(e.flopsPerToken), createdAt: e.createdAt },
        }),
      ),
    ]
    return q
  }

  emit(e: ServerEvent): void {
    this.hub.emit(e)
  }

  // ------------------------------------------------------------------ indexes

  private trackJob(j: Job): { newRun: boolean } {
    const before = this.runOfJob.get(j.id)
    this.runOfJob.set(j.id, j.runId)
    if (j.runId === null) return { newRun: false }
    const list = this.jobsOf.get(j.runId) ?? []
    if (!list.includes(j.id)) {
      list.push(j.id)
      list.sort((a, b) => a - b)
      this.jobsOf.set(j.runId, list)
    }
    if (j.kind === 'train' && (this.trainJobOf.get(j.runId) ?? 0) <= j.id) this.trainJobOf.set(j.runId, j.id)
    return { newRun: before !== undefined && before !== j.runId }
  }

  trainJob(runId: number): number | null {
    return this.trainJobOf.get(runId) ?? null
  }

  jobIds(runId: number): number[] {
    return this.jobsOf.get(runId) ?? []
  }

  forget(runId: number): void {
    this.derivedCache.delete(runId)
    this.trainJobOf.delete(runId)
    this.jobsOf.delete(runId)
    this.live.delete(runId)
  }

  derived(runOrId: number | Run): Derived {
    const id = typeof runOrId === 'number' ? runOrId : runOrId.id
    const hit = this.derivedCache.get(id)
    if (hit) return hit
    const run = typeof runOrId === 'number' ? this.store.runs.get(runOrId) : runOrId
    const d = run ? deriveRun(run) : emptyDerived()
    if (run) this.derivedCache.set(id, d)
    return d
  }

  // ------------------------------------------------------------------ queue events → ServerEvents

  private onJob(job: Job): void {
    const { newRun } = this.trackJob(job)
    if (job.runId === null || job.kind !== 'train') return
    const runId = job.runId
    const run = this.store.runs.get(runId)
    if (!run) return
    if (newRun) this.emit({ type: 'runs-changed', change: 'created', runIds: [runId], experimentId: run.experimentId })
    this.hub.flushPrefix(`run:${runId}:`)
    if (TERMINAL_OR_IDLE.has(run.status)) this.live.delete(runId)
    this.emit({ type: 'run-status', runId, experimentId: run.experimentId, status: run.status, error: run.error, jobId: job.id })
    if (['completed', 'failed', 'cancelled', 'paused', 'interrupted'].includes(job.status)) this.applyPendingConcurrency()
  }

  private onProgress(p: ProgressEvent): void {
    const experimentId = this.derived(p.runId).experimentId
    const values: Record<string, number | null> = {}
    for (const [k, v] of Object.entries(p.values)) if (isRunLevelKey(k)) values[k] = finite(v)
    if (p.event === 'step') {
      const done = p.step + 1
      this.live.set(p.runId, { step: done, totalSteps: p.totalSteps, etaSeconds: finite(p.etaSeconds), tokensPerSec: finite(p.tokensPerSec) })
      this.hub.emitThrottled(`run:${p.runId}:progress`, {
        type: 'job-progress',
        jobId: p.jobId,
        runId: p.runId,
        experimentId,
        step: done,
        totalSteps: p.totalSteps,
        tokensPerSec: finite(p.tokensPerSec),
        etaSeconds: finite(p.etaSeconds),
      })
    }
    this.hub.emitThrottled(`run:${p.runId}:${p.event}`, { type: 'metrics-appended', runId: p.runId, experimentId, event: p.event, step: p.step, values })
  }

  // ------------------------------------------------------------------ settings

  saveSettings(next: StoredSettings): string | null {
    const concurrencyChanged = next.concurrency !== this.settings.concurrency
    this.settings = next
    saveSettings(this.homeDir, next)
    if (!concurrencyChanged) return null
    this.pendingConcurrency = next.concurrency
    return this.applyPendingConcurrency() ? null : `concurrency ${next.concurrency} applies when the running jobs have finished`
  }

  /** A new concurrency needs a new runner; swap it only when no worker is running (nothing is interrupted). */
  private applyPendingConcurrency(): boolean {
    const n = this.pendingConcurrency
    if (n === null) return true
    if (this.queue.running.length) return false
    this.pendingConcurrency = null
    const old = this.queue
    void old.shutdown('pause').then(async () => {
      this.queue = this.makeQueue(n)
      await this.queue.start()
    })
    return true
  }

  async close(): Promise<void> {
    this.closing = true
    if (this.clusterTimer) clearTimeout(this.clusterTimer)
    await this.clusters.poll().catch(() => {})
    await this.queue.shutdown('pause')
    this.offs.forEach((off) => off())
    this.hub.close()
    this.store.close()
  }
}

export const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)

function emptyDerived(): Derived {
  return { experimentId: null, totalSteps: null, targetEnd: null, nLayers: null, dim: null, params: null, gated: false, batch: null, tokensPerStep: null, model: null, config: null }
}

function deriveRun(run: Run): Derived {
  const d = emptyDerived()
  d.experimentId = run.experimentId
  d.gated = run.kind === 'gated'
  try {
    const cfg = parseRunConfigWithWarnings(run.config).config
    d.config = cfg
    d.model = cfg.model
    d.totalSteps = cfg.training.train_steps
    d.nLayers = cfg.model.n_layers
    d.dim = cfg.model.dim
    d.params = paramCount(cfg.model)
    d.gated = runKind(cfg) === 'gated'
    d.batch = sequencesPerStep(cfg)
    d.tokensPerStep = tokensPerStep(cfg)
    d.targetEnd = targetEnd(cfg)
  } catch {
    // an ingested run from another version: show what the row itself knows
    const t = (run.config.training ?? {}) as { train_steps?: unknown }
    if (typeof t.train_steps === 'number') d.totalSteps = t.train_steps
  }
  return d
}
