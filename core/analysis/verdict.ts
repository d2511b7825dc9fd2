/**
 * The verdict a reviewer would accept (issue 13): is the dense frontier trustworthy, how noisy are the runs, and
 * does each gated configuration's CE gap at equal FLOPs exclude 0 once the frontier's own uncertainty is counted?
 *
 * - Noise: the pooled within-seed-group standard deviation of validation CE over every seed group (dense and gated)
 *   with ≥ 2 seeds, σ̂ with df = Σ(n − 1). Without it (one seed everywhere) nothing is conclusive.
 * - Frontier check: dense seed groups in FLOPs order; each step's CE change with a Student-t interval
 *   ±t(df)·σ̂·√(1/n₁ + 1/n₂). The frontier is monotone when every step falls and its interval excludes 0.
 * - Gap intervals: a parametric bootstrap over seeds (B = 4000, fixed seed, so the same runs always give the same
 *   numbers). Each replicate draws σ* from σ̂'s sampling distribution (σ̂²·df/χ²_df), perturbs every dense and
 *   gated seed-group mean by σ*·z/√n, rebuilds the dense frontier from the perturbed dense means and measures each
 *   gated group's gap at its FLOPs. Percentile intervals at the simultaneous level 1 − (1 − level)/k over the k
 *   gated configurations within the frontier's range (Bonferroni), so "some configuration beats dense" keeps its
 *   error rate. A bootstrap over the observed seeds would be too narrow with 2 seeds per point (its variance is
 *   (n − 1)/n of the true one), which is why the draws are parametric.
 * - Savings at equal CE: only where the frontier segment the gated CE falls on has a slope whose interval excludes
 *   0 (a flat segment turns a 0.003-nat difference into a ±100 % "saving"); the dense FLOPs of every replicate are
 *   clamped to the frontier's FLOPs range, so the interval is bounded by what the dense runs actually cover.
 * - No interval across different configurations: each gated configuration gets its own.
 *
 * Pure and deterministic; no I/O.
 */
import { frontierFlopsAt, frontierLossAt, paretoFrontier, type Extrapolation, type Frontier } from './frontier.js'
import { studentTQuantile } from './stats.js'
import { mulberry32 } from '../util/rng.js'

export type Direction = 'better' | 'worse' | 'equal'

export interface NoiseEstimate {
  /** pooled within-seed-group SD of validation CE, nats */
  sd: number
  /** degrees of freedom, Σ(n − 1) over the groups with ≥ 2 seeds */
  df: number
  /** seed groups with ≥ 2 seeds behind it */
  groups: number
}

export interface FrontierStep {
  from: string
  to: string
  fromFlops: number
  toFlops: number
  /** CE(to) − CE(from), nats: < 0 means the costlier dense group is better */
  delta: number
  /** level interval of delta; null without a noise estimate */
  ci: [number, number] | null
  /** delta < 0 and its interval excludes 0 */
  falls: boolean
}

export interface FrontierCheck {
  /** CE falls with FLOPs across every dense group by more than seed noise */
  monotone: boolean
  noise: NoiseEstimate | null
  steps: FrontierStep[]
}

export interface PointAssessment {
  group: string
  label: string
  /** seeds behind the point */
  n: number
  /** mean FLOPs and CE of the gated seed group */
  flops: number
  loss: number
  extrapolated: Extrapolation | null
  /** mean CE − frontier CE at the mean FLOPs; null outside the frontier's range */
  gap: number | null
  /** bootstrap interval of the gap at `level` (simultaneous over the in-range configurations) */
  gapCi: [number, number] | null
  /** better: interval below 0; worse: above 0; equal: it contains 0; null: no interval */
  direction: Direction | null
  /** 1 − FLOPs / dense FLOPs at equal CE; only where the frontier's slope there is significantly non-zero */
  saving: number | null
  savingCi: [number, number] | null
  /** why there is no saving (flat frontier segment, CE outside the frontier's CE range, ...) */
  savingNote: string | null
}

export interface FairnessCheck {
  name: 'training tokens' | 'LR schedule' | 'dataset and tokenizer' | 'evaluation set'
  /** true: all compared runs match; false: they differ; null: not recorded for every run */
  ok: boolean | null
  detail: string
}

export interface Verdict {
  conclusive: boolean
  /** the overall direction: better / worse when conclusive; equal when every interval contains 0; else null */
  direction: Direction | null
  text: string
  /** why it is (not) conclusive, each with what to do about it */
  reasons: string[]
  /** the actions from the reasons, once each */
  nextSteps: string[]
  /** the nominal level of every interval, and the simultaneous level the gap intervals use */
  level: number
  simultaneousLevel: number | null
  method: string
  points: PointAssessment[]
}

export interface GroupInput {
  key: string
  label: string
  kind: 'dense' | 'gated'
  losses: number[]
  flops: number
  ids: string[]
}

const BOOTSTRAP_REPLICATES = 4000
const BOOTSTRAP_SEED = 0x5eed13


function normal(u: () => number): () => number {
  let spare: number | null = null
  return () => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    let x = 0
    let y = 0
    let r = 0
    do {
      x = 2 * u() - 1
      y = 2 * u() - 1
      r = x * x + y * y
    } while (r === 0 || r >= 1)
    const f = Math.sqrt((-2 * Math.log(r)) / r)
    spare = y * f
    return x * f
  }
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/** Pooled within-group SD over groups with ≥ 2 values; null when there are none (or all spreads are 0). */
export function pooledNoise(groups: readonly { losses: readonly number[] }[]): NoiseEstimate | null {
  let ss = 0
  let df = 0
  let k = 0
  for (const g of groups) {
    if (g.losses.length < 2) continue
    const m = mean(g.losses)
    for (const x of g.losses) ss += (x - m) ** 2
    df += g.losses.length - 1
    k++
  }
  if (df === 0) return null
  return { sd: Math.sqrt(ss / df), df, groups: k }
}

/** The dense frontier check: every step in FLOPs order must fall by more than seed noise. */
export function checkFrontier(dense: readonly GroupInput[], noise: NoiseEstimate | null, level: number): FrontierCheck {
  const sorted = [...dense].sort((a, b) => a.flops - b.flops)
  const t = noise ? studentTQuantile((1 + level) / 2, noise.df) : null
  const steps: FrontierStep[] = []
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i]!
    const b = sorted[i + 1]!
    const delta = mean(b.losses) - mean(a.losses)
    const half = noise && t !== null ? t * noise.sd * Math.sqrt(1 / a.losses.length + 1 / b.losses.length) : null
    const ci: [number, number] | null = half === null ? null : [delta - half, delta + half]
    steps.push({ from: a.label, to: b.label, fromFlops: a.flops, toFlops: b.flops, delta, ci, falls: ci !== null && ci[1] < 0 })
  }
  return { monotone: sorted.length >= 2 && noise !== null && steps.every((s) => s.falls), noise, steps }
}

const fmtN = (x: number) => (Math.abs(x) >= 1e-4 ? Math.abs(x).toFixed(4) : Math.abs(x).toExponential(1))
const fmtPctAbs = (x: number) => `${(Math.abs(x) * 100).toFixed(1)}%`

function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 1) return sorted[0]!
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

export interface VerdictInput {
  dense: GroupInput[]
  gated: GroupInput[]
  frontier: Frontier
  level: number
  flopsKind: 'inference' | 'training' | 'measured'
  estimator: string
  fairness: FairnessCheck[]
  /** runs left out before grouping (other evaluation set, invalid, ...) */
  excluded: number
}

export interface VerdictOutput {
  check: FrontierCheck
  verdict: Verdict
}

export function assess(input: VerdictInput): VerdictOutput {
  const { dense, gated, frontier, level } = input
  const noise = pooledNoise([...dense, ...gated])
  const check = checkFrontier(dense, noise, level)
  const reasons: string[] = []
  const next: string[] = []
  const say = (reason: string, action?: string) => {
    reasons.push(action ? `${reason}: ${action}` : reason)
    if (action && !next.includes(action)) next.push(action)
  }
  let blocked = false
  const block = (reason: string, action?: string) => {
    blocked = true
    say(reason, action)
  }

  // points and their ranges
  const hasFrontier = frontier.points.length > 0
  const points: PointAssessment[] = gated.map((g) => {
    const loss = mean(g.losses)
    const at = hasFrontier ? frontierLossAt(frontier, g.flops) : { loss: null, extrapolated: null }
    return {
      group: g.key,
      label: g.label,
      n: g.losses.length,
      flops: g.flops,
      loss,
      extrapolated: at.extrapolated,
      gap: at.loss === null ? null : loss - at.loss,
      gapCi: null,
      direction: null,
      saving: null,
      savingCi: null,
      savingNote: null,
    }
  })
  const inRange = points.filter((p) => p.gap !== null)
  const k = inRange.length
  const simultaneousLevel = k > 0 ? 1 - (1 - level) / k : null

  // 1. enough to compare at all
  if (dense.length === 0) block('no comparable dense runs, so there is no frontier', 'train dense baselines at two or more depths with the same data and budget')
  if (gated.length === 0) block('no comparable gated runs', 'train gated runs with the same data and budget as the dense baselines')

  // 2. the frontier
  if (dense.length === 1) block(`only one dense depth (${dense[0]!.label}): a frontier needs at least two`, 'train dense baselines at more depths that bracket the gated runs\' FLOPs')
  if (!noise && dense.length + gated.length > 0)
    block('one seed per point: seed noise is unknown, so neither the frontier nor the gaps can be trusted', 'run at least 2 seeds of each point (sweep --seeds 2)')
  for (const s of check.steps) {
    if (s.delta >= 0)
      block(`${s.to} is not better than ${s.from} (CE ${s.delta >= 0 ? '+' : '−'}${fmtN(s.delta)} nats with more FLOPs): under-trained or noisy`, 'train longer or add seeds')
    else if (noise && !s.falls)
      block(`${s.to} beats ${s.from} by only ${fmtN(s.delta)} nats, within seed noise (±${fmtN((s.ci![1] - s.ci![0]) / 2)})`, 'train longer or add seeds')
  }

  // 3. fairness
  for (const f of input.fairness) {
    if (f.ok === false) block(`${f.name} differ between compared runs (${f.detail})`, `train and evaluate every compared run with the same ${f.name}`)
    else if (f.ok === null) say(`${f.name} not recorded for every run (${f.detail}); cannot check that they match`)
  }

  // 4. ranges
  const outside = points.filter((p) => p.gap === null && hasFrontier)
  if (gated.length && hasFrontier && outside.length) {
    const below = outside.filter((p) => p.extrapolated === 'below').length
    const above = outside.length - below
    const where = [below ? `${below} below` : '', above ? `${above} above` : ''].filter(Boolean).join(', ')
    const msg = `${outside.length} of ${points.length} gated point${points.length === 1 ? '' : 's'} ${outside.length === 1 ? 'lies' : 'lie'} outside the frontier's ${input.flopsKind === 'measured' ? 'measured-time' : `${input.flopsKind} FLOPs`} range (${where}; not extrapolated)`
    const action = below && above ? 'add dense depths both cheaper and costlier than the gated runs' : below ? 'add a shallower (cheaper) dense depth' : 'add a deeper (costlier) dense depth'
    if (outside.length === points.length) block(msg, action)
    else say(msg, action)
  }

  // 5. bootstrap intervals
  if (noise && hasFrontier && k > 0 && dense.length >= 2) {
    const u = mulberry32(BOOTSTRAP_SEED)
    const z = normal(u)
    const gaps: number[][] = inRange.map(() => [])
    const savings: number[][] = inRange.map(() => [])
    const gIndex = new Map(gated.map((g, i) => [g.key, i]))
    const inRangeGroups = inRange.map((p) => gated[gIndex.get(p.group)!]!)
    const minF = frontier.points[0]!.flops
    const maxF = frontier.points.at(-1)!.flops
    for (let b = 0; b < BOOTSTRAP_REPLICATES; b++) {
      let chi = 0
      for (let i = 0; i < noise.df; i++) chi += z() ** 2
      const sd = noise.sd * Math.sqrt(noise.df / Math.max(chi, 1e-12))
      const f = paretoFrontier(dense.map((d) => ({ flops: d.flops, loss: mean(d.losses) + (sd * z()) / Math.sqrt(d.losses.length), ids: d.ids })))
      inRangeGroups.forEach((g, j) => {
        const l = mean(g.losses) + (sd * z()) / Math.sqrt(g.losses.length)
        const at = frontierLossAt(f, g.flops)
        if (at.loss !== null) gaps[j]!.push(l - at.loss)
        const inv = frontierFlopsAt(f, l)
        const denseFlops = inv.flops ?? (inv.extrapolated === 'below' ? minF : maxF)
        savings[j]!.push(1 - g.flops / denseFlops)
      })
    }
    const alpha = 1 - simultaneousLevel!
    inRange.forEach((p, j) => {
      const gs = gaps[j]!.sort((a, b) => a - b)
      if (gs.length >= BOOTSTRAP_REPLICATES / 2) {
        p.gapCi = [quantile(gs, alpha / 2), quantile(gs, 1 - alpha / 2)]
        p.direction = p.gapCi[1] < 0 ? 'better' : p.gapCi[0] > 0 ? 'worse' : 'equal'
      }
      // saving at equal CE, only on a frontier segment with a significant slope
      const inv = frontierFlopsAt(frontier, p.loss)
      if (inv.flops === null) {
        p.savingNote = `CE ${inv.extrapolated === 'below' ? 'above' : 'below'} the frontier's CE range: no dense run reaches it, so no saving`
        return
      }
      const seg = segmentAt(frontier, p.loss)
      if (!seg || !segmentFalls(dense, frontier, seg, noise, level)) {
        p.savingNote = 'the frontier is flat within seed noise at this CE, so the FLOPs at equal CE are undetermined: no saving reported'
        return
      }
      p.saving = 1 - p.flops / inv.flops
      const ss = savings[j]!.sort((a, b) => a - b)
      p.savingCi = [quantile(ss, alpha / 2), quantile(ss, 1 - alpha / 2)]
    })
  } else {
    for (const p of points) if (p.gap !== null) p.savingNote = 'no noise estimate or no trustworthy frontier: no saving reported'
  }

  // 6. the verdict
  const decided = inRange.filter((p) => p.direction === 'better' || p.direction === 'worse')
  const better = inRange.filter((p) => p.direction === 'better')
  const worse = inRange.filter((p) => p.direction === 'worse')
  const fewSeeds = inRange.filter((p) => p.n < 2)
  if (!blocked && fewSeeds.length && noise)
    say(`${fewSeeds.length} gated point${fewSeeds.length === 1 ? ' has' : 's have'} one seed; ${fewSeeds.length === 1 ? 'its' : 'their'} interval uses the noise floor measured on the other seed groups (σ = ${fmtN(noise.sd)} nats, df ${noise.df})`, 'add seeds to the gated points for their own noise estimate')
  if (!blocked && k > 0 && decided.length === 0) {
    const widest = Math.max(...inRange.map((p) => (p.gapCi ? (p.gapCi[1] - p.gapCi[0]) / 2 : 0)))
    say(
      `the gap's ${pct(simultaneousLevel!)} interval contains 0 for ${k === 1 ? 'the gated configuration' : `every one of the ${k} gated configurations`} (half-width up to ${fmtN(widest)} nats)`,
      'add seeds or train longer to narrow the intervals',
    )
  }
  if (input.excluded) say(`${input.excluded} run${input.excluded === 1 ? ' was' : 's were'} left out (see the exclusions)`)

  const conclusive = !blocked && decided.length > 0
  const direction: Direction | null = conclusive ? (better.length ? 'better' : 'worse') : !blocked && k > 0 && decided.length === 0 && inRange.every((p) => p.direction === 'equal') ? 'equal' : null
  const text = verdictText({ conclusive, direction, better, worse, inRange, blocked, check, flopsKind: input.flopsKind, estimator: input.estimator, simultaneousLevel, reasons })
  const method =
    `noise: pooled within-seed-group SD of val CE${noise ? ` (σ = ${fmtN(noise.sd)} nats, df ${noise.df}, ${noise.groups} group${noise.groups === 1 ? '' : 's'})` : ' (unknown: one seed per point)'}; ` +
    `frontier steps: Student-t ${pct(level)} intervals; gap intervals: parametric bootstrap over dense and gated seed-group means ` +
    `(${BOOTSTRAP_REPLICATES} replicates, fixed seed, σ redrawn from its sampling distribution, frontier rebuilt each time), ` +
    `${simultaneousLevel !== null && k > 1 ? `simultaneous ${pct(level)} over ${k} configurations (Bonferroni: ${pct(simultaneousLevel)} each)` : `${pct(level)}`}; ` +
    'no interval across different configurations'
  return {
    check,
    verdict: { conclusive, direction, text, reasons, nextSteps: next, level, simultaneousLevel, method, points },
  }
}

const pct = (p: number) => `${+(p * 100).toFixed(2)}%`

/** The frontier segment [a, b] (by index) whose CE range holds `loss`. */
function segmentAt(frontier: Frontier, loss: number): [number, number] | null {
  const pts = frontier.points
  for (let i = 0; i + 1 < pts.length; i++) if (loss <= pts[i]!.loss && loss >= pts[i + 1]!.loss) return [i, i + 1]
  return null
}

/**
 * Whether a saving at equal CE may be reported at this CE: the frontier segment holding it must fall by more than
 * seed noise (false without a noise estimate or outside the frontier's CE range).
 */
export function savingDefinedAt(dense: readonly GroupInput[], frontier: Frontier, loss: number, noise: NoiseEstimate | null, level: number): boolean {
  const seg = frontier.points.length >= 2 ? segmentAt(frontier, loss) : null
  return !!(noise && seg && segmentFalls(dense, frontier, seg, noise, level))
}

/** Whether the CE drop between the dense groups at a frontier segment's ends excludes 0 (Student-t). */
function segmentFalls(dense: readonly GroupInput[], frontier: Frontier, seg: [number, number], noise: NoiseEstimate, level: number): boolean {
  const group = (i: number) => dense.find((d) => d.ids.includes(frontier.points[i]!.ids[0]!))
  const a = group(seg[0])
  const b = group(seg[1])
  if (!a || !b) return false
  const delta = mean(b.losses) - mean(a.losses)
  const half = studentTQuantile((1 + level) / 2, noise.df) * noise.sd * Math.sqrt(1 / a.losses.length + 1 / b.losses.length)
  return delta + half < 0
}

function verdictText(o: {
  conclusive: boolean
  direction: Direction | null
  better: PointAssessment[]
  worse: PointAssessment[]
  inRange: PointAssessment[]
  blocked: boolean
  check: FrontierCheck
  flopsKind: string
  estimator: string
  simultaneousLevel: number | null
  reasons: string[]
}): string {
  const at = o.flopsKind === 'measured' ? 'at equal measured evaluation time per token' : `at equal ${o.flopsKind} FLOPs (${o.estimator} estimator)`
  const desc = (p: PointAssessment) =>
    `${p.label}: ${p.gap! < 0 ? fmtN(p.gap!) + ' nats below' : fmtN(p.gap!) + ' nats above'} the frontier [${signed(p.gapCi![0])}, ${signed(p.gapCi![1])}]` +
    (p.saving !== null ? `, ${fmtPctAbs(p.saving)} ${p.saving >= 0 ? 'fewer' : 'more'} FLOPs at equal CE [${signedPct(p.savingCi![0])}, ${signedPct(p.savingCi![1])}]` : '')
  const lvl = o.simultaneousLevel !== null ? pct(o.simultaneousLevel) : ''
  if (o.conclusive) {
    const head =
      o.direction === 'better'
        ? `conclusive: ${o.better.length} of ${o.inRange.length} gated configuration${o.inRange.length === 1 ? '' : 's'} beat${o.better.length === 1 ? 's' : ''} the dense frontier ${at}`
        : `conclusive: gated runs are worse than the dense frontier ${at}`
    const parts = [...o.better, ...o.worse].map(desc)
    return `${head} — ${parts.join('; ')} (${lvl} bootstrap intervals)`
  }
  if (o.direction === 'equal')
    return `inconclusive: no gated configuration differs from the dense frontier ${at} beyond seed noise — ${o.inRange.map((p) => `${p.label}: ${signed(p.gap!)} [${signed(p.gapCi![0])}, ${signed(p.gapCi![1])}]`).join('; ')}`
  const why = o.reasons[0] ?? 'not enough evidence'
  return `inconclusive: ${why}${o.reasons.length > 1 ? ` (and ${o.reasons.length - 1} more reason${o.reasons.length === 2 ? '' : 's'})` : ''}`
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${fmtN(x)}`
const signedPct = (x: number) => `${x >= 0 ? '+' : '−'}${fmtPctAbs(x)}`
