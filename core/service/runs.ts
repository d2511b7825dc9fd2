/** Run lists, details, series, gate heatmaps, diffs and run actions over the store and the job queue. */
import { slurmInfo } from '../cluster/slurm.js'
import { cancelRun as cancelRunAnywhere, runPlace } from '../jobs/commands.js'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, relative, resolve, isAbsolute } from 'node:path'
import type { z } from 'zod'
import { CONFIG_FILE, MODEL_FILE } from '../checkpoint/index.js'
import { FINAL_DIR } from '../paths.js'
import { exportModel } from '../trainer/export-model.js'
import type { API, ApiHandlers, RunConfigDoc, CheckpointInfo, EvaluationInfo, GatesData, JobInfo, LogLine, RunDetail, RunRow, SeriesData } from '../contract/api.js'
import { cumulativeTrainingFlops } from '../flops/index.js'
import { compareRunMetrics, formatRerunComparison, queueRerun } from '../jobs/rerun.js'
import type { RunListQuery as StoreQuery, RunListRow } from '../store/runs.js'
import type { Job, RunStatus } from '../store/types.js'
import { type Context, finite, isRunLevelKey } from './context.js'
import { conflict, notFound } from './errors.js'
import { resolveDataPaths } from './paths.js'
import type { ServiceState } from './state.js'

type In<K extends keyof typeof API> = z.output<(typeof API)[K]['input']>

const SUMMARY_KEYS = ['train/loss', 'val/loss', 'val/zeros/mean']

function toRow(ctx: Context, r: Omit<RunListRow, 'summaries'> & { summaries?: RunListRow['summaries'] }): RunRow {
  const d = ctx.derived(r.id)
  const live = r.status === 'running' ? ctx.live.get(r.id) : undefined
  const s = r.summaries ?? {}
  return {
    id: r.id,
    uid: r.uid,
    name: r.name,
    experimentId: r.experimentId,
    experiment: r.experiment,
    kind: r.kind,
    status: r.status,
    seed: r.seed,
    engine: r.engine,
    backend: r.backend,
    dataset: r.dataset,
    tags: r.tags,
    error: r.error,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    lastStep: live ? Math.max(r.lastStep, live.step) : r.lastStep,
    totalSteps: d.totalSteps,
    tokensPerSec: finite(live?.tokensPerSec ?? r.tokensPerSec),
    etaSeconds: live ? live.etaSeconds : null,
    trainLoss: finite(s['train/loss']?.last),
    valLoss: finite(s['val/loss']?.last),
    zeroFraction: d.gated ? finite(s['val/zeros/mean']?.last) : null,
    targetEnd: d.targetEnd,
    nLayers: d.nLayers,
    dim: d.dim,
    params: d.params,
    jobId: ctx.trainJob(r.id),
    ...(r.group !== undefined ? { group: r.group } : {}),
  }
}

function listRuns(ctx: Context, q: In<'listRuns'>) {
  const sort: StoreQuery['sort'] = !q.sort
    ? { by: 'id', dir: 'desc' }
    : q.sort.by === 'val_loss'
      ? { metric: 'val/loss', agg: 'last', dir: q.sort.dir }
      : q.sort.by === 'train_loss'
        ? { metric: 'train/loss', agg: 'last', dir: q.sort.dir }
        : { by: q.sort.by, dir: q.sort.dir }
  const r = ctx.store.runs.list({
    ...(q.experimentId !== undefined ? { experimentId: q.experimentId } : {}),
    ...(q.status?.length ? { status: q.status } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.search?.trim() ? { search: q.search.trim() } : {}),
    ...(q.tags?.length ? { tags: q.tags } : {}),
    ...(q.where?.trim() ? { where: q.where } : {}),
    ...(q.groupBy ? { groupBy: q.groupBy } : {}),
    summaries: SUMMARY_KEYS,
    sort,
    limit: q.limit,
    offset: q.offset,
  })
  return { total: r.total, rows: r.rows.map((row) => toRow(ctx, row)) }
}

/** One run as a table row (the same shape listRuns gives). */
function runRow(ctx: Context, runId: number): RunRow {
  const r = ctx.store.runs.list({ ids: [runId], summaries: SUMMARY_KEYS, limit: 1 }).rows[0]
  if (!r) throw notFound(`run ${runId}`)
  return toRow(ctx, r)
}

const jobInfo = (j: Job): JobInfo => ({ id: j.id, kind: j.kind, status: j.status, attempts: j.attempts, error: j.error, resumeFrom: j.resumeFrom, createdAt: j.createdAt, endedAt: j.endedAt })

function getRun(ctx: Context, runId: number): RunDetail {
  const run = ctx.store.runs.get(runId)
  if (!run) throw notFound(`run ${runId}`)
  const jobs = ctx.jobIds(runId).map((id) => ctx.store.jobs.get(id)).filter((j): j is Job => !!j)
  const trainId = ctx.trainJob(runId)
  const checkpoints: CheckpointInfo[] = ctx.store.checkpoints.list(runId).map((c) => ({ id: c.id, step: c.step, path: c.path, final: c.final, bytes: c.bytes, valid: c.valid, problem: c.problem, createdAt: c.createdAt }))
  const evaluations: EvaluationInfo[] = ctx.store.evaluations.list(runId).map((e) => ({ id: e.id, dataset: e.dataset, split: e.split, step: e.step, tokens: e.tokens, loss: finite(e.loss), flopsPerToken: finite(e.flopsPerToken), createdAt: e.createdAt }))
  return {
    run: runRow(ctx, runId),
    config: run.config,
    runDir: run.runDir,
    notes: run.notes,
    versions: run.versions,
    gated: ctx.derived(run).gated,
    slurm: (() => {
      const j = ctx.store.clusters.latestOfRun(runId)
      return j ? slurmInfo(j) : null
    })(),
    job: trainId !== null ? jobInfo(ctx.store.jobs.require(trainId)) : null,
    jobs: jobs.map(jobInfo),
    checkpoints,
    evaluations,
    metricKeys: ctx.store.metrics.keys(runId).filter(isRunLevelKey),
    provenance: run.provenance,
    rerun: rerunInfo(ctx, run.id, run.rerunOf, run.status),
  }
}

function rerunInfo(ctx: Context, runId: number, of: number | null, status: RunStatus): RunDetail['rerun'] {
  if (of === null) return null
  if (!ctx.store.runs.get(of)) return { of, identical: null, compared: 0, mismatchCount: 0, summary: `run ${of} (the original) was deleted; nothing to compare` }
  if (status !== 'completed') return { of, identical: null, compared: 0, mismatchCount: 0, summary: `re-run of run ${of}: compared bit for bit once it completes (now ${status})` }
  const c = compareRunMetrics(ctx.store, of, runId)
  return { of, identical: c.identical, compared: c.compared, mismatchCount: c.mismatchCount, summary: formatRerunComparison(c) }
}

function getRunLogs(ctx: Context, q: In<'getRunLogs'>): LogLine[] {
  if (!ctx.store.runs.get(q.runId)) throw notFound(`run ${q.runId}`)
  return ctx.store.logs.forRun(q.runId, { afterId: q.afterId, limit: q.limit }).map((l) => ({ id: l.id, at: l.at, level: l.level, message: l.message, jobId: l.jobId }))
}

// ------------------------------------------------------------------------------------------------ series

/**
 * Cumulative training FLOPs after n steps (index n), by core/flops from the logged per-step zero fractions (gated; a
 * step with no or an invalid value takes the previous one) or none (dense).
 */
function cumulativeFlops(ctx: Context, runId: number, estimator: 'paper' | 'corrected', upTo: number): Float64Array | null {
  const d = ctx.derived(runId)
  if (!d.model || !d.batch) return null
  const steps = upTo + 1
  if (!d.gated) return cumulativeTrainingFlops(d.model, { estimator, batchSize: d.batch, steps })
  const z = ctx.store.metrics.series(runId, 'train/zeros/mean', { maxPoints: 0 })
  const byStep = new Map<number, number>()
  z.steps.forEach((s, i) => byStep.set(s, z.values[i]!))
  const zeros = new Float64Array(steps)
  let last = 0
  for (let n = 0; n < steps; n++) {
    let s = byStep.get(n) ?? last
    if (!Number.isFinite(s) || s < 0 || s > 1) s = 0
    zeros[n] = last = s
  }
  return cumulativeTrainingFlops(d.model, { estimator, batchSize: d.batch, zeroFractions: zeros })
}

function getSeries(ctx: Context, q: In<'getSeries'>): { series: SeriesData[] } {
  const out: SeriesData[] = []
  for (const runId of q.runIds) {
    const run = ctx.store.runs.get(runId)
    if (!run) continue
    const d = ctx.derived(run)
    let cum: Float64Array | null | undefined
    for (const key of q.keys) {
      const s = ctx.store.metrics.series(runId, key, { maxPoints: q.maxPoints })
      // step s of a training key is the (s+1)-th optimizer step; a validation at step s comes after s steps
      const seen = (step: number) => (key.startsWith('val/') ? step : step + 1)
      let x: number[]
      if (q.x === 'step') x = s.steps
      else if (q.x === 'tokens') x = s.steps.map((st) => seen(st) * (d.tokensPerStep ?? 0))
      else {
        if (cum === undefined) cum = cumulativeFlops(ctx, runId, q.estimator, Math.max(run.lastStep, ...s.steps, 0))
        x = s.steps.map((st) => (cum ? cum[Math.min(seen(st), cum.length - 1)]! : 0))
      }
      out.push({ runId, key, x, y: s.values.map((v) => finite(v)), total: s.total })
    }
  }
  return { series: out }
}

function getGates(ctx: Context, q: In<'getGates'>): GatesData {
  const d = ctx.derived(q.runId)
  if (!ctx.store.runs.get(q.runId)) throw notFound(`run ${q.runId}`)
  const layers = d.nLayers ?? 0
  const empty: GatesData = { steps: [], values: [], layers, metric: q.metric, split: q.split }
  if (!d.gated || !layers) return empty
  const key = (l: number) => `${q.split}/${q.metric}/mean/layer_${String(l).padStart(2, '0')}`
  const series = Array.from({ length: layers }, (_, l) => ctx.store.metrics.series(q.runId, key(l), { maxPoints: 0 }))
  const steps = series[0]?.steps ?? []
  if (!steps.length) return empty
  const n = steps.length
  const cols = Math.min(n, q.maxColumns)
  const idx = Array.from({ length: cols }, (_, i) => (cols === 1 ? n - 1 : Math.round((i * (n - 1)) / (cols - 1))))
  return {
    steps: idx.map((i) => steps[i]!),
    values: series.map((s) => {
      const at = new Map<number, number>()
      s.steps.forEach((st, i) => at.set(st, s.values[i]!))
      return idx.map((i) => finite(at.get(steps[i]!)))
    }),
    layers,
    metric: q.metric,
    split: q.split,
  }
}

function diffRuns(ctx: Context, ids: number[]) {
  for (const id of ids) if (!ctx.store.runs.get(id)) throw notFound(`run ${id}`)
  const d = ctx.store.runs.diff(ids)
  return { runs: d.runs, fields: d.fields.map((f) => ({ path: f.path, values: f.values })) }
}

// ------------------------------------------------------------------------------------------------ actions

function requireTrainJob(ctx: Context, runId: number): number {
  if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
  const j = ctx.trainJob(runId)
  if (j === null) throw conflict(`run ${runId} has no training job here (it was imported from a run folder): clone it to train again`)
  return j
}

/** Cancel wherever the run runs (core/jobs cancelRun: this runner's queue, or scancel on its Slurm cluster). */
async function cancelRun(ctx: Context, runId: number): Promise<RunRow> {
  if (runPlace(ctx.store, runId) === 'local') requireTrainJob(ctx, runId)
  await cancelRunAnywhere(ctx.store, runId, { queue: ctx.queue, cluster: ctx.clusters, runsDir: ctx.runsDir })
  return runRow(ctx, runId)
}

function resumeRun(ctx: Context, runId: number): RunRow {
  ctx.queue.resume(requireTrainJob(ctx, runId))
  return runRow(ctx, runId)
}

function retryRun(ctx: Context, runId: number): { runId: number; jobId: number } {
  const job = ctx.queue.retry(requireTrainJob(ctx, runId))
  if (job.runId === null) throw conflict(`retrying run ${runId} created no run`)
  return { runId: job.runId, jobId: job.id }
}

const ACTIVE_JOB = ['running', 'pausing', 'cancelling']

/** Delete a run (its metrics, checkpoints rows, logs; with deleteFiles also its folder). A live run is cancelled first. */
export async function deleteRun(ctx: Context, runId: number, deleteFiles: boolean): Promise<{ deleted: boolean }> {
  const run = ctx.store.runs.get(runId)
  if (!run) throw notFound(`run ${runId}`)
  for (const jobId of ctx.jobIds(runId)) {
    const j = ctx.store.jobs.get(jobId)
    if (!j) continue
    if (j.status === 'queued') ctx.queue.cancel(jobId)
    else if (ACTIVE_JOB.includes(j.status)) {
      if (j.status === 'running') ctx.queue.cancel(jobId)
      await ctx.queue.waitFor(jobId, ['completed', 'failed', 'cancelled', 'paused', 'interrupted'], 90_000)
    }
  }
  const deleted = ctx.store.runs.remove(runId)
  if (deleteFiles && run.runDir) {
    // only inside our own runs folder: never delete a folder a run was imported from
    const rel = relative(ctx.runsDir, resolve(run.runDir))
    if (rel && !rel.startsWith('..') && !isAbsolute(rel) && existsSync(run.runDir)) rmSync(run.runDir, { recursive: true, force: true })
  }
  ctx.forget(runId)
  if (deleted) ctx.emit({ type: 'runs-changed', change: 'deleted', runIds: [runId], experimentId: run.experimentId })
  return { deleted }
}

type RunMethod =
  | 'listRuns'
  | 'getRun'
  | 'getRunLogs'
  | 'getSeries'
  | 'getGates'
  | 'diffRuns'
  | 'cancelRun'
  | 'resumeRun'
  | 'retryRun'
  | 'rerunRun'
  | 'updateRun'
  | 'deleteRun'
  | 'cloneRun'
  | 'evaluateRun'
  | 'exportModel'

export function runHandlers(s: ServiceState): Pick<ApiHandlers, RunMethod> {
  return {
    async listRuns(q) {
      return listRuns(s.ctx, q)
    },
    async getRun({ runId }) {
      return getRun(s.ctx, runId)
    },
    async getRunLogs(q) {
      return getRunLogs(s.ctx, q)
    },
    async getSeries(q) {
      return getSeries(s.ctx, q)
    },
    async getGates(q) {
      return getGates(s.ctx, q)
    },
    async diffRuns({ runIds }) {
      return diffRuns(s.ctx, runIds)
    },
    async cancelRun({ runId }) {
      return cancelRun(s.ctx, runId)
    },
    async resumeRun({ runId }) {
      return resumeRun(s.ctx, runId)
    },
    async retryRun({ runId }) {
      const ctx = s.ctx
      const r = retryRun(ctx, runId)
      ctx.emit({ type: 'runs-changed', change: 'created', runIds: [r.runId], experimentId: ctx.derived(r.runId).experimentId })
      return r
    },
    async rerunRun({ runId }) {
      const ctx = s.ctx
      if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
      const { job, run } = queueRerun(ctx.store, runId, ctx.runsDir, (c, o) => ctx.queue.addTrain(c, o))
      ctx.emit({ type: 'runs-changed', change: 'created', runIds: [run.id], experimentId: run.experimentId })
      return { runId: run.id, jobId: job.id }
    },
    async updateRun({ runId, ...patch }) {
      const ctx = s.ctx
      if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
      ctx.store.runs.update(runId, patch)
      const row = runRow(ctx, runId)
      ctx.emit({ type: 'runs-changed', change: 'updated', runIds: [runId], experimentId: row.experimentId })
      return row
    },
    async deleteRun({ runId, deleteFiles }) {
      return deleteRun(s.ctx, runId, deleteFiles)
    },
    async cloneRun({ runId }) {
      const run = s.ctx.store.runs.get(runId)
      if (!run) throw notFound(`run ${runId}`)
      const config = structuredClone(run.config) as RunConfigDoc
      const name = `${run.name} (copy)`
      config.name = name
      return { config, name, experimentId: run.experimentId }
    },
    async evaluateRun({ runId, dataset, tokenizer, valTokens }) {
      const ctx = s.ctx
      if (!ctx.store.runs.get(runId)) throw notFound(`run ${runId}`)
      // evaluation data by path obeys the same rule as every other path (core/service/paths.ts)
      const data = resolveDataPaths({ dataset, ...(tokenizer ? { tokenizer } : {}) }, s.paths)
      const job = ctx.queue.addEval(runId, { data, ...(valTokens ? { valTokens } : {}) })
      return { jobId: job.id }
    },
    async exportModel({ runId, format, dtype, outDir }) {
      const ctx = s.ctx
      const run = ctx.store.runs.get(runId)
      if (!run) throw notFound(`run ${runId}`)
      const ck = run.runDir ? join(run.runDir, FINAL_DIR) : null
      if (!ck || !existsSync(join(ck, CONFIG_FILE))) throw conflict(`run ${runId} has no final checkpoint yet: export it once it has finished training`)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
      const dir = outDir ? s.paths.resolve(outDir, 'export folder', 'write') : join(ctx.homeDir, 'exports', `${run.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stamp}`)
      const file = join(dir, format === 'onnx' ? 'model.onnx' : MODEL_FILE)
      if (existsSync(file) || (format === 'safetensors' && existsSync(join(dir, CONFIG_FILE))))
        throw conflict(`${existsSync(file) ? file : join(dir, CONFIG_FILE)} already exists: choose another folder`)
      mkdirSync(dir, { recursive: true })
      const r = await exportModel({ checkpoint: ck, format, out: file, dtype })
      return { path: r.path, bytes: r.bytes, format: r.format, dtype: r.dtype, configPath: r.configPath }
    },
  }
}
