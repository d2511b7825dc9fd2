/** Number and text formatting shared by the report writers (pure). */
import type { Summary } from '../contract/analysis.js'
import type { ReportModel, ReportRun } from './model.js'

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)

export const DASH = '—'

/** CE in nats: 4 decimals. */
export const fmtLoss = (x: number | null | undefined): string => (finite(x) ? x.toFixed(4) : DASH)

/** Signed, 4 decimals, with a real minus sign. */
export const fmtSigned = (x: number | null | undefined, digits = 4): string =>
  finite(x) ? `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(digits)}` : DASH

/** 1.234e11 (4 significant digits), "0" for 0. */
export function fmtSci(x: number | null | undefined): string {
  if (!finite(x)) return DASH
  if (x === 0) return '0'
  const [m, e] = x.toExponential(3).split('e')
  return `${m}e${Number(e)}`
}

export const fmtPct = (x: number | null | undefined, digits = 1): string => (finite(x) ? `${(x * 100).toFixed(digits)}%` : DASH)

export const fmtInt = (x: number | null | undefined): string => (finite(x) ? Math.round(x).toLocaleString('en-US') : DASH)

export type DurationStyle = 'words' | 'short' | 'clock'

/**
 * The one duration formatter (seconds), pure so the app, the CLI and the reports share it:
 * - 'words' (reports, the CLI's plans and summaries): "4.2 s", "42 s", "3 min 05 s", "1 h 02 min"; unknown "—";
 * - 'short' (the app's tables and cards): "<1s", "42s", "3m 05s", "1h 02m"; unknown or negative "–";
 * - 'clock' (progress lines, ETAs, import summaries): "0:42", "3:05", "1:02:03"; unknown or negative "--:--".
 */
export function fmtDuration(sec: number | null | undefined, style: DurationStyle = 'words'): string {
  if (!finite(sec) || (style !== 'words' && sec < 0)) return style === 'words' ? DASH : style === 'short' ? '–' : '--:--'
  const s = Math.round(Math.max(0, sec))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const r = s % 60
  const two = (x: number) => String(x).padStart(2, '0')
  if (style === 'clock') return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`
  if (style === 'short') return sec < 1 ? '<1s' : h ? `${h}h ${two(m)}m` : m ? `${m}m ${two(r)}s` : `${r}s`
  if (s < 60) return `${Math.max(0, sec).toFixed(sec < 10 ? 1 : 0)} s`
  return h ? `${h} h ${two(m)} min` : `${m} min ${two(r)} s`
}

/** mean ± half-width of the interval (n = 1: the value and "n=1"). */
export function fmtSummary(s: Summary | null | undefined, f: (x: number) => string = fmtLoss): string {
  if (!s) return DASH
  if (!s.ci) return `${f(s.mean)} (n=${s.n})`
  return `${f(s.mean)} ± ${f((s.ci[1] - s.ci[0]) / 2).replace(/^[+−±]/, '')} (n=${s.n})`
}

/** A config value as short text. */
export function fmtValue(v: unknown): string {
  if (v === null || v === undefined) return DASH
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6))
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

const LATEX: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  $: '\\$',
  '&': '\\&',
  '#': '\\#',
  '^': '\\textasciicircum{}',
  _: '\\_',
  '~': '\\textasciitilde{}',
  '%': '\\%',
  '−': '$-$',
  '±': '$\\pm$',
  '×': '$\\times$',
  '—': '---',
  '≈': '$\\approx$',
  '’': "'",
  '≥': '$\\geq$',
  '≤': '$\\leq$',
}
export const escapeLatex = (s: string): string => s.replace(/[\\{}$&#^_~%−±×—≈’≥≤]/g, (c) => LATEX[c]!)

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : typeof v === 'string' ? v : JSON.stringify(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export const csvLine = (cells: unknown[]): string => cells.map(csvField).join(',')

/** Markdown table cell: pipes escaped, no line breaks. */
export const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')

/** A file-name-safe slug. */
export const slug = (s: string): string =>
  s
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80) || 'run'

/**
 * The measured cells of a run-table row, shared by the Markdown and LaTeX tables: seed, validation CE, seed-group CE
 * (mean ± CI), inference and training FLOPs under the report's estimator, sparsity, tokens, wall time, backend.
 */
export function runMetricCells(m: Pick<ReportModel, 'estimator'>, r: ReportRun): string[] {
  return [
    r.seed === null ? DASH : String(r.seed),
    fmtLoss(r.valLoss),
    r.group ? fmtSummary(r.group.loss) : DASH,
    fmtSci(r.flops?.[m.estimator].inference),
    trainingFlopsCell(r, m.estimator),
    r.sparsity === null ? DASH : fmtPct(r.sparsity),
    fmtInt(r.trainTokens),
    fmtDuration(r.wallSeconds),
    r.backend ?? r.engine ?? DASH,
  ]
}

/** Training FLOPs of a run: for gated runs, the hypothetical count (skipped blocks not computed) next to the executed one. */
function trainingFlopsCell(r: Pick<ReportRun, 'kind' | 'flops'>, estimator: ReportModel['estimator']): string {
  const f = r.flops?.[estimator]
  if (!f) return DASH
  if (r.kind !== 'gated') return fmtSci(f.training)
  return `${fmtSci(f.training)} hypothetical; ${fmtSci(f.executedTraining)} executed`
}
