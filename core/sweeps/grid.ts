/**
 * Sweep grids: a base RunConfig and axes over any of its fields (dotted paths such as `model.n_layers`,
 * `controller.mean_target_end`, `controller.name`, `training.seed`; `seed` is short for `training.seed`), expanded
 * as a Cartesian product into validated RunConfigs. Several groups (e.g. dense baselines, "nocontrol", gated runs)
 * make one sweep; `seeds` replicates every point.
 *
 * Expansion never throws on a bad combination: every point is validated with parseRunConfig and the invalid ones
 * are returned with their problems (e.g. an odd depth for a gated model), next to the valid ones. Two points with
 * the same resolved config are reported as duplicates (the later one is invalid).
 */
import { canonicalJson } from '../analysis/records.js'
import { ConfigError, parseRunConfigWithWarnings, resolveRunConfigInput, runConfigToJson, type ConfigIssue, type ResolvedRunConfig, type RunConfig } from '../config/index.js'
import { UserError } from '../user-errors.js'

export class SweepError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'SweepError'
  }
}

/** One group of a sweep: a base config (a RunConfig document; `extends: PRESET` works) and axes over its fields. */
export interface SweepGroupSpec {
  /** short name, used in run names and tags (e.g. "dense", "nocontrol", "gated") */
  name: string
  description?: string
  base: Record<string, unknown>
  /** dotted path → values; the Cartesian product, first axis outermost */
  axes?: Record<string, readonly unknown[]>
  /** dotted path → value, applied to every point of this group after the axes */
  set?: Record<string, unknown>
}

export interface SweepSpec {
  name: string
  description?: string
  groups: readonly SweepGroupSpec[]
  /** replicate every point: N → seeds base..base+N−1 (base = the point's training.seed, default 0); or a list */
  seeds?: number | readonly number[]
  /** dotted path → value, applied to every point of every group last (engine, steps, data ...) */
  set?: Record<string, unknown>
}

export interface SweepPoint {
  /** position in the expanded sweep (valid and invalid points share the numbering) */
  index: number
  group: string
  /** unique within the sweep, e.g. "gated-L12-E0.25-s0" */
  name: string
  /** the values this point takes on the group's axes (and the seed) */
  assignment: Record<string, unknown>
  seed: number
  /** parsed once here; queued as is */
  config: ResolvedRunConfig
  warnings: string[]
}

export interface InvalidPoint {
  index: number
  group: string
  name: string
  assignment: Record<string, unknown>
  /** one line each ("path: message") */
  problems: string[]
  /** the same, structured */
  issues: ConfigIssue[]
}

export interface ExpandedSweep {
  name: string
  description?: string
  points: SweepPoint[]
  invalid: InvalidPoint[]
  /** facts about the whole sweep worth a warning (e.g. points evaluated differently cannot be compared) */
  warnings: string[]
}

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/
const ALIASES: Record<string, string> = { seed: 'training.seed', steps: 'training.train_steps' }

/** The canonical dotted path (aliases resolved); throws SweepError on a malformed one. */
export function normalizePath(path: string): string {
  const p = ALIASES[path] ?? path
  if (!PATH_RE.test(p)) throw new SweepError(`bad config path "${path}": use dotted field names, e.g. model.n_layers or controller.mean_target_end`)
  return p
}

/** A deep copy of `doc` with `path` set to `value` (intermediate objects are created as needed). */
export function setPath<T extends Record<string, unknown>>(doc: T, path: string, value: unknown): T {
  const keys = normalizePath(path).split('.')
  const out = structuredClone(doc) as Record<string, unknown>
  let o = out
  for (const k of keys.slice(0, -1)) {
    const next = o[k]
    if (next === undefined || next === null) o[k] = {}
    else if (typeof next !== 'object' || Array.isArray(next))
      throw new SweepError(`cannot set "${path}": "${k}" is ${Array.isArray(next) ? 'a list' : typeof next}, not an object`)
    o = o[k] as Record<string, unknown>
  }
  o[keys.at(-1)!] = structuredClone(value)
  return out as T
}

/** The value at a dotted path, or undefined. */
export function getPath(doc: unknown, path: string): unknown {
  let o: unknown = doc
  for (const k of normalizePath(path).split('.')) {
    if (!o || typeof o !== 'object') return undefined
    o = (o as Record<string, unknown>)[k]
  }
  return o
}

/** Parse "a.b=1" assignments: the value is JSON when it parses (numbers, booleans, null, lists), else a string. */
export function parseAssignment(text: string): [string, unknown] {
  const eq = text.indexOf('=')
  if (eq <= 0) throw new SweepError(`"${text}": expected PATH=VALUE, e.g. model.dim=64`)
  const path = normalizePath(text.slice(0, eq).trim())
  const raw = text.slice(eq + 1).trim()
  let value: unknown = raw
  try {
    value = JSON.parse(raw)
  } catch {
    /* a bare string */
  }
  return [path, value]
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

const fmtValue = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : canonicalJson(v))

/** e.g. gated-L12-E0.25-s0 */
export function pointName(group: string, assignment: Record<string, unknown>): string {
  const parts = [group]
  for (const [path, v] of Object.entries(assignment)) {
    const short = SHORT[path] ?? path.split('.').at(-1)!
    parts.push(`${short}${fmtValue(v)}`)
  }
  return parts.join('-').replace(/[^A-Za-z0-9._=-]+/g, '_')
}

function product(axes: [string, readonly unknown[]][]): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}]
  for (const [path, values] of axes) {
    const next: Record<string, unknown>[] = []
    for (const o of out) for (const v of values) next.push({ ...o, [path]: v })
    out = next
  }
  return out
}

function seedList(seeds: SweepSpec['seeds'], base: number): number[] | null {
  if (seeds === undefined) return null
  if (typeof seeds === 'number') {
    if (!Number.isInteger(seeds) || seeds < 1) throw new SweepError(`seeds must be a whole number ≥ 1 or a list of seeds, got ${seeds}`)
    return Array.from({ length: seeds }, (_, i) => base + i)
  }
  if (!seeds.length) throw new SweepError('seeds: an empty list')
  for (const s of seeds) if (!Number.isInteger(s) || s < 0) throw new SweepError(`seeds: ${s} is not a whole number ≥ 0`)
  if (new Set(seeds).size !== seeds.length) throw new SweepError(`seeds: repeated values in ${seeds.join(', ')}`)
  return [...seeds]
}

/** Expand a sweep into validated run configs (and the invalid points, with their problems). */
export function expandSweep(spec: SweepSpec): ExpandedSweep {
  if (!spec.groups.length) throw new SweepError(`sweep "${spec.name}" has no groups`)
  const groupNames = new Set<string>()
  for (const g of spec.groups) {
    if (!g.name || !/^[A-Za-z0-9._-]+$/.test(g.name)) throw new SweepError(`group name "${g.name}" must be letters, digits, ".", "_" or "-"`)
    if (groupNames.has(g.name)) throw new SweepError(`two groups are named "${g.name}"`)
    groupNames.add(g.name)
  }
  const globalSet = Object.entries(spec.set ?? {}).map(([p, v]) => [normalizePath(p), v] as const)
  const points: SweepPoint[] = []
  const invalid: InvalidPoint[] = []
  const seen = new Map<string, string>()
  const names = new Map<string, number>()
  let index = 0

  for (const g of spec.groups) {
    const axes = Object.entries(g.axes ?? {}).map(([p, vs]) => {
      if (!Array.isArray(vs) || !vs.length) throw new SweepError(`group "${g.name}": axis "${p}" needs a non-empty list of values`)
      return [normalizePath(p), vs] as [string, readonly unknown[]]
    })
    const paths = axes.map(([p]) => p)
    if (new Set(paths).size !== paths.length) throw new SweepError(`group "${g.name}": an axis is given twice (${paths.join(', ')})`)
    const groupSet = Object.entries(g.set ?? {}).map(([p, v]) => [normalizePath(p), v] as const)
    for (const combo of product(axes)) {
      let doc: Record<string, unknown>
      try {
        doc = structuredClone(resolveRunConfigInput(g.base)) as Record<string, unknown>
      } catch (e) {
        throw new SweepError(`group "${g.name}": ${(e as Error).message}`)
      }
      for (const [p, v] of Object.entries(combo)) doc = setPath(doc, p, v)
      for (const [p, v] of groupSet) doc = setPath(doc, p, v)
      for (const [p, v] of globalSet) doc = setPath(doc, p, v)
      const axisSeed = 'training.seed' in combo
      const baseSeed = Number(getPath(doc, 'training.seed') ?? 0)
      const seeds = axisSeed ? null : seedList(spec.seeds, Number.isInteger(baseSeed) && baseSeed >= 0 ? baseSeed : 0)
      for (const seed of seeds ?? [null]) {
        const assignment: Record<string, unknown> = { ...combo }
        let d = doc
        if (seed !== null) {
          d = setPath(doc, 'training.seed', seed)
          assignment['training.seed'] = seed
        }
        let name = pointName(g.name, assignment)
        const n = names.get(name) ?? 0
        names.set(name, n + 1)
        if (n) name = `${name}-${n + 1}`
        d = { ...d, name }
        const i = index++
        try {
          const { config, warnings } = parseRunConfigWithWarnings(d)
          const key = canonicalJson({ ...runConfigToJson(config), name: null, description: null })
          const dup = seen.get(key)
          if (dup) {
            invalid.push({ index: i, group: g.name, name, assignment, problems: [`the same run config as ${dup}: a duplicate point`], issues: [{ path: '', message: `the same run config as ${dup}: a duplicate point` }] })
            continue
          }
          seen.set(key, name)
          points.push({ index: i, group: g.name, name, assignment, seed: config.training.seed, config, warnings })
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e
          invalid.push({ index: i, group: g.name, name, assignment, problems: e.issues, issues: e.configIssues })
        }
      }
    }
  }
  return { name: spec.name, ...(spec.description ? { description: spec.description } : {}), points, invalid, warnings: sweepWarnings(points) }
}

/** The evaluation facts a comparison needs equal across runs (core/analysis compareRuns excludes mismatches). */
function evaluationKey(c: RunConfig): string {
  const d = c.data
  return canonicalJson({
    dataset: d.dataset,
    tokenizer: d.tokenizer ?? null,
    shards: d.val_shards ?? null,
    synthetic: d.dataset === 'synthetic' ? { ...(d.synthetic ?? {}), seed: d.synthetic?.seed ?? c.training.seed } : null,
    val_tokens: c.training.val_tokens,
    max_seq_len: c.model.max_seq_len,
  })
}

function sweepWarnings(points: SweepPoint[]): string[] {
  const w: string[] = []
  const keys = new Map<string, string[]>()
  for (const p of points) {
    const k = evaluationKey(p.config)
    keys.set(k, [...(keys.get(k) ?? []), p.name])
  }
  if (keys.size > 1)
    w.push(
      `the points are evaluated in ${keys.size} different ways (dataset, tokenizer, validation tokens, context length or synthetic data seed): ` +
        'a comparison keeps only the most common one and excludes the rest' +
        (points.some((p) => p.config.data.dataset === 'synthetic' && p.config.data.synthetic?.seed === undefined)
          ? ' (synthetic data follows training.seed unless data.synthetic.seed is set)'
          : ''),
    )
  if (!points.some((p) => p.config.model.zero_init_masks)) w.push('no dense runs: a comparison needs dense baselines for its frontier')
  return w
}
