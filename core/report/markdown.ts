/** Markdown report (pure): GitHub-flavoured tables and the figures linked as SVG files beside it. */
import type { ReportFigure } from './figures.js'
import { DASH, fmtInt, fmtLoss, fmtPct, fmtSigned, fmtSummary, fmtValue, mdCell, runMetricCells } from './format.js'
import { fmtX, tableFields, xColumn } from './html.js'
import { verdictView } from './verdict.js'
import { ESTIMATOR_LABEL, REPORT_ESTIMATORS, shownFlopsKinds, xAxisDescription, type ReportModel } from './model.js'

export interface LinkedFigure extends Pick<ReportFigure, 'id' | 'title' | 'caption' | 'kind'> {
  /** path relative to the Markdown file, e.g. "figures/pareto-paper.svg" */
  file: string
}

function mdTable(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const align = head.map((_, i) => (numeric[i] ? '---:' : ':---'))
  return [`| ${head.map(mdCell).join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n')
}

export function renderReportMarkdown(m: ReportModel, figures: LinkedFigure[]): string {
  const c = m.comparisons[m.estimator][m.flopsKind]
  const out: string[] = []
  out.push(`# ${m.title}`, '')
  out.push(
    `${m.source.experiment ? `Experiment **${m.source.experiment.name}**` : `Runs ${m.source.runIds.join(', ')}`} · ${m.runs.length} runs · generated ${m.generatedAt}${m.source.database ? ` · database \`${m.source.database}\`` : ''}`,
    '',
  )
  if (m.source.experiment?.description) out.push(`> ${m.source.experiment.description}`, '')

  out.push('## Question and verdict', '', `*${m.question}*`, '')
  const v = verdictView(c)
  out.push(`**Verdict (${m.estimator} estimator, ${m.flopsKind} FLOPs; ${v.status}):** ${v.headline}`, '')
  out.push(`- ${v.frontier}`)
  if (v.flopsNote) out.push(`- Note: ${v.flopsNote}.`)
  out.push(`- Intervals: ${v.method}.`, '')
  if (v.reasons.length) out.push('**Reasons**', '', ...v.reasons.map((r) => `- ${r}`), '')
  if (v.nextSteps.length) out.push('**Next steps**', '', ...v.nextSteps.map((r) => `- ${r}`), '')
  if (v.points.length)
    out.push(
      mdTable(['gated configuration', 'seeds', 'gap at equal FLOPs (interval)', 'direction', 'saving at equal CE (interval)'], v.points.map((p) => [p.label, String(p.n), p.gap, p.direction ?? DASH, p.saving]), [false, true]),
      '',
    )
  out.push('**Fairness checks**', '', mdTable(['check', 'status', 'detail'], v.fairness.map((f) => [f.name, f.status, f.detail])), '')
  out.push(m.flopsKind === 'measured' ? `- x axis: ${xAxisDescription(m)}.` : `- FLOPs: ${xAxisDescription(m)}, ${ESTIMATOR_LABEL[m.estimator]}.`)
  if (c.reference) out.push(`- Evaluation: dataset ${c.reference.dataset}, tokenizer ${c.reference.tokenizer}, ${fmtInt(c.reference.valTokens)} validation tokens, context ${c.reference.seqLen}.`)
  out.push('')
  out.push(
    mdTable(
      ['estimator', 'FLOPs', 'frontier points', 'gated in range', 'beat frontier', 'mean gap (nats)', 'verdict'],
      REPORT_ESTIMATORS.flatMap((est) =>
        shownFlopsKinds(m).map((k) => {
          const x = m.comparisons[est][k]
          return [est, k, String(x.frontier.points.length), `${x.summary.withinRange}/${x.summary.gatedRuns}`, String(x.summary.beatFrontier), x.summary.gap ? fmtSummary(x.summary.gap, fmtSigned) : DASH, x.verdict.text]
        }),
      ),
      [false, false, true, true, true, true, false],
    ),
    '',
  )

  out.push('## Figures', '')
  for (const f of figures) out.push(`![${f.title}](${f.file})`, '', `*${f.caption}*`, '')

  if (c.gated.length) {
    const byId = new Map(m.runs.map((r) => [r.id, r]))
    const other = m.estimator === 'paper' ? 'corrected' : 'paper'
    out.push('## Gated runs against the dense frontier', '')
    out.push(
      mdTable(
        ['run', 'seed', 'target end', 'zeros', xColumn(m), 'val CE', 'frontier CE', `gap (${m.estimator})`, `gap (${other})`, 'saving'],
        c.gated.map((g) => {
          const r = byId.get(g.id)
          return [r?.name ?? g.id, String(g.seed), fmtValue(r?.targetEnd ?? null), fmtPct(g.zeroFraction), fmtX(m, g.flops), fmtLoss(g.loss), fmtLoss(g.atEqualFlops.frontierLoss), fmtSigned(g.atEqualFlops.gap), fmtSigned(r?.gap?.[other] ?? null), g.atEqualLoss.flopsSaving === null ? DASH : fmtPct(g.atEqualLoss.flopsSaving)]
        }),
        [false, true, true, true, true, true, true, true, true, true],
      ),
      '',
    )
  }

  const fields = tableFields(m)
  out.push('## Runs', '')
  out.push(
    mdTable(
      ['run', 'kind', ...fields.map((f) => f.label), 'seed', 'val CE', 'group CE (mean ± CI)', `inference FLOPs (${m.estimator})`, `training FLOPs (${m.estimator}; gated: hypothetical and executed)`, 'sparsity', 'tokens', 'wall time', 'backend'],
      m.runs.map((r) => [
        r.name,
        r.kind + (r.status !== 'completed' ? ` (${r.status})` : ''),
        ...fields.map((f) => fmtValue(r.fields[f.path])),
        ...runMetricCells(m, r),
      ]),
      [false, false, ...fields.map(() => false), true, true, true, true, true, true, true, true, false],
    ),
    '',
  )
  if (c.excluded.length) {
    out.push('### Excluded from the comparison', '')
    for (const e of c.excluded) out.push(`- **${e.id}**: ${e.reason}`)
    out.push('')
  }
  if (m.notes.length) out.push('## Notes', '', ...m.notes.map((n) => `- ${n}`), '')

  const a = m.appendix
  out.push('## Appendix: reproducibility', '', '### Software', '')
  out.push(mdTable(['component', 'version', 'runs'], a.software.map((s) => [s.name, s.value, s.runs === null ? 'report' : String(s.runs)])), '')
  for (const d of a.datasets) {
    out.push(`### Dataset ${d.name} (tokenizer ${d.tokenizer})`, '')
    if (d.description) out.push(d.description, '')
    for (const s of d.source) out.push(`- ${s}`)
    if (d.source.length) out.push('')
    if (d.files.length) out.push(mdTable(['split', 'file', 'tokens', 'sha256'], d.files.map((f) => [f.split, f.file, fmtInt(f.tokens), f.sha256 ?? 'not recorded'])), '')
    for (const n of d.notes) out.push(`- ${n}`)
    if (d.notes.length) out.push('')
  }
  out.push('### Configuration shared by every run', '', '```json', JSON.stringify(a.base, null, 2), '```', '')
  out.push('### Runs: seeds and commands', '', 'Each run\'s complete config is in `configs/` beside this file.', '')
  out.push(
    mdTable(
      ['run', 'seed', 'config', 'command'],
      a.runs.map((r) => [r.name, r.seed === null ? DASH : String(r.seed), `[${r.configFile}](${r.configFile})`, `\`${r.command}\``]),
    ),
    '',
  )
  return out.join('\n')
}
