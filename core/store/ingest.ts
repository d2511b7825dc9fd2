/**
 * Ingest a run folder (written by the CLI, the job runner, another machine or a cluster job) into the store.
 *
 * Idempotent: the run is found by its uid (run.json `id`, else a hash of start time + config), metric rows are
 * keyed (run, key, step) and inserted only when missing, checkpoints by (run, path). Ingesting the same folder
 * again adds nothing. Partial folders ingest what is there: no metrics.jsonl or no checkpoints is fine, and a last
 * metrics line cut short by a crash is skipped. Only run.json is required (it holds the config).
 *
 * Resumed runs: the trainer truncates metrics.jsonl to the checkpoint when it resumes, so after an external resume
 * the folder is authoritative for the region after the earliest resume point: if the stored rows there differ from
 * the file (an earlier ingest saw the abandoned timeline), they are discarded and re-read. Rows before that point
 * are never deleted by an ingest.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { IngestError } from './errors.js'
import {
  checkpointProblem,
  keptOnResume,
  lineValues,
  listCheckpoints,
  METRICS_JSONL,
  readLines,
  RUN_JSON,
  runKind,
  runStatusOfFolder,
  runUid,
  type RunJson,
} from './run-folder.js'
import type { Store } from './store.js'
import { nowIso, type JsonObject, type MetricPoint, type RunPatch } from './types.js'
import { jsonProblem } from '../util/json-problem.js'

export interface IngestOptions {
  /** put a newly created run in this experiment */
  experimentId?: number | null
  /**
   * Take status / ended_at / error from run.json for a run that already exists. Default true. The job runner passes
   * false for runs it manages (its own status — paused, interrupted — is more precise than the folder's).
   */
  updateStatus?: boolean
}

export interface IngestResult {
  runId: number
  uid: string
  created: boolean
  /** metric rows added (0 on a re-ingest) */
  metricsAdded: number
  /** rows discarded because the folder was resumed past them (see above) */
  metricsDiscarded: number
  metricLines: number
  /** lines that were not metric events or not valid JSON (e.g. a last line cut short) */
  skippedLines: number
  checkpointsAdded: number
  /** checkpoints found missing or corrupt (marked invalid) */
  checkpointsInvalid: number
  warnings: string[]
}

function readRunJson(dir: string): RunJson {
  const path = join(dir, RUN_JSON)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new IngestError(dir, 'no such run folder')
  if (!existsSync(path)) throw new IngestError(dir, `no ${RUN_JSON}: not a run folder, or the run never started`)
  let run: unknown
  try {
    run = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new IngestError(dir, `${RUN_JSON} is ${jsonProblem(e)}`)
  }
  if (!run || typeof run !== 'object' || Array.isArray(run)) throw new IngestError(dir, `${RUN_JSON} is not a JSON object`)
  const r = run as RunJson
  if (!r.config || typeof r.config !== 'object') throw new IngestError(dir, `${RUN_JSON} has no "config": cannot tell what was trained`)
  return r
}

/** Metric points of a metrics.jsonl, in file order. */
export function readMetricsFile(path: string): { points: MetricPoint[]; lines: number; skipped: number } {
  const points: MetricPoint[] = []
  let lines = 0
  let skipped = 0
  if (!existsSync(path)) return { points, lines, skipped }
  for (const { line, complete } of readLines(path)) {
    if (!line.trim()) continue
    let obj: unknown
    try {
      obj = JSON.parse(line)
    } catch {
      skipped++
      continue
    }
    const lv = obj && typeof obj === 'object' ? lineValues(obj as Record<string, unknown>) : null
    if (!lv) {
      skipped++
      continue
    }
    // a complete JSON object without its newline is still a whole record (the newline is written in the same call)
    void complete
    lines++
    for (const [key, value] of Object.entries(lv.values)) points.push({ step: lv.step, key, value })
  }
  return { points, lines, skipped }
}

const sameNumber = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b))

export function ingestRunFolder(store: Store, dirIn: string, opts: IngestOptions = {}): IngestResult {
  const dir = resolve(dirIn)
  const run = readRunJson(dir)
  const uid = runUid(run)
  const metrics = readMetricsFile(join(dir, METRICS_JSONL))
  const warnings: string[] = []
  if (metrics.skipped) warnings.push(`${metrics.skipped} line(s) of ${METRICS_JSONL} skipped (not metric events, or cut short)`)

  const config = run.config as JsonObject
  const data = run.data ?? {}
  const datasetName = typeof data.dataset === 'string' ? data.dataset : typeof (config.data as JsonObject | undefined)?.dataset === 'string' ? String((config.data as JsonObject).dataset) : null
  const versions: Record<string, string> = {}
  for (const [k, v] of Object.entries(run.engine?.versions ?? {})) versions[k] = String(v)
  const resumes = Array.isArray(run.resumes) ? (run.resumes as { from_step?: unknown }[]) : []
  const resumeSteps = resumes.map((r) => r.from_step).filter((s): s is number => typeof s === 'number' && Number.isInteger(s))
  const earliestResume = resumeSteps.length ? Math.min(...resumeSteps) : null

  return store.transaction(() => {
    let dataset = null
    if (datasetName)
      dataset = store.datasets.upsert({
        name: datasetName,
        tokenizer: typeof data.tokenizer === 'string' ? data.tokenizer : null,
        vocabSize: typeof data.vocabSize === 'number' ? data.vocabSize : null,
        trainTokens: typeof data.trainTokens === 'number' ? data.trainTokens : null,
        valTokens: typeof data.valTokens === 'number' ? data.valTokens : null,
      })

    const fields: RunPatch = {
      name: (typeof run.name === 'string' && run.name) || (typeof config.name === 'string' && config.name) || basename(dir),
      kind: runKind(config),
      config,
      seed: typeof run.seed === 'number' ? run.seed : null,
      engine: run.engine?.engine ?? null,
      backend: run.engine?.backend ?? null,
      versions,
      dataset: datasetName,
      datasetId: dataset?.id ?? null,
      runDir: dir,
      startedAt: run.started_at ?? null,
      ...(run.provenance && typeof run.provenance === 'object' && !Array.isArray(run.provenance) ? { provenance: run.provenance as JsonObject } : {}),
    }
    const statusFields: RunPatch = {
      status: runStatusOfFolder(run.status),
      endedAt: run.ended_at ?? null,
      error: typeof run.error === 'string' ? run.error : null,
    }

    let existing = store.runs.byUid(uid)
    const created = !existing
    if (!existing) {
      existing = store.runs.create({ ...fields, ...statusFields, uid, name: fields.name!, kind: fields.kind!, config, experimentId: opts.experimentId ?? null })
    } else {
      const patch: RunPatch = {}
      const want: RunPatch = { ...fields, ...(opts.updateStatus === false ? {} : statusFields) }
      for (const [k, v] of Object.entries(want) as [keyof RunPatch, unknown][]) {
        const cur = (existing as unknown as Record<string, unknown>)[k]
        if (JSON.stringify(cur ?? null) !== JSON.stringify(v ?? null)) (patch as Record<string, unknown>)[k] = v
      }
      if (opts.experimentId !== undefined && opts.experimentId !== existing.experimentId) patch.experimentId = opts.experimentId
      if (Object.keys(patch).length) existing = store.runs.update(existing.id, patch)
    }
    const runId = existing.id

    // resumed folders: make the region after the earliest resume point match the file
    let discarded = 0
    if (!created && earliestResume !== null) {
      const fileRegion = new Map<string, number>()
      for (const p of metrics.points) if (!keptOnResume(p.key, p.step, earliestResume)) fileRegion.set(`${p.key}\u0000${p.step}`, p.value)
      const dbRegion = store.db
        .prepare(`SELECT k.key, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? AND m.step >= ?`)
        .all(runId, earliestResume) as { key: string; step: number; value: number | null }[]
      let differs = false
      let dbCount = 0
      for (const r of dbRegion) {
        if (keptOnResume(r.key, r.step, earliestResume)) continue
        dbCount++
        const f = fileRegion.get(`${r.key}\u0000${r.step}`)
        if (f === undefined || !sameNumber(f, r.value === null ? NaN : r.value)) {
          differs = true
          break
        }
      }
      if (differs || (dbCount > fileRegion.size && dbCount > 0)) {
        discarded = store.metrics.discardForResume(runId, earliestResume)
        warnings.push(`discarded ${discarded} stored metric row(s) after step ${earliestResume}: the folder was resumed from there`)
      }
    }
    const added = store.metrics.insert(runId, metrics.points)
    // throughput has one definition (the store's, warm-up step excluded), whichever path wrote the metrics
    const tps = store.metrics.meanTokensPerSec(runId)
    if (tps !== null && tps !== existing.tokensPerSec) store.runs.update(runId, { tokensPerSec: tps })

    const { added: checkpointsAdded, invalid: checkpointsInvalid } = syncCheckpoints(store, runId, dir)
    if (created) store.logs.add({ runId, level: 'info', message: `ingested from ${dir} at ${nowIso()}` })
    return {
      runId,
      uid,
      created,
      metricsAdded: added,
      metricsDiscarded: discarded,
      metricLines: metrics.lines,
      skippedLines: metrics.skipped,
      checkpointsAdded,
      checkpointsInvalid,
      warnings,
    }
  })
}

/**
 * Make a run's checkpoint rows match its folder: record every training checkpoint found (checkpoints/step-*,
 * final/), mark missing or structurally broken ones invalid with the reason. Call inside a transaction.
 */
export function syncCheckpoints(store: Store, runId: number, dirIn: string): { added: number; invalid: number } {
  const dir = resolve(dirIn)
  let checkpointsAdded = 0
  let checkpointsInvalid = 0
  const seen = new Set<string>()
  for (const c of existsSync(dir) ? listCheckpoints(dir) : []) {
    seen.add(c.dir)
    const before = store.checkpoints.byPath(runId, c.dir)
    const problem = checkpointProblem(c.dir)
    let bytes: number | null = null
    try {
      bytes = statSync(join(c.dir, 'model.safetensors')).size
    } catch {
      bytes = null
    }
    // a row once marked invalid stays so (it may look fine and still not load); a checkpoint written again under
    // the same name is revived by the live path (CheckpointsRepository.record from the trainer's event)
    if (!before || before.step !== c.step || before.final !== c.final) {
      const rec = store.checkpoints.record(runId, { step: c.step, path: c.dir, final: c.final, bytes })
      if (!before) checkpointsAdded++
      if (problem) {
        store.checkpoints.markInvalid(rec.id, problem)
        checkpointsInvalid++
      }
    } else if (problem && before.valid) {
      store.checkpoints.markInvalid(before.id, problem)
      checkpointsInvalid++
    }
  }
  for (const c of store.checkpoints.list(runId)) {
    if (seen.has(c.path) || !c.valid) continue
    const problem = checkpointProblem(c.path) ?? (c.path.startsWith(dir) ? `${c.path}: not a training checkpoint any more` : null)
    if (problem) {
      store.checkpoints.markInvalid(c.id, problem)
      checkpointsInvalid++
    }
  }
  return { added: checkpointsAdded, invalid: checkpointsInvalid }
}
