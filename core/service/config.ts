/**
 * Run configs for the form: validation with the trainer's own zod schema (messages mapped to field paths), FLOPs
 * and time estimates, and sweep plans (a grid of axes plus extra runs, each a patch over a base config).
 */
import type { ConfigCheck, ConfigIssue, RunConfigDoc, RunEstimate, SweepPlan, SweepSpec } from '../contract/api.js'
import { MAX_SWEEP_RUNS } from '../contract/api.js'
import { inferenceFlops, trainingFlops } from '../flops/index.js'
import { ConfigError } from '../model/config.js'
import { paramCount } from '../model/params.js'
import type { Store } from '../store/store.js'
import { resolveRunConfigInput } from '../trainer/run.js'
import { parseRunConfigWithWarnings, tokensPerStep, type RunConfig } from '../trainer/run-config.js'
import type { z } from 'zod'
import type { SweepSpec as SweepSpecSchema } from '../contract/api.js'

const MODEL_KEYS = ['n_kv_heads', 'n_layers', 'n_heads', 'vocab_size', 'max_seq_len', 'zero_init_masks', 'gated_attention', 'dim']

/** "training.train_steps: must be ..." → { path, message }; model problems point at the first model field named. */
export function issueFromMessage(m: string): ConfigIssue {
  const parts = m.split(': ')
  const path: string[] = []
  while (parts.length > 1 && /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(parts[0]!)) path.push(parts.shift()!)
  let p = path.join('.')
  const message = parts.join(': ')
  if (p === 'model') {
    const named = MODEL_KEYS.map((k) => ({ k, i: message.search(new RegExp(`\\b${k}\\b`)) }))
      .filter((x) => x.i >= 0)
      .sort((a, b) => a.i - b.i)[0]
    if (named) p = `model.${named.k}`
  }
  const unknown = /^unknown keys? "([^"]+)"/.exec(message)
  if (unknown) p = p ? `${p}.${unknown[1]}` : unknown[1]!
  return { path: p, message }
}

export interface Throughput {
  flopsPerSec: number
  source: 'measured' | 'default'
  runs: number
}

/** A deliberately modest default for a CPU (onnxruntime, 2 cores): better to over- than under-estimate. */
export const DEFAULT_FLOPS_PER_SEC = 1.5e9
/** process start, engine and data set-up per run */
const RUN_OVERHEAD_SECONDS = 2

/** Training FLOP/s achieved by recent completed runs here (median), from their mean tokens/s. */
export function measuredThroughput(store: Store): Throughput {
  const rows = store.runs.list({ status: ['completed'], limit: 50, summaries: [] }).rows.filter((r) => r.tokensPerSec && r.tokensPerSec > 0)
  const rates: number[] = []
  for (const r of rows) {
    const run = store.runs.get(r.id)
    if (!run) continue
    try {
      const cfg = parseRunConfigWithWarnings(run.config).config
      const perToken = 3 * inferenceFlops(cfg.model, { estimator: 'corrected' }).perToken
      rates.push(perToken * r.tokensPerSec!)
    } catch {
      // a run from an older skipbench whose config no longer parses: skip it
    }
  }
  if (!rates.length) return { flopsPerSec: DEFAULT_FLOPS_PER_SEC, source: 'default', runs: 0 }
  rates.sort((a, b) => a - b)
  return { flopsPerSec: rates[Math.floor(rates.length / 2)]!, source: 'measured', runs: rates.length }
}

/** Validations a run performs: step 0, every val_every steps, and the last step. */
export function validationCount(steps: number, valEvery: number): number {
  if (valEvery <= 0) return 2
  const s = new Set<number>([0, steps])
  for (let k = valEvery; k < steps; k += valEvery) s.add(k)
  return s.size
}

export function estimateRun(cfg: RunConfig, tp: Throughput): RunEstimate {
  const m = cfg.model
  const t = cfg.training
  const gated = !m.zero_init_masks
  const batch = t.batch_size * t.grad_acc_steps
  const steps = t.train_steps
  const zeros = gated ? new Float64Array(steps) : undefined
  const train = (estimator: 'paper' | 'corrected') => trainingFlops(m, { estimator, batchSize: batch, ...(zeros ? { zeroFractions: zeros } : { steps }) })
  const inf = (estimator: 'paper' | 'corrected') => inferenceFlops(m, { estimator }).perToken
  const corrected = train('corrected')
  const valTokens = Math.max(m.max_seq_len, Math.floor(t.val_tokens / m.max_seq_len) * m.max_seq_len)
  const valFlops = validationCount(steps, t.val_every) * valTokens * inf('corrected')
  return {
    params: paramCount(m),
    gated,
    tokensPerStep: tokensPerStep(cfg),
    totalTokens: tokensPerStep(cfg) * steps,
    inferenceFlopsPerToken: { paper: inf('paper'), corrected: inf('corrected') },
    trainingFlops: { paper: train('paper'), corrected },
    seconds: (corrected + valFlops) / tp.flopsPerSec + RUN_OVERHEAD_SECONDS,
    throughput: tp,
  }
}

export function checkConfig(doc: RunConfigDoc, tp: () => Throughput): ConfigCheck {
  let cfg: RunConfig
  let warnings: string[]
  try {
    const r = parseRunConfigWithWarnings(resolveRunConfigInput(doc))
    cfg = r.config
    warnings = r.warnings
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, issues: e.issues.map(issueFromMessage), warnings: [], resolved: null, estimate: null }
    throw e
  }
  let estimate: RunEstimate | null = null
  try {
    estimate = estimateRun(cfg, tp())
  } catch (e) {
    warnings.push(`no estimate: ${(e as Error).message}`)
  }
  return { ok: true, issues: [], warnings, resolved: JSON.parse(JSON.stringify(cfg)) as RunConfigDoc, estimate }
}

// ------------------------------------------------------------------------------------------------ sweeps

/** { "a.b": v } → { a: { b: v } } */
export function patchOf(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.')
  let out: unknown = value
  for (let i = keys.length - 1; i >= 0; i--) out = { [keys[i]!]: out }
  return out as Record<string, unknown>
}

/** A copy of `doc` with `path` set to `value` (replaced, as core/sweeps does; intermediate objects are created). */
export function setPath(doc: RunConfigDoc, path: string, value: unknown): RunConfigDoc {
  const keys = path.split('.')
  const out = structuredClone(doc)
  let o: Record<string, unknown> = out
  for (const k of keys.slice(0, -1)) {
    const next = o[k]
    if (!next || typeof next !== 'object' || Array.isArray(next)) o[k] = {}
    o = o[k] as Record<string, unknown>
  }
  o[keys.at(-1)!] = structuredClone(value)
  return out
}

const SHORT: Record<string, string> = {
  'model.n_layers': 'L',
  'controller.mean_target_end': 'E',
  'controller.coef_update_multiplier': 'k',
  'controller.name': '',
  'training.seed': 's',
  'model.dim': 'd',
  'training.train_steps': 'T',
}

/** e.g. gated-L4-E0.5-s0 (the naming of core/sweeps) */
export function pointName(group: string, assignment: Record<string, unknown>): string {
  const parts = [group]
  for (const [path, v] of Object.entries(assignment)) parts.push(`${SHORT[path] ?? path.split('.').at(-1)!}${typeof v === 'string' ? v : JSON.stringify(v)}`)
  return parts.join('-').replace(/[^A-Za-z0-9._=-]+/g, '_')
}

export interface PlannedRun {
  name: string
  group: string
  assignment: Record<string, unknown>
  doc: RunConfigDoc
}

type ParsedSweep = z.output<typeof SweepSpecSchema>

/** Every run of a sweep: per group, the cartesian product of its axes (first axis outermost), times the seeds. */
export function expandSweep(spec: ParsedSweep): PlannedRun[] {
  const total = spec.groups.reduce((n, g) => n + g.axes.reduce((m, a) => m * a.values.length, 1), 0) * (typeof spec.seeds === 'number' ? spec.seeds : (spec.seeds?.length ?? 1))
  if (total > MAX_SWEEP_RUNS) throw new RangeError(`this sweep has ${total} runs; at most ${MAX_SWEEP_RUNS} can be queued at once`)
  const names = new Set<string>()
  if (new Set(spec.groups.map((g) => g.name)).size !== spec.groups.length) throw new RangeError('two sweep groups have the same name')
  const runs: PlannedRun[] = []
  for (const g of spec.groups) {
    let combos: Record<string, unknown>[] = [{}]
    for (const axis of g.axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.path]: v })))
    for (const combo of combos) {
      let doc = structuredClone(g.base)
      for (const [p, v] of Object.entries(combo)) doc = setPath(doc, p, v)
      for (const [p, v] of Object.entries(g.set)) doc = setPath(doc, p, v)
      for (const [p, v] of Object.entries(spec.set)) doc = setPath(doc, p, v)
      const baseSeed = Number((doc.training as { seed?: unknown } | undefined)?.seed ?? 0) || 0
      const seeds = 'training.seed' in combo || spec.seeds === undefined ? [null] : typeof spec.seeds === 'number' ? Array.from({ length: spec.seeds }, (_, i) => baseSeed + i) : spec.seeds
      for (const seed of seeds) {
        const assignment = seed === null ? { ...combo } : { ...combo, 'training.seed': seed }
        const d = seed === null ? doc : setPath(doc, 'training.seed', seed)
        let name = pointName(g.name, assignment)
        for (let k = 2; names.has(name); k++) name = `${pointName(g.name, assignment)}-${k}`
        names.add(name)
        runs.push({ name, group: g.name, assignment, doc: { ...d, name } })
      }
    }
  }
  return runs
}

export function planSweep(spec: ParsedSweep, tp: Throughput, concurrency: number): { plan: SweepPlan; runs: PlannedRun[] } {
  const runs = expandSweep(spec)
  let totalFlops = 0
  let totalSeconds = 0
  let invalid = 0
  const rows = runs.map((r) => {
    const c = checkConfig(r.doc, () => tp)
    if (!c.ok) invalid++
    if (c.estimate) {
      totalFlops += c.estimate.trainingFlops.corrected
      totalSeconds += c.estimate.seconds
    }
    return { name: r.name, group: r.group, assignment: r.assignment, ok: c.ok, issues: c.issues, trainingFlops: c.estimate?.trainingFlops.corrected ?? null, seconds: c.estimate?.seconds ?? null }
  })
  return {
    plan: { runs: rows, count: runs.length, invalid, totalTrainingFlops: totalFlops, totalSeconds: totalSeconds / Math.max(1, concurrency), concurrency },
    runs,
  }
}

export type { SweepSpec }
