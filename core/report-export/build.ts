/**
 * Store → ReportModel (core/report/model.ts): the experiment's (or the selected) runs, costed once by the
 * stored-runs → RunRecords builder (core/analysis/stored-runs.ts), compared under both estimators and both FLOPs kinds
 * (core/analysis compareRuns), with the table, the series and the reproducibility appendix read from the store
 * and the run folders.
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { version as echartsVersion } from 'echarts'
import { FLOPS_ESTIMATORS, type FlopsEstimator } from '../flops/index.js'
import {
  QUESTION,
  REPORT_FLOPS_KINDS,
  runColor,
  slug,
  type ReportAppendixRun,
  type ReportDataset,
  type ReportFlopsKind,
  type ReportGates,
  type ReportModel,
  type ReportRun,
  type ReportSeries,
} from '../report/index.js'
import { flatten } from '../store/diff.js'
import type { Store } from '../store/store.js'
import type { Run } from '../store/types.js'
import { targetEnd } from '../config/index.js'
import type { Provenance } from '../provenance/index.js'
import { addExclusions, compareRuns, experimentRuns, findExperiment, runRecordsFromStore, toRunRecord, type Comparison, type CostedRun, type Excluded, type ValidationSource } from '../analysis/index.js'
import { layerKey } from '../trainer/gate-metrics.js'
import { packageVersion } from '../paths.js'
import { UserError } from '../user-errors.js'

export class ReportError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'ReportError'
  }
}

export interface ReportOptions {
  /** an experiment (name or id) */
  experiment?: string | number
  /** or these runs (with `experiment`: a subset of it) */
  runIds?: number[]
  /** the headline estimator (both are always computed); default "paper" */
  estimator?: FlopsEstimator
  /** the headline FLOPs (both are always computed); default "inference" */
  flopsKind?: ReportFlopsKind
  /** validation CE source (core/analysis costRun); default "auto" */
  source?: ValidationSource
  /** confidence level of every interval; default 0.95 */
  level?: number
  title?: string
  /** curve figures show at most this many runs (more: one per seed group); default 16 */
  maxCurves?: number
  /** gate heatmaps for at most this many gated runs; default 12 */
  maxHeatmaps?: number
  /** columns (logged steps) of a gate heatmap; default 48 */
  heatmapColumns?: number
  /** training-loss points per run (LTTB over the stored points); default 400 */
  curvePoints?: number
  /** ISO time written into the report (default now) */
  generatedAt?: string
}

const GATES_KEY = 'train/gates/mean'

interface RunJson {
  host?: { node?: string; platform?: string; arch?: string }
  data?: { dataset?: string; tokenizer?: string; trainShards?: string[]; valShards?: string[]; trainTokens?: number; valTokens?: number }
}

function readRunJson(run: Run): RunJson | null {
  if (!run.runDir) return null
  const p = join(run.runDir, 'run.json')
  if (!existsSync(p)) return null
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as RunJson
  } catch {
    return null
  }
}

interface Manifest {
  name?: string
  description?: string
  tokenizer?: string
  source?: { kind?: string; inputs?: string[]; cacheKey?: string; attribution?: string; textSha256?: string; url?: string; urls?: string[] }
  split?: { method?: string; valFraction?: number; seed?: number }
  splits?: Record<string, { tokens?: number; shards?: { file: string; numTokens?: number; sha256?: string }[] }>
}

function readManifest(dir: string, cache: Map<string, Manifest | null>): Manifest | null {
  if (cache.has(dir)) return cache.get(dir)!
  let m: Manifest | null = null
  const p = join(dir, 'dataset.json')
  if (existsSync(p))
    try {
      m = JSON.parse(readFileSync(p, 'utf8')) as Manifest
    } catch {
      m = null
    }
  cache.set(dir, m)
  return m
}

/** Nested object from dotted paths (inverse of core/store flatten). */
function unflatten(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [path, v] of entries) {
    const parts = path.split('.')
    let o = out
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>
    o[parts.at(-1)!] = v
  }
  return out
}

const evenly = (n: number, k: number): number[] => {
  if (n <= k) return Array.from({ length: n }, (_, i) => i)
  const out = new Set<number>()
  for (let i = 0; i < k; i++) out.add(Math.round((i * (n - 1)) / (k - 1)))
  return [...out].sort((a, b) => a - b)
}

function selectRuns(store: Store, o: ReportOptions): { runs: Run[]; experiment: ReportModel['source']['experiment'] } {
  const exp = o.experiment !== undefined ? findExperiment(store, o.experiment) : null
  let runs: Run[]
  if (o.runIds?.length) {
    runs = experimentRuns(store, { runIds: o.runIds })
    if (exp) {
      const outside = runs.filter((r) => r.experimentId !== exp.id)
      if (outside.length) throw new ReportError(`run${outside.length === 1 ? '' : 's'} ${outside.map((r) => `${r.id} (${r.name})`).join(', ')} not in experiment "${exp.name}"`)
    }
  } else if (exp) runs = experimentRuns(store, { experiment: exp.id })
  else throw new ReportError('give an experiment or run ids')
  if (!runs.length) throw new ReportError(exp ? `experiment "${exp.name}" has no runs` : 'no runs')
  return { runs, experiment: exp ? { id: exp.id, name: exp.name, description: exp.description } : null }
}

/** Build the report model of an experiment or a list of runs. Reads only; throws ReportError/NotFoundError (no such experiment) for user errors. */
export function buildReportModel(store: Store, o: ReportOptions): ReportModel {
  const estimator = o.estimator ?? 'paper'
  const flopsKind = o.flopsKind ?? 'inference'
  const level = o.level ?? 0.95
  const { runs, experiment } = selectRuns(store, o)
  const runIds = runs.map((r) => r.id)

  // cost every run once (the sweeps' builder), then compare under both estimators and every x axis (both FLOPs kinds
  // and the evaluation time measured on this machine, from each final checkpoint's measured-cost.json)
  const { costed, excluded: notCosted } = runRecordsFromStore(store, { runIds, estimator, ...(o.source ? { source: o.source } : {}) })
  const comparisons = {} as ReportModel['comparisons']
  for (const est of FLOPS_ESTIMATORS) {
    const records = costed.map((c) => toRunRecord(c, est))
    comparisons[est] = {} as Record<ReportFlopsKind, Comparison>
    for (const kind of REPORT_FLOPS_KINDS) {
      const c = compareRuns(records, { estimator: est, flopsKind: kind, level })
      addExclusions(c, notCosted)
      comparisons[est][kind] = c
    }
  }
  const primary = comparisons[estimator][flopsKind]
  const costedById = new Map<number, CostedRun>(costed.map((c) => [c.run.id, c]))
  const recordIdOf = (r: Run) => `${r.name}#${r.id}`
  const excludedById = new Map<string, Excluded>(primary.excluded.map((e) => [e.id, e]))
  const groupById = new Map<string, (typeof primary.groups)[number]>()
  for (const g of primary.groups) for (const id of g.ids) groupById.set(id, g)
  const gapOf = (est: FlopsEstimator) => new Map(comparisons[est][flopsKind].gated.map((g) => [g.id, g.atEqualFlops.gap]))
  const gaps = { paper: gapOf('paper'), corrected: gapOf('corrected') }

  // the config fields that differ (name and seed aside)
  const configs = runs.map((r) => {
    const c = structuredClone(r.config) as Record<string, unknown>
    delete c.name
    if (c.training && typeof c.training === 'object') delete (c.training as Record<string, unknown>).seed
    return c
  })
  const flats = configs.map((c) => flatten(c))
  const paths = [...new Set(flats.flatMap((f) => [...f.keys()]))].sort()
  const same = (vs: unknown[]) => vs.every((v) => JSON.stringify(v) === JSON.stringify(vs[0]))
  // a field is shared when every run has it with the same value; else it differs (present in some runs only counts)
  const shared = paths.filter((p) => flats.every((f) => f.has(p)) && same(flats.map((f) => f.get(p))))
  const differing = paths.filter((p) => !shared.includes(p))
  // a short column label: the last segment ("n_layers"), the parent for a ".name" ("controller"), the path when ambiguous
  const lastSeg = (p: string) => {
    const parts = p.split('.')
    return parts.at(-1) === 'name' && parts.length > 1 ? parts.at(-2)! : parts.at(-1)!
  }
  const labels = differing.map((p) => (differing.filter((q) => lastSeg(q) === lastSeg(p)).length > 1 ? p : lastSeg(p)))
  const base = unflatten(shared.map((p) => [p, flats[0]!.get(p)]))

  // the run table
  const runJsons = new Map<number, RunJson | null>(runs.map((r) => [r.id, readRunJson(r)]))
  const rows: ReportRun[] = runs.map((run, i) => {
    const id = recordIdOf(run)
    const k = costedById.get(run.id)
    const g = groupById.get(id)
    const summaries = store.metrics.summaries(run.id)
    const tokens = summaries.find((s) => s.key === 'train/tokens')?.lastValue ?? null
    const cfg = run.config as { training?: { train_steps?: number; batch_size?: number; grad_acc_steps?: number }; model?: { max_seq_len?: number } }
    const steps = k?.steps ?? cfg.training?.train_steps ?? null
    const fallbackTokens = k ? k.steps * k.batchSize * k.config.model.max_seq_len : null
    const t0 = run.startedAt ? Date.parse(run.startedAt) : NaN
    const t1 = run.endedAt ? Date.parse(run.endedAt) : NaN
    const ex = excludedById.get(id)
    return {
      id,
      runId: run.id,
      uid: run.uid,
      name: run.name,
      kind: run.kind,
      status: run.status,
      seed: run.seed,
      fields: Object.fromEntries(differing.filter((p) => flats[i]!.has(p)).map((p) => [p, flats[i]!.get(p)])),
      valLoss: k?.validation.loss ?? null,
      valTokens: k?.validation.tokens ?? null,
      valStep: k?.validation.step ?? null,
      validationSource: k?.validation.source ?? null,
      group: g ? { key: g.key, label: g.label, n: g.n, loss: g.loss } : null,
      flops: k ? { paper: { ...k.flops.paper }, corrected: { ...k.flops.corrected } } : null,
      gap: k && run.kind === 'gated' ? { paper: gaps.paper.get(id) ?? null, corrected: gaps.corrected.get(id) ?? null } : null,
      sparsity: k && run.kind === 'gated' ? k.validation.zeroFraction : null,
      targetEnd: k ? targetEnd(k.config) : null,
      trainTokens: tokens ?? fallbackTokens,
      steps,
      wallSeconds: Number.isFinite(t0) && Number.isFinite(t1) ? (t1 - t0) / 1000 : null,
      engine: run.engine,
      backend: run.backend,
      dataset: k?.dataset ?? run.dataset,
      tokenizer: k?.tokenizer ?? null,
      excluded: ex ? ex.reason : null,
    }
  })

  const notes: string[] = []

  // curves: every completed run, or one per seed group when there are many
  const maxCurves = o.maxCurves ?? 16
  let curveRuns = rows.filter((r) => costedById.has(r.runId))
  if (curveRuns.length > maxCurves) {
    const seen = new Set<string>()
    const reps = curveRuns.filter((r) => {
      const key = r.group?.key ?? r.id
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    const shown = evenly(reps.length, maxCurves).map((i) => reps[i]!)
    notes.push(`The loss-curve figures show ${shown.length} of ${curveRuns.length} runs (one run per seed group${reps.length > maxCurves ? `, ${maxCurves} groups evenly spread over the ${reps.length}` : ''}); the CSV and JSON series hold the same runs.`)
    curveRuns = shown
  }
  const denseDepths = curveRuns.filter((r) => r.kind === 'dense').map((r) => costedById.get(r.runId)!.config.model.n_layers)
  const gatedKeys = curveRuns.filter((r) => r.kind === 'gated').map((r, i) => r.targetEnd ?? i)
  const span = (xs: number[], x: number) => (xs.length > 1 && Math.max(...xs) > Math.min(...xs) ? (x - Math.min(...xs)) / (Math.max(...xs) - Math.min(...xs)) : 0.5)
  let gatedIndex = 0
  const colorOf = new Map<number, string>()
  for (const r of curveRuns) {
    if (r.kind === 'dense') colorOf.set(r.runId, runColor('dense', span(denseDepths, costedById.get(r.runId)!.config.model.n_layers)))
    else colorOf.set(r.runId, runColor('gated', span(gatedKeys, r.targetEnd ?? gatedIndex++)))
  }
  const series = (r: ReportRun, key: string, maxPoints: number): ReportSeries | null => {
    const s = store.metrics.series(r.runId, key, { maxPoints })
    if (!s.steps.length) return null
    return { runId: r.runId, id: r.id, label: r.name, kind: r.kind, key, steps: s.steps, values: s.values, total: s.total, color: colorOf.get(r.runId)! }
  }
  const curves = {
    val: curveRuns.map((r) => series(r, 'val/loss', 0)).filter((s): s is ReportSeries => s !== null),
    train: curveRuns.map((r) => series(r, 'train/loss', o.curvePoints ?? 400)).filter((s): s is ReportSeries => s !== null),
  }

  // gate heatmaps
  const maxHeatmaps = o.maxHeatmaps ?? 12
  const columns = o.heatmapColumns ?? 48
  const gatedRows = rows
    .filter((r) => r.kind === 'gated' && costedById.has(r.runId))
    .sort((a, b) => (a.targetEnd ?? Infinity) - (b.targetEnd ?? Infinity) || a.runId - b.runId)
  const gates: ReportGates[] = []
  for (const r of gatedRows) {
    if (gates.length >= maxHeatmaps) break
    const L = costedById.get(r.runId)!.config.model.n_layers
    const layers = Array.from({ length: L }, (_, l) => store.metrics.series(r.runId, `${GATES_KEY}/${layerKey(l)}`, { maxPoints: 0 }))
    if (layers.some((s) => !s.steps.length)) continue
    const pick = evenly(layers[0]!.steps.length, columns)
    const steps = pick.map((i) => layers[0]!.steps[i]!)
    const maps = layers.map((s) => new Map(s.steps.map((st, i) => [st, s.values[i]!])))
    if (!maps.every((mp) => steps.every((st) => mp.has(st)))) continue
    gates.push({ runId: r.runId, id: r.id, label: r.name, key: GATES_KEY, steps, values: maps.map((mp) => steps.map((st) => mp.get(st)!)) })
  }
  if (gatedRows.length > gates.length) notes.push(`Gate heatmaps are drawn for ${gates.length} of ${gatedRows.length} gated runs (at most ${maxHeatmaps}, lowest target end first; runs without logged per-layer gates are skipped).`)

  // appendix: software, datasets, commands
  const softCounts = new Map<string, { name: string; value: string; runs: number }>()
  const addSoft = (name: string, value: string | null | undefined) => {
    if (!value) return
    const k = `${name}\n${value}`
    const e = softCounts.get(k)
    if (e) e.runs++
    else softCounts.set(k, { name, value, runs: 1 })
  }
  for (const run of runs) {
    addSoft('engine', run.engine)
    addSoft('backend', run.backend)
    for (const [k, v] of Object.entries(run.versions ?? {})) addSoft(k, v)
    const host = runJsons.get(run.id)?.host
    if (host?.node) addSoft('node (training)', `${host.node} ${host.platform ?? ''}/${host.arch ?? ''}`)
    // provenance (ADR 0022): what each run was made from
    const p = run.provenance as Partial<Provenance>
    if (p?.format === 1) {
      addSoft('skipbench (training)', p.skipbench)
      addSoft('git commit', p.git ? `${p.git.commit.slice(0, 12)}${p.git.dirty ? ' (dirty)' : ''}` : 'not a checkout')
      addSoft('onnxruntime-node', p.onnxruntime)
      addSoft('tfjs-core', p.tfjs)
      if (p.os) addSoft('os', `${p.os.platform} ${p.os.release} ${p.os.arch}`)
      if (p.cpu) addSoft('cpu', `${p.cpu.model} × ${p.cpu.cores}`)
      addSoft('gpu', p.gpu?.length ? p.gpu.map((g) => `${g.adapter} (driver ${g.driver})`).join('; ') : 'none found')
      for (const d of p.datasets ?? []) addSoft(`data ${d.split} sha256`, `${d.sha256.slice(0, 16)}… ${basename(d.path)}`)
    }
  }
  const software: ReportModel['appendix']['software'] = [
    { name: 'skipbench (this report)', value: packageVersion(), runs: null },
    { name: 'node (this report)', value: `${process.version} ${process.platform}/${process.arch}`, runs: null },
    { name: 'echarts (figures)', value: echartsVersion, runs: null },
    ...softCounts.values(),
  ]

  const manifests = new Map<string, Manifest | null>()
  const datasets = new Map<string, ReportDataset>()
  for (const row of rows) {
    const run = runs.find((r) => r.id === row.runId)!
    const name = row.dataset ?? run.dataset ?? 'unknown'
    const tokenizer = row.tokenizer ?? runJsons.get(run.id)?.data?.tokenizer ?? 'unknown'
    const key = `${name}\n${tokenizer}`
    const have = datasets.get(key)
    if (have) {
      have.runs++
      if (have.files.length) continue
    }
    const d: ReportDataset = have ?? { name, tokenizer, description: null, source: [], files: [], notes: [], runs: 1 }
    if (!have) datasets.set(key, d)
    const data = runJsons.get(run.id)?.data
    const shard = data?.trainShards?.[0] ?? data?.valShards?.[0]
    const man = shard ? readManifest(dirname(shard), manifests) : null
    if (man) {
      d.description = man.description ?? null
      const src = man.source ?? {}
      d.source = [...(src.inputs ?? []).map((x) => `input: ${x}`), ...(src.url ? [`url: ${src.url}`] : []), ...(src.urls ?? []).map((u) => `url: ${u}`), ...(src.textSha256 ? [`corpus text sha256: ${src.textSha256}`] : []), ...(src.attribution ? [src.attribution] : [])]
      for (const [split, s] of Object.entries(man.splits ?? {})) for (const f of s.shards ?? []) d.files.push({ split, file: f.file, tokens: f.numTokens ?? null, sha256: f.sha256 ?? null })
      if (man.split) d.notes.push(`split: ${man.split.method ?? '?'}, validation fraction ${man.split.valFraction ?? '?'}, seed ${man.split.seed ?? '?'}`)
      if (src.cacheKey) d.notes.push(`build key: ${src.cacheKey}`)
    } else if (data?.trainShards || data?.valShards) {
      for (const f of data.trainShards ?? []) d.files.push({ split: 'train', file: basename(f), tokens: null, sha256: null })
      for (const f of data.valShards ?? []) d.files.push({ split: 'val', file: basename(f), tokens: null, sha256: null })
      d.notes.push('no dataset.json manifest beside the shards: hashes not recorded')
    } else if (name.startsWith('synthetic(')) d.notes.push('synthetic data generated in memory from the parameters in its name (no files)')
    const fp = run.datasetId !== null ? store.datasets.get(run.datasetId)?.fingerprint : null
    if (fp) d.notes.push(`store fingerprint: ${fp}`)
  }

  const appendixRuns: ReportAppendixRun[] = runs.map((run) => {
    const configFile = `configs/${slug(run.name)}-${run.id}.json`
    const threads = run.engine === 'ort' ? run.versions?.threads : undefined
    const host = runJsons.get(run.id)?.host
    return {
      id: recordIdOf(run),
      runId: run.id,
      uid: run.uid,
      name: run.name,
      seed: run.seed,
      config: run.config as Record<string, unknown>,
      configFile,
      command: `skipbench train ${configFile}${run.engine ? ` --engine ${run.engine}` : ''}${threads && /^\d+$/.test(threads) ? ` --threads ${threads}` : ''}`,
      runDir: run.runDir,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
      host: host?.node ? `${host.node} ${host.platform ?? ''}/${host.arch ?? ''}` : null,
    }
  })

  return {
    format: 'skipbench-report',
    version: 1,
    title: o.title ?? `skipbench report: ${experiment?.name ?? `${runs.length} runs`}`,
    generatedAt: o.generatedAt ?? new Date().toISOString(),
    source: { experiment, runIds, database: store.path || null },
    question: QUESTION,
    estimator,
    flopsKind,
    level,
    comparisons,
    runs: rows,
    differing: differing.map((p, i) => ({ path: p, label: labels[i]! })),
    curves,
    gates,
    appendix: { base, software, datasets: [...datasets.values()], runs: appendixRuns },
    notes,
  }
}
