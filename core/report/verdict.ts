/**
 * The verdict as every surface shows it (CLI, the app's verdict box, HTML/PDF, Markdown, LaTeX, CSV, JSON): one
 * pure builder, so they cannot disagree. Input is the wire Comparison (core/contract), so the renderer can use it.
 */
import type { Comparison } from '../contract/analysis.js'

export interface VerdictPointRow {
  label: string
  n: number
  /** "−0.0123 nats [−0.0200, −0.0050]" or why there is none */
  gap: string
  direction: 'better' | 'worse' | 'equal' | null
  /** "+12.3% [+4.0%, +20.1%]" or why there is none */
  saving: string
}

export interface VerdictView {
  conclusive: boolean
  direction: 'better' | 'worse' | 'equal' | null
  /** "conclusive" / "inconclusive" */
  status: string
  headline: string
  reasons: string[]
  nextSteps: string[]
  /** "dense frontier: monotone in FLOPs beyond seed noise (σ = …)" or what is wrong with it */
  frontier: string
  fairness: { name: string; status: 'match' | 'differ' | 'not recorded'; detail: string }[]
  points: VerdictPointRow[]
  /** how the intervals were made */
  method: string
  /** training FLOPs: gated FLOPs are hypothetical (null for inference FLOPs) */
  flopsNote: string | null
}

const nats = (x: number) => (Math.abs(x) >= 1e-4 ? Math.abs(x).toFixed(4) : Math.abs(x).toExponential(1))
const signed = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${nats(x)}`
const signedPct = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${(Math.abs(x) * 100).toFixed(1)}%`

export function verdictView(c: Comparison): VerdictView {
  const v = c.verdict
  const f = c.frontier
  const noise = f.noise ? `seed noise σ = ${nats(f.noise.sd)} nats (pooled over ${f.noise.groups} seed group${f.noise.groups === 1 ? '' : 's'}, df ${f.noise.df})` : 'seed noise unknown (one seed per point)'
  const bad = f.steps.filter((s) => !s.falls).length
  const frontier =
    f.steps.length === 0
      ? `dense frontier: ${f.points.length} point${f.points.length === 1 ? '' : 's'}, no CE step to check; ${noise}`
      : f.monotone
        ? `dense frontier: CE falls with FLOPs at every one of ${f.steps.length} dense step${f.steps.length === 1 ? '' : 's'} beyond seed noise (monotone); ${noise}`
        : `dense frontier: NOT trustworthy — ${bad} of ${f.steps.length} dense step${f.steps.length === 1 ? '' : 's'} ${bad === 1 ? 'does' : 'do'} not fall beyond seed noise; ${noise}`
  return {
    conclusive: v.conclusive,
    direction: v.direction,
    status: v.conclusive ? 'conclusive' : 'inconclusive',
    headline: v.text,
    reasons: [...v.reasons],
    nextSteps: [...v.nextSteps],
    frontier,
    fairness: c.fairness.map((x) => ({ name: x.name, status: x.ok === true ? 'match' : x.ok === false ? 'differ' : 'not recorded', detail: x.detail })),
    points: v.points.map((p) => ({
      label: p.label,
      n: p.n,
      gap:
        p.gap === null
          ? `outside the frontier's FLOPs range (${p.extrapolated ?? 'no frontier'}; not extrapolated)`
          : `${signed(p.gap)} nats${p.gapCi ? ` [${signed(p.gapCi[0])}, ${signed(p.gapCi[1])}]` : ' (no interval)'}`,
      direction: p.direction,
      saving: p.saving !== null && p.savingCi ? `${signedPct(p.saving)} [${signedPct(p.savingCi[0])}, ${signedPct(p.savingCi[1])}]` : p.savingNote ?? '—',
    })),
    method: v.method,
    flopsNote: c.flopsNote,
  }
}

/** The verdict as plain-text lines (CLI and Markdown-free contexts). */
export function verdictLines(c: Comparison): string[] {
  const x = verdictView(c)
  const out = [`verdict (${x.status}): ${x.headline}`]
  out.push(`  ${x.frontier}`)
  if (x.points.length) {
    out.push('  per gated configuration (gap = CE − dense frontier CE at equal FLOPs; saving = 1 − FLOPs / dense FLOPs at equal CE):')
    for (const p of x.points) out.push(`    ${p.label} (n=${p.n}): gap ${p.gap}${p.direction ? ` → ${p.direction}` : ''}; saving ${p.saving}`)
  }
  out.push('  fairness:')
  for (const f of x.fairness) out.push(`    ${f.name}: ${f.status} — ${f.detail}`)
  if (x.flopsNote) out.push(`  note: ${x.flopsNote}`)
  if (x.reasons.length) {
    out.push('  reasons:')
    for (const r of x.reasons) out.push(`    - ${r}`)
  }
  if (x.nextSteps.length) {
    out.push('  next steps:')
    for (const s of x.nextSteps) out.push(`    - ${s}`)
  }
  out.push(`  method: ${x.method}`)
  return out
}
