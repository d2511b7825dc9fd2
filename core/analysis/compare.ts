/**
 * The comparison skipbench exists for: do gated runs beat the dense frontier at equal FLOPs?
 *
 * Pipeline (pure; no I/O):
 * 1. Validate every record (schema, model config, kind vs zero_init_masks); reject duplicates of an id.
 * 2. Fairness: keep only runs costed with the requested estimator and evaluated like the reference evaluation
 *    (same dataset, tokenizer, validation tokens and context length max_seq_len; validation CE at different
 *    context lengths is not comparable). Unpinned reference settings are the most common combination among the
 *    runs (ties: the one seen first). Every other run is excluded with the list of its mismatches.
 * 3. Runs whose chosen FLOPs are not finite and > 0 are excluded (they cannot sit on a log axis).
 * 4. Seed groups: runs identical except for the seed (records.ts seedGroupKey) get mean, sample SD and a t interval.
 * 5. Dense frontier from the dense seed groups' means (mean FLOPs, mean loss), so seed noise does not make the
 *    dense side look better than it is (the lower envelope of noisy runs would); non-dominated set, log10 FLOPs.
 * 6. Each gated run: CE gap to the frontier at equal FLOPs and FLOPs saving at equal CE; outside the frontier's
 *    range the value is null and flagged (frontier.ts), never extrapolated. Gated groups summarise their runs' gaps.
 * 7. Fairness of what is compared: training tokens and LR schedule must match across the compared runs (dataset,
 *    tokenizer and evaluation set already do, by step 2).
 * 8. The verdict (verdict.ts): the frontier check with the seed-noise estimate, bootstrap gap intervals per gated
 *    configuration, savings only on significantly sloped frontier segments, and reasons with what to do next.
 */
import type { FlopsEstimator } from '../flops/index.js'
import {
  frontierFlopsAt,
  frontierLossAt,
  paretoFrontier,
  type Extrapolation,
  type Frontier,
} from './frontier.js'
import { canonicalJson, parseRunRecord, seedGroupKey, seedGroupLabel, type ParsedRun } from './records.js'
import { summarize, type Summary } from './stats.js'
import { assess, pooledNoise, savingDefinedAt, type FairnessCheck, type FrontierCheck, type GroupInput, type Verdict } from './verdict.js'

/** What the training-FLOPs axis means for gated runs, wherever it is shown. */
const HYPOTHETICAL_TRAINING_FLOPS_NOTE =
  'gated training FLOPs are hypothetical: what the run would cost if skipped blocks were not computed; the engines train densely, so the FLOPs actually executed are the dense-equivalent ones shown beside them'

/**
 * The x-axis: inference FLOPs per sequence, training FLOPs of the whole run, or 'measured': the evaluation time per
 * token measured on one machine with one engine (hard skipping for key-gated runs; core/trainer/measured-cost.ts),
 * from each record's `measuredCost` (runs without one, or measured elsewhere, are excluded with the reason).
 */
export type FlopsKind = 'inference' | 'training' | 'measured'

export interface CompareOptions {
  estimator: FlopsEstimator
  flopsKind: FlopsKind
  /** Pin evaluation settings; unpinned ones default to the most common combination among the runs. */
  dataset?: string
  tokenizer?: string
  valTokens?: number
  seqLen?: number
  /** Confidence level of every interval (default 0.95). */
  level?: number
}

export interface EvaluationReference {
  dataset: string
  tokenizer: string
  valTokens: number
  seqLen: number
}

export interface Excluded {
  id: string
  /** The reasons joined with '; '. */
  reason: string
  reasons: string[]
}

export interface GatedGap {
  id: string
  group: string
  label: string
  seed: number
  flops: number
  loss: number
  zeroFraction: number | null
  /** Training FLOPs the engine actually executed (dense-equivalent: it trains densely); null when not recorded. */
  executedTrainingFlops: number | null
  /** Both parts are null with extrapolated null when there is no dense frontier at all. */
  atEqualFlops: {
    /** Dense frontier CE at this run's FLOPs (interpolated in log10 FLOPs). */
    frontierLoss: number | null
    /** loss − frontierLoss, nats: > 0 means worse than dense at the same FLOPs. */
    gap: number | null
    extrapolated: Extrapolation | null
  }
  atEqualLoss: {
    /** FLOPs the dense frontier needs to reach this run's CE (inverse interpolation in log10 FLOPs). */
    denseFlops: number | null
    /** flops / denseFlops. */
    flopsRatio: number | null
    /** 1 − flopsRatio: > 0 means the gated run needs fewer FLOPs than dense for the same CE. */
    flopsSaving: number | null
    extrapolated: Extrapolation | null
  }
}

export interface SeedGroup {
  key: string
  label: string
  kind: 'dense' | 'gated'
  ids: string[]
  seeds: number[]
  n: number
  loss: Summary
  flops: Summary
  /** Gated groups: over the runs whose gap is not extrapolated; null when none is (or for dense groups). */
  gap: Summary | null
  flopsSaving: Summary | null
  /** Dense groups: whether the group's mean point is on the frontier. */
  onFrontier: boolean | null
}

export interface Comparison {
  estimator: FlopsEstimator
  flopsKind: FlopsKind
  /** flopsKind 'measured': the machine and engine every plotted cost was measured with */
  measuredOn?: string | null
  level: number
  reference: EvaluationReference | null
  /** Built from dense seed-group means; each point's ids are the group's runs. With its check (verdict.ts). */
  frontier: Frontier & FrontierCheck
  /** Training tokens, LR schedule, dataset and tokenizer, evaluation set: do the compared runs match? */
  fairness: FairnessCheck[]
  /** For training FLOPs: the gated runs' FLOPs are hypothetical (HYPOTHETICAL_TRAINING_FLOPS_NOTE); else null. */
  flopsNote: string | null
  gated: GatedGap[]
  groups: SeedGroup[]
  excluded: Excluded[]
  summary: {
    denseRuns: number
    gatedRuns: number
    /** Gated runs whose FLOPs lie within the frontier's range (their gap is defined). */
    withinRange: number
    extrapolatedBelow: number
    extrapolatedAbove: number
    /** Within range and below the frontier (gap < 0). */
    beatFrontier: number
    /**
     * Mean over the gated configurations' mean gaps / savings, descriptive only: the configurations differ, so
     * there is no interval (sd, se and ci are null). Each configuration's interval is in verdict.points.
     */
    gap: Summary | null
    flopsSaving: Summary | null
  }
  verdict: Verdict
}

const mostCommon = <T>(xs: readonly T[], key: (x: T) => string): T | undefined => {
  const counts = new Map<string, { n: number; first: T }>()
  for (const x of xs) {
    const k = key(x)
    const c = counts.get(k)
    if (c) c.n++
    else counts.set(k, { n: 1, first: x })
  }
  let best: { n: number; first: T } | undefined
  for (const c of counts.values()) if (!best || c.n > best.n) best = c
  return best?.first
}


export function compareRuns(runs: readonly unknown[], opts: CompareOptions): Comparison {
  const level = opts.level ?? 0.95
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`)
  if (opts.flopsKind !== 'inference' && opts.flopsKind !== 'training' && opts.flopsKind !== 'measured')
    throw new RangeError(`flopsKind must be 'inference', 'training' or 'measured', got ${String(opts.flopsKind)}`)
  const excluded: Excluded[] = []
  const exclude = (id: string, reasons: string[]) => excluded.push({ id, reasons, reason: reasons.join('; ') })

  // 1. validation and duplicate ids
  const valid: ParsedRun[] = []
  const seen = new Set<string>()
  runs.forEach((input, i) => {
    const r = parseRunRecord(input, i)
    if (!r.ok) return exclude(r.id, r.reasons)
    if (seen.has(r.run.record.id)) return exclude(r.run.record.id, [`duplicate id "${r.run.record.id}": only its first record is used`])
    seen.add(r.run.record.id)
    valid.push(r.run)
  })

  // 2. fairness: estimator first, then the evaluation reference
  const sameEstimator: ParsedRun[] = []
  for (const r of valid) {
    if (r.record.estimator !== opts.estimator)
      exclude(r.record.id, [`estimator "${r.record.estimator}" ≠ "${opts.estimator}": FLOPs from different estimators are not comparable`])
    else sameEstimator.push(r)
  }
  const evalOf = (r: ParsedRun): EvaluationReference => ({
    dataset: r.record.dataset,
    tokenizer: r.record.tokenizer,
    valTokens: r.record.valTokens,
    seqLen: r.config.max_seq_len,
  })
  const pinned = (r: ParsedRun) =>
    (opts.dataset === undefined || r.record.dataset === opts.dataset) &&
    (opts.tokenizer === undefined || r.record.tokenizer === opts.tokenizer) &&
    (opts.valTokens === undefined || r.record.valTokens === opts.valTokens) &&
    (opts.seqLen === undefined || r.config.max_seq_len === opts.seqLen)
  const modal = mostCommon(sameEstimator.filter(pinned).map(evalOf), (e) => JSON.stringify(e))
  const reference: EvaluationReference | null =
    modal ??
    (opts.dataset !== undefined && opts.tokenizer !== undefined && opts.valTokens !== undefined && opts.seqLen !== undefined
      ? { dataset: opts.dataset, tokenizer: opts.tokenizer, valTokens: opts.valTokens, seqLen: opts.seqLen }
      : null)
  const fair: ParsedRun[] = []
  for (const r of sameEstimator) {
    const e = evalOf(r)
    const why: string[] = []
    const ref = reference
    if (!ref) why.push('no evaluation reference: no run matches the pinned dataset/tokenizer/valTokens/seqLen')
    else {
      if (e.dataset !== ref.dataset) why.push(`dataset "${e.dataset}" ≠ "${ref.dataset}"`)
      if (e.tokenizer !== ref.tokenizer) why.push(`tokenizer "${e.tokenizer}" ≠ "${ref.tokenizer}"`)
      if (e.valTokens !== ref.valTokens) why.push(`validation tokens ${e.valTokens} ≠ ${ref.valTokens}`)
      if (e.seqLen !== ref.seqLen) why.push(`context length (max_seq_len) ${e.seqLen} ≠ ${ref.seqLen}`)
    }
    if (why.length) exclude(r.record.id, why)
    else fair.push(r)
  }

  // 3. FLOPs (or the measured cost) on a log axis; measured costs only from one machine and engine
  const flopsOf = (r: ParsedRun) =>
    opts.flopsKind === 'inference' ? r.record.inferenceFlops : opts.flopsKind === 'training' ? r.record.trainingFlops : (r.record.measuredCost ?? NaN)
  const measuredOn =
    opts.flopsKind === 'measured' ? (mostCommon(fair.filter((r) => typeof r.record.measuredCost === 'number').map((r) => r.record.measuredOn ?? ''), (x) => x) ?? null) : null
  const usable: ParsedRun[] = []
  for (const r of fair) {
    const f = flopsOf(r)
    if (opts.flopsKind === 'measured' && (r.record.measuredCost === null || r.record.measuredCost === undefined))
      exclude(r.record.id, ['no measured evaluation cost on this machine (skipbench compare --flops measured --data SHARD measures it)'])
    else if (opts.flopsKind === 'measured' && (r.record.measuredOn ?? '') !== measuredOn)
      exclude(r.record.id, [`measured on ${r.record.measuredOn ?? 'an unknown machine'} ≠ ${measuredOn}: times from different machines or engines are not comparable`])
    else if (!Number.isFinite(f) || f <= 0)
      exclude(r.record.id, [`${opts.flopsKind} FLOPs must be a finite number > 0 to sit on a log axis, got ${f}`])
    else usable.push(r)
  }

  // 4. seed groups
  const byKey = new Map<string, ParsedRun[]>()
  for (const r of usable) {
    const k = seedGroupKey(r)
    const g = byKey.get(k)
    if (g) g.push(r)
    else byKey.set(k, [r])
  }

  // 5. dense frontier from dense group means
  const denseGroups = [...byKey.entries()].filter(([, rs]) => rs[0]!.record.kind === 'dense')
  const frontier = paretoFrontier(
    denseGroups.map(([, rs]) => ({
      flops: summarize(rs.map(flopsOf)).mean,
      loss: summarize(rs.map((r) => r.record.valLoss)).mean,
      ids: rs.map((r) => r.record.id),
      label: seedGroupLabel(rs[0]!),
    })),
  )
  const hasFrontier = frontier.points.length > 0

  // 6. gaps
  const gated: GatedGap[] = []
  for (const r of usable) {
    if (r.record.kind !== 'gated') continue
    const flops = flopsOf(r)
    const loss = r.record.valLoss
    const g: GatedGap = {
      id: r.record.id,
      group: seedGroupKey(r),
      label: seedGroupLabel(r),
      seed: r.record.seed,
      flops,
      loss,
      zeroFraction: r.record.zeroFraction ?? null,
      executedTrainingFlops: typeof r.record.executedTrainingFlops === 'number' ? r.record.executedTrainingFlops : null,
      atEqualFlops: { frontierLoss: null, gap: null, extrapolated: null },
      atEqualLoss: { denseFlops: null, flopsRatio: null, flopsSaving: null, extrapolated: null },
    }
    if (hasFrontier) {
      const a = frontierLossAt(frontier, flops)
      g.atEqualFlops = { frontierLoss: a.loss, gap: a.loss === null ? null : loss - a.loss, extrapolated: a.extrapolated }
      const b = frontierFlopsAt(frontier, loss)
      g.atEqualLoss =
        b.flops === null
          ? { denseFlops: null, flopsRatio: null, flopsSaving: null, extrapolated: b.extrapolated }
          : { denseFlops: b.flops, flopsRatio: flops / b.flops, flopsSaving: 1 - flops / b.flops, extrapolated: null }
    }
    gated.push(g)
  }
  gated.sort((a, b) => a.flops - b.flops || a.id.localeCompare(b.id))

  // a saving at equal CE only where the frontier's slope there is significantly non-zero (verdict.ts)
  const groupInputs = (kind: 'dense' | 'gated'): GroupInput[] =>
    [...byKey.entries()]
      .filter(([, rs]) => rs[0]!.record.kind === kind)
      .map(([key, rs]) => ({
        key,
        label: seedGroupLabel(rs[0]!),
        kind,
        losses: rs.map((r) => r.record.valLoss),
        flops: summarize(rs.map(flopsOf)).mean,
        ids: rs.map((r) => r.record.id),
      }))
  const denseInputs = groupInputs('dense')
  const gatedInputs = groupInputs('gated')
  const noise = pooledNoise([...denseInputs, ...gatedInputs])
  for (const g of gated)
    if (g.atEqualLoss.flopsSaving !== null && !savingDefinedAt(denseInputs, frontier, g.loss, noise, level)) {
      g.atEqualLoss.flopsRatio = null
      g.atEqualLoss.flopsSaving = null
    }
  const gapById = new Map(gated.map((g) => [g.id, g]))

  const onFrontier = new Set(frontier.points.flatMap((p) => p.ids))
  const summarizeOrNull = (xs: (number | null)[]): Summary | null => {
    const v = xs.filter((x): x is number => x !== null)
    return v.length ? summarize(v, level) : null
  }
  const groups: SeedGroup[] = [...byKey.entries()].map(([key, rs]) => {
    const kind = rs[0]!.record.kind
    const gaps = kind === 'gated' ? rs.map((r) => gapById.get(r.record.id)!) : []
    return {
      key,
      label: seedGroupLabel(rs[0]!),
      kind,
      ids: rs.map((r) => r.record.id),
      seeds: rs.map((r) => r.record.seed),
      n: rs.length,
      loss: summarize(rs.map((r) => r.record.valLoss), level),
      flops: summarize(rs.map(flopsOf), level),
      gap: kind === 'gated' ? summarizeOrNull(gaps.map((g) => g.atEqualFlops.gap)) : null,
      flopsSaving: kind === 'gated' ? summarizeOrNull(gaps.map((g) => g.atEqualLoss.flopsSaving)) : null,
      onFrontier: kind === 'dense' ? onFrontier.has(rs[0]!.record.id) : null,
    }
  })
  groups.sort((a, b) => (a.kind === b.kind ? a.flops.mean - b.flops.mean : a.kind === 'dense' ? -1 : 1))

  const within = gated.filter((g) => g.atEqualFlops.gap !== null)
  const gatedGroups = groups.filter((g) => g.kind === 'gated')
  const descriptive = (xs: (number | null)[]): Summary | null => {
    const v = xs.filter((x): x is number => x !== null)
    return v.length ? { n: v.length, mean: v.reduce((a, b) => a + b, 0) / v.length, sd: null, se: null, level, ci: null } : null
  }
  const summary: Comparison['summary'] = {
    denseRuns: usable.filter((r) => r.record.kind === 'dense').length,
    gatedRuns: gated.length,
    withinRange: within.length,
    extrapolatedBelow: gated.filter((g) => g.atEqualFlops.extrapolated === 'below').length,
    extrapolatedAbove: gated.filter((g) => g.atEqualFlops.extrapolated === 'above').length,
    beatFrontier: within.filter((g) => g.atEqualFlops.gap! < 0).length,
    gap: descriptive(gatedGroups.map((g) => g.gap?.mean ?? null)),
    flopsSaving: descriptive(gatedGroups.map((g) => g.flopsSaving?.mean ?? null)),
  }

  // 7. fairness of the compared runs
  const fairness = fairnessChecks(usable, reference, excluded.length)

  // 8. the verdict
  const { check, verdict } = assess({
    dense: denseInputs,
    gated: gatedInputs,
    frontier,
    level,
    flopsKind: opts.flopsKind,
    estimator: opts.estimator,
    fairness,
    excluded: excluded.length,
  })
  if (runs.length === 0) {
    verdict.reasons = ['no runs to compare: train dense baselines and gated runs first']
    verdict.nextSteps = ['train dense baselines and gated runs first']
    verdict.text = 'inconclusive: no runs to compare'
  }

  return {
    estimator: opts.estimator,
    flopsKind: opts.flopsKind,
    ...(opts.flopsKind === 'measured' ? { measuredOn } : {}),
    level,
    reference,
    frontier: { ...frontier, ...check },
    fairness,
    flopsNote: opts.flopsKind === 'training' ? HYPOTHETICAL_TRAINING_FLOPS_NOTE : null,
    gated,
    groups,
    excluded,
    summary,
    verdict,
  }
}

const fmtTokens = (x: number) => x.toLocaleString('en-US')

/** Values of one property across runs: ok when all equal; null when some run does not record it. */
function matchCheck(
  name: FairnessCheck['name'],
  runs: readonly ParsedRun[],
  value: (r: ParsedRun) => unknown,
  show: (v: unknown) => string,
): FairnessCheck {
  const counts = new Map<string, { v: unknown; ids: string[] }>()
  let missing = 0
  for (const r of runs) {
    const v = value(r)
    if (v === undefined || v === null) {
      missing++
      continue
    }
    const k = canonicalJson(v)
    const c = counts.get(k)
    if (c) c.ids.push(r.record.id)
    else counts.set(k, { v, ids: [r.record.id] })
  }
  if (counts.size > 1) {
    const parts = [...counts.values()]
      .sort((a, b) => b.ids.length - a.ids.length)
      .map((c) => `${c.ids.length} run${c.ids.length === 1 ? '' : 's'} with ${show(c.v)}${c.ids.length <= 3 ? ` (${c.ids.join(', ')})` : ''}`)
    return { name, ok: false, detail: parts.join('; ') }
  }
  if (missing) return { name, ok: null, detail: `${missing} of ${runs.length} runs do not record it` }
  const only = [...counts.values()][0]
  return { name, ok: true, detail: only ? `all ${runs.length} compared runs: ${show(only.v)}` : 'no runs' }
}

function fairnessChecks(runs: readonly ParsedRun[], ref: EvaluationReference | null, nExcluded: number): FairnessCheck[] {
  const schedule = (v: unknown) =>
    Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${String(x)}`)
      .join(', ')
  const left = nExcluded > 0 ? ` (${nExcluded} run${nExcluded === 1 ? '' : 's'} left out: see the exclusions)` : ''
  return [
    matchCheck('training tokens', runs, (r) => r.record.trainTokens, (v) => `${fmtTokens(v as number)} training tokens`),
    matchCheck('LR schedule', runs, (r) => r.record.lrSchedule, schedule),
    { name: 'dataset and tokenizer', ok: true, detail: ref ? `all compared runs: ${ref.dataset}, tokenizer ${ref.tokenizer}${left}` : 'no runs' },
    {
      name: 'evaluation set',
      ok: true,
      detail: ref ? `all compared runs: ${fmtTokens(ref.valTokens)} validation tokens at context ${ref.seqLen}${left}` : 'no runs',
    },
  ]
}

/** Add runs excluded before the comparison (e.g. not costed) to its exclusions and to the verdict's reasons. */
export function addExclusions(c: Comparison, more: readonly Excluded[]): void {
  if (!more.length) return
  c.excluded = [...more, ...c.excluded]
  c.verdict.reasons.push(notCostedReason(more.length))
}

/** The verdict's reason for runs that could not be costed (unfinished, no validation...). */
export const notCostedReason = (n: number) => `${n} run${n === 1 ? ' was' : 's were'} not costed (${n === 1 ? 'see its reason' : 'see their reasons'} in the exclusions)`
