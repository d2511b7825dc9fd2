/**
 * Self-contained HTML report (pure): inline CSS, inline SVG figures, no scripts, no external resources, a strict
 * Content-Security-Policy. It opens offline, prints to PDF (Chromium), and serves as the app's export preview.
 */
import type { Comparison } from '../contract/analysis.js'
import { renderFigures, type RenderedFigure } from './figures.js'
import { DASH, escapeHtml as h, fmtDuration, fmtInt, fmtLoss, fmtPct, fmtSci, fmtSigned, fmtSummary, fmtValue } from './format.js'
import { ESTIMATOR_LABEL, REPORT_ESTIMATORS, shownFlopsKinds, xAxisDescription, type ReportModel, type ReportRun } from './model.js'
import { verdictView } from './verdict.js'
import { fmtSecondsPerToken } from './charts.js'

export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

export interface HtmlOptions {
  /** pre-rendered figures (default: rendered here) */
  figures?: RenderedFigure[]
  /** print layout (PDF): no collapsed sections (full configs are in the JSON and configs/ files) */
  print?: boolean
}

const CSS = `
:root { --ink: #1d2330; --muted: #5c6370; --rule: #d0d4dc; --accent: #d9480f; --bg-soft: #f5f6f8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); break-after: avoid; }
h3 { font-size: 15px; margin: 18px 0 6px; break-after: avoid; }
p { margin: 6px 0; orphans: 3; widows: 3; }
h2 + p, h3 + p { break-after: avoid; }
.meta { color: var(--muted); font-size: 12.5px; }
.question { font-style: italic; }
.verdict { border-left: 4px solid var(--accent); background: var(--bg-soft); padding: 10px 14px; margin: 10px 0; }
.verdict .headline { font-size: 16px; font-weight: 600; }
.verdict ul { margin: 6px 0 0 18px; padding: 0; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0 12px; width: auto; max-width: 100%; }
th, td { padding: 3px 7px; border-bottom: 1px solid #e6e8ec; text-align: left; vertical-align: top; }
thead th { border-top: 1.5px solid var(--ink); border-bottom: 1px solid var(--ink); font-weight: 600; background: #fff; }
tbody tr:last-child td { border-bottom: 1.5px solid var(--ink); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.run { white-space: nowrap; font-weight: 500; }
code.cmd { white-space: nowrap; }
tr.excluded td { color: var(--muted); }
.wide { overflow-x: auto; }
figure { margin: 14px 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; }
figure.chart svg { max-width: 800px; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; max-width: 800px; }
.gates { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 6px 16px; }
.gates figure { margin: 4px 0; }
.gates svg { max-width: 420px; }
pre, code { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 11.5px; }
pre { background: var(--bg-soft); padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 6px 0; }
details { margin: 4px 0; }
summary { cursor: pointer; }
.note { color: var(--muted); font-size: 12px; }
.pos { color: #c92a2a; } .neg { color: #2b8a3e; }
@page { size: A4; margin: 12mm 10mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5px; }
  h1 { font-size: 19px; } h2 { font-size: 14.5px; margin-top: 16px; } h3 { font-size: 12.5px; }
  table { font-size: 8.4px; } th, td { padding: 2px 4px; }
  thead { display: table-header-group; } tr { break-inside: avoid; page-break-inside: avoid; }
  pre, code { font-size: 8.5px; }
  figure.chart svg { max-width: 660px; }
  .gates { grid-template-columns: 1fr 1fr; }
  .appendix { break-before: page; }
  .wide { overflow: visible; }
  .meta, .note, figcaption { font-size: 9px; }
  figcaption { max-width: 660px; }
  pre.config { column-count: 2; column-gap: 16px; }
  td.diff { font-size: 8px; }
  table.runs { font-size: 7.6px; } table.runs th, table.runs td { padding: 2px 3px; }
}
`

const num = (s: string) => `<td class="num">${h(s)}</td>`
const gapCell = (x: number | null | undefined) =>
  x === null || x === undefined ? num(DASH) : `<td class="num ${x > 0 ? 'pos' : x < 0 ? 'neg' : ''}">${h(fmtSigned(x))}</td>`

function table(head: { label: string; num?: boolean }[], rows: string[], cls = ''): string {
  return `<div class="wide"><table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((c) => `<th${c.num ? ' class="num"' : ''}>${h(c.label)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`
}

/**
 * Which differing fields the run table shows (all of them go to the CSV, the JSON and the appendix): those with at
 * least two distinct values among the runs that have them (a field only some runs have, always with the same value,
 * follows from another field, e.g. a controller's settings from controller.name), except zero_init_masks (the kind
 * column), at most `max`.
 */
export function tableFields(m: ReportModel, max = 5): { path: string; label: string }[] {
  return m.differing
    .filter((f) => f.path !== 'model.zero_init_masks')
    .filter((f) => new Set(m.runs.filter((r) => f.path in r.fields).map((r) => JSON.stringify(r.fields[f.path]))).size >= 2)
    .slice(0, max)
}

function comparisonLine(c: Comparison): string {
  const s = c.summary
  return `${s.withinRange} of ${s.gatedRuns} gated runs within the frontier's FLOPs range; ${s.beatFrontier} beat it; mean gap ${s.gap ? fmtSummary(s.gap, fmtSigned) : DASH} nats`
}

function verdictSection(m: ReportModel): string {
  const c = m.comparisons[m.estimator][m.flopsKind]
  const v = verdictView(c)
  const ref = c.reference
  const facts = [
    m.flopsKind === 'measured' ? `x axis: ${h(xAxisDescription(m))}.` : `FLOPs: ${h(xAxisDescription(m))}, ${h(ESTIMATOR_LABEL[m.estimator])}.`,
    ref ? `Evaluation: dataset ${h(ref.dataset)}, tokenizer ${h(ref.tokenizer)}, ${fmtInt(ref.valTokens)} validation tokens, context ${ref.seqLen}.` : 'No common evaluation reference.',
    `${h(comparisonLine(c))} (descriptive mean over configurations; each configuration's interval is below).`,
    h(v.frontier),
    ...(v.flopsNote ? [h(`Note: ${v.flopsNote}.`)] : []),
    `Intervals: ${h(v.method)}.`,
  ]
  const rows: string[] = []
  for (const est of REPORT_ESTIMATORS)
    for (const kind of shownFlopsKinds(m)) {
      const x = m.comparisons[est][kind]
      const s = x.summary
      const primary = est === m.estimator && kind === m.flopsKind
      rows.push(
        `<tr${primary ? ' class="primary"' : ''}><td>${h(est)}${primary ? ' (headline)' : ''}</td><td>${h(kind)}</td>${num(String(x.frontier.points.length))}${num(`${s.withinRange}/${s.gatedRuns}`)}${num(String(s.beatFrontier))}${num(s.gap ? fmtSummary(s.gap, fmtSigned) : DASH)}<td>${h(x.verdict.text)}</td></tr>`,
      )
    }
  return `<section id="verdict"><h2>Question and verdict</h2>
<p class="question">${h(m.question)}</p>
<div class="verdict ${v.conclusive ? 'conclusive' : 'inconclusive'}" data-conclusive="${v.conclusive}"><div class="headline">Verdict (${h(m.estimator)} estimator, ${h(m.flopsKind)} FLOPs): ${h(v.headline)}</div><ul>${facts.map((f) => `<li>${f}</li>`).join('')}</ul>
${v.reasons.length ? `<div class="reasons"><strong>Reasons</strong><ul>${v.reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul></div>` : ''}
${v.nextSteps.length ? `<div class="next"><strong>Next steps</strong><ul>${v.nextSteps.map((r) => `<li>${h(r)}</li>`).join('')}</ul></div>` : ''}</div>
${v.points.length ? table([{ label: 'gated configuration' }, { label: 'seeds', num: true }, { label: 'gap at equal FLOPs (interval)' }, { label: 'direction' }, { label: 'saving at equal CE (interval)' }], v.points.map((p) => `<tr><td>${h(p.label)}</td>${num(String(p.n))}<td>${h(p.gap)}</td><td>${h(p.direction ?? DASH)}</td><td>${h(p.saving)}</td></tr>`)) : ''}
<h3>Fairness checks</h3>
${table([{ label: 'check' }, { label: 'status' }, { label: 'detail' }], v.fairness.map((f) => `<tr${f.status === 'differ' ? ' class="warn"' : ''}><td>${h(f.name)}</td><td>${h(f.status)}</td><td>${h(f.detail)}</td></tr>`))}
<h3>The verdict under both estimators</h3>
${table(
  [{ label: 'estimator' }, { label: 'FLOPs' }, { label: 'frontier points', num: true }, { label: 'gated in range', num: true }, { label: 'beat frontier', num: true }, { label: 'mean gap (nats, descriptive)', num: true }, { label: 'verdict' }],
  rows,
)}</section>`
}

function figureHtml(f: RenderedFigure): string {
  return `<figure id="fig-${h(f.id)}" class="${f.kind === 'gates' ? 'heatmap' : 'chart'}" data-figure="${h(f.id)}" data-kind="${f.kind}">${f.svg}<figcaption>${h(f.caption)}</figcaption></figure>`
}

function figuresSection(m: ReportModel, figs: RenderedFigure[]): string {
  const main = figs.filter((f) => f.kind !== 'gates')
  const gates = figs.filter((f) => f.kind === 'gates')
  const gatedRuns = m.runs.filter((r) => r.kind === 'gated' && r.status === 'completed').length
  return `<section id="figures"><h2>Figures</h2>
${main.map(figureHtml).join('\n')}
${gates.length ? `<h3>Gate heatmaps</h3>${gates.length < gatedRuns ? `<p class="note">${gates.length} of ${gatedRuns} gated runs shown; the JSON holds every run's gates.</p>` : ''}<div class="gates">${gates.map(figureHtml).join('\n')}</div>` : ''}
</section>`
}

/** the x value of a gated run or seed group: FLOPs, or seconds per token on the measured axis */
export const fmtX = (m: ReportModel, x: number) => (m.flopsKind === 'measured' ? fmtSecondsPerToken(x) : fmtSci(x))
export const xColumn = (m: ReportModel) => (m.flopsKind === 'measured' ? 'measured time / token' : `FLOPs (${m.estimator})`)

function gatedSection(m: ReportModel): string {
  const c = m.comparisons[m.estimator][m.flopsKind]
  if (!c.gated.length) return ''
  const byId = new Map(m.runs.map((r) => [r.id, r]))
  const other = m.estimator === 'paper' ? 'corrected' : 'paper'
  const rows = c.gated.map((g) => {
    const r = byId.get(g.id)
    const notes: string[] = []
    if (g.atEqualFlops.extrapolated) notes.push(`FLOPs ${g.atEqualFlops.extrapolated} the frontier's range`)
    return `<tr><td class="run">${h(r?.name ?? g.id)}</td>${num(String(g.seed))}${num(fmtValue(r?.targetEnd ?? null))}${num(fmtPct(g.zeroFraction))}${num(fmtX(m, g.flops))}${num(fmtLoss(g.loss))}${num(fmtLoss(g.atEqualFlops.frontierLoss))}${gapCell(g.atEqualFlops.gap)}${gapCell(r?.gap?.[other] ?? null)}${num(g.atEqualLoss.flopsSaving === null ? DASH : fmtPct(g.atEqualLoss.flopsSaving))}<td>${h(notes.join('; '))}</td></tr>`
  })
  return `<section id="gated"><h2>Gated runs against the dense frontier</h2>
<p>Gap = validation CE − dense frontier CE at the run's ${m.flopsKind === 'measured' ? 'measured time per token' : `${h(m.flopsKind)} FLOPs`} (nats; &gt; 0: worse than dense). Saving = 1 − FLOPs ÷ the dense FLOPs reaching the same CE (&gt; 0: cheaper than dense).</p>
${table(
  [{ label: 'run' }, { label: 'seed', num: true }, { label: 'target end', num: true }, { label: 'zeros', num: true }, { label: xColumn(m), num: true }, { label: 'val CE', num: true }, { label: 'frontier CE', num: true }, { label: `gap (${m.estimator})`, num: true }, { label: `gap (${other})`, num: true }, { label: 'saving', num: true }, { label: 'note' }],
  rows,
)}</section>`
}

function runRow(m: ReportModel, r: ReportRun, fields: { path: string }[]): string {
  const f = r.flops?.[m.estimator]
  return `<tr class="${r.excluded ? 'excluded' : ''}" data-run="${h(r.id)}"><td class="run">${h(r.name)}</td><td>${h(r.kind)}${r.status !== 'completed' ? ` (${h(r.status)})` : ''}</td>${fields.map((x) => `<td>${h(fmtValue(r.fields[x.path]))}</td>`).join('')}${num(r.seed === null ? DASH : String(r.seed))}${num(fmtLoss(r.valLoss))}${num(r.group ? fmtSummary(r.group.loss) : DASH)}${num(fmtSci(f?.inference))}${num(fmtSci(f?.training))}${num(r.sparsity === null ? DASH : fmtPct(r.sparsity))}${num(fmtInt(r.trainTokens))}${num(fmtDuration(r.wallSeconds))}<td>${h(r.backend ?? r.engine ?? DASH)}</td></tr>`
}

function runsSection(m: ReportModel): string {
  const fields = tableFields(m)
  const hidden = m.differing.length - fields.length
  const head = [
    { label: 'run' },
    { label: 'kind' },
    ...fields.map((f) => ({ label: f.label })),
    { label: 'seed', num: true },
    { label: 'val CE', num: true },
    { label: 'group CE (mean ± CI)', num: true },
    { label: `inference FLOPs / seq (${m.estimator})`, num: true },
    { label: `training FLOPs (${m.estimator})`, num: true },
    { label: 'sparsity', num: true },
    { label: 'tokens', num: true },
    { label: 'wall time', num: true },
    { label: 'backend' },
  ]
  const excluded = m.runs.filter((r) => r.excluded)
  return `<section id="runs"><h2>Runs</h2>
<p>${m.runs.length} runs. Columns between kind and seed are the config fields that differ between them${hidden > 0 ? ` (${hidden} more, which follow from these or from the kind, in the appendix, the CSV and the JSON)` : ''}. Val CE: validation cross-entropy of the final model (nats/token); group CE: the mean over the run's seed group with its ${Math.round(m.level * 100)}% interval. FLOPs under the ${h(m.estimator)} estimator (both in the CSV). Sparsity: validation zero fraction.</p>
${table(head, m.runs.map((r) => runRow(m, r, fields)), 'runs')}
${excluded.length ? `<p class="note">${excluded.length} run${excluded.length === 1 ? ' is' : 's are'} not in the comparison (greyed; reasons below).</p>` : ''}
</section>`
}

function groupsSection(m: ReportModel): string {
  const c = m.comparisons[m.estimator][m.flopsKind]
  if (!c.groups.length) return ''
  const byId = new Map(m.runs.map((r) => [r.id, r.name]))
  const rows = c.groups.map(
    (g) =>
      `<tr><td>${h(g.label)}</td>${num(String(g.n))}<td>${h(g.seeds.join(', '))}</td>${num(fmtSummary(g.loss))}${num(fmtX(m, g.flops.mean))}${num(g.gap ? fmtSummary(g.gap, fmtSigned) : DASH)}<td>${g.onFrontier === null ? '' : g.onFrontier ? 'on frontier' : 'dominated'}</td><td>${h(g.ids.map((i) => byId.get(i) ?? i).join(', '))}</td></tr>`,
  )
  return `<section id="groups"><h2>Seed groups</h2>
<p>Runs identical except for the seed; mean ± half-width of the ${Math.round(c.level * 100)}% Student-t interval (n = 1: no interval).</p>
${table([{ label: 'group' }, { label: 'n', num: true }, { label: 'seeds' }, { label: 'val CE', num: true }, { label: xColumn(m), num: true }, { label: 'gap', num: true }, { label: 'frontier' }, { label: 'runs' }], rows)}
</section>`
}

function appendixSection(m: ReportModel, print: boolean): string {
  const a = m.appendix
  const soft = a.software.map((s) => `<tr><td>${h(s.name)}</td><td>${h(s.value)}</td>${num(s.runs === null ? 'report' : String(s.runs))}</tr>`)
  const data = a.datasets.map(
    (d) =>
      `<h3>Dataset ${h(d.name)} (tokenizer ${h(d.tokenizer)}, ${d.runs} run${d.runs === 1 ? '' : 's'})</h3>${d.description ? `<p>${h(d.description)}</p>` : ''}${d.source.length ? `<ul>${d.source.map((s) => `<li>${h(s)}</li>`).join('')}</ul>` : ''}${
        d.files.length ? table([{ label: 'split' }, { label: 'file' }, { label: 'tokens', num: true }, { label: 'sha256' }], d.files.map((f) => `<tr><td>${h(f.split)}</td><td>${h(f.file)}</td>${num(fmtInt(f.tokens))}<td><code>${h(f.sha256 ?? 'not recorded')}</code></td></tr>`)) : ''
      }${d.notes.length ? `<p class="note">${d.notes.map(h).join('<br>')}</p>` : ''}`,
  )
  const fields = m.differing
  const runRows = a.runs.map((r) => {
    const run = m.runs.find((x) => x.runId === r.runId)
    const diff = fields.filter((f) => run && f.path in run.fields).map((f) => `${f.path}=${fmtValue(run!.fields[f.path])}`).join(', ')
    return `<tr><td class="run">${h(r.name)}</td>${num(r.seed === null ? DASH : String(r.seed))}<td class="diff">${h(diff || DASH)}</td><td><code class="cmd">${h(r.command)}</code></td></tr>`
  })
  const full = print
    ? ''
    : `<h3>Full run configs</h3>${a.runs.map((r) => `<details><summary>${h(r.name)} (${h(r.configFile)})</summary><pre>${h(JSON.stringify(r.config, null, 2))}</pre></details>`).join('\n')}`
  return `<section id="appendix" class="appendix"><h2>Appendix: reproducibility</h2>
<h3>Software</h3>${table([{ label: 'component' }, { label: 'version' }, { label: 'runs', num: true }], soft)}
${data.join('\n')}
<h3>Configuration shared by every run</h3>
<p>Each run's full config is this base with its own fields (below) applied; the report folder's <code>configs/</code> holds each run's complete config file, and the JSON report holds them all.</p>
<pre class="config">${h(JSON.stringify(a.base, null, 2))}</pre>
<h3>Runs: seeds, differing fields and the command that re-runs each</h3>
${table([{ label: 'run' }, { label: 'seed', num: true }, { label: 'fields of its own' }, { label: 'command' }], runRows)}
${full}
</section>`
}

/** The whole report as one self-contained HTML document. */
export function renderReportHtml(m: ReportModel, o: HtmlOptions = {}): string {
  const figs = o.figures ?? renderFigures(m)
  const c = m.comparisons[m.estimator][m.flopsKind]
  const dense = m.runs.filter((r) => r.kind === 'dense').length
  const meta = [
    m.source.experiment ? `experiment <b>${h(m.source.experiment.name)}</b>` : `runs ${h(m.source.runIds.join(', '))}`,
    `${m.runs.length} runs (${dense} dense, ${m.runs.length - dense} gated)`,
    `generated ${h(m.generatedAt)}`,
    m.source.database ? `database ${h(m.source.database)}` : '',
  ].filter(Boolean)
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="skipbench report">
<title>${h(m.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${h(m.title)}</h1><p class="meta">${meta.join(' · ')}</p>${m.source.experiment?.description ? `<p class="meta">${h(m.source.experiment.description)}</p>` : ''}</header>
${verdictSection(m)}
${figuresSection(m, figs)}
${gatedSection(m)}
${runsSection(m)}
${groupsSection(m)}
${c.excluded.length ? `<section id="excluded"><h2>Excluded from the ${h(m.estimator)} comparison</h2><ul>${c.excluded.map((e) => `<li><b>${h(e.id)}</b>: ${h(e.reason)}</li>`).join('')}</ul></section>` : ''}
${m.notes.length ? `<section id="notes"><h2>Notes</h2><ul>${m.notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul></section>` : ''}
${appendixSection(m, o.print === true)}
</body>
</html>
`
}
