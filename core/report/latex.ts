/**
 * LaTeX report (pure): a standalone article with booktabs tables (longtable, so hundreds of runs break across
 * pages) and the figures included from files: PDFs (printed from the SVGs by Chromium) when the writer could make
 * them, else the SVGs through the `svg` package (which needs Inkscape and -shell-escape). The run table is also
 * available alone (`renderRunsTableLatex`) to \input into a paper.
 */
import { DASH, escapeLatex as e, fmtInt, fmtLoss, fmtPct, fmtSci, fmtSigned, fmtSummary, fmtValue, runMetricCells } from './format.js'
import { tableFields } from './html.js'
import type { LinkedFigure } from './markdown.js'
import { verdictView } from './verdict.js'
import { ESTIMATOR_LABEL, REPORT_ESTIMATORS, shownFlopsKinds, xAxisDescription, type ReportModel } from './model.js'

export interface LatexOptions {
  /** how figures are included: "pdf" (\includegraphics of the .pdf files) or "svg" (\includesvg) */
  figureFormat: 'pdf' | 'svg'
}

function longtable(spec: string, head: string[], rows: string[][], caption?: string, label?: string): string {
  const headLine = head.join(' & ') + ' \\\\'
  return [
    `\\begin{longtable}{${spec}}`,
    ...(caption ? [`\\caption{${caption}}${label ? `\\label{${label}}` : ''}\\\\`] : []),
    '\\toprule',
    headLine,
    '\\midrule',
    '\\endfirsthead',
    '\\toprule',
    headLine,
    '\\midrule',
    '\\endhead',
    '\\bottomrule',
    '\\endlastfoot',
    ...rows.map((r) => r.join(' & ') + ' \\\\'),
    '\\end{longtable}',
  ].join('\n')
}

/** The run table alone (booktabs + longtable), every run one row. */
export function renderRunsTableLatex(m: ReportModel): string {
  const fields = tableFields(m, 4)
  const head = ['Run', 'Kind', ...fields.map((f) => e(f.label)), 'Seed', 'Val CE', 'Group CE', 'Inf.\\ FLOPs', 'Train FLOPs', 'Sparsity', 'Tokens', 'Wall', 'Backend']
  const spec = `ll${'l'.repeat(fields.length)}rrrrrrrrl`
  const rows = m.runs.map((r) => [
    e(r.name) + (r.excluded ? '$^{\\dagger}$' : ''),
    ...[
      r.kind,
      ...fields.map((f) => fmtValue(r.fields[f.path])),
      ...runMetricCells(m, r),
    ].map(e),
  ])
  const cap =
    `Runs of ${e(m.source.experiment?.name ?? 'the selection')}: validation cross-entropy (nats/token; group: mean $\\pm$ ${Math.round(m.level * 100)}\\% interval over seeds), ` +
    `inference FLOPs per sequence and training FLOPs (${e(m.estimator)} estimator), validation sparsity (zero fraction), training tokens and wall time.` +
    (m.runs.some((r) => r.excluded) ? ' $^{\\dagger}$Not in the comparison (see the report).' : '')
  return `{\\scriptsize\\setlength{\\tabcolsep}{3pt}\n${longtable(spec, head, rows, cap, 'tab:runs')}\n}\n`
}

/** The whole report as a standalone LaTeX document (figures from `figures[].file`). */
export function renderReportLatex(m: ReportModel, figures: LinkedFigure[], o: LatexOptions): string {
  const c = m.comparisons[m.estimator][m.flopsKind]
  const v = verdictView(c)
  const out: string[] = []
  out.push(
    `% skipbench report, generated ${m.generatedAt}.`,
    `% Figures: ${o.figureFormat === 'pdf' ? 'PDF files printed from the SVG figures by Chromium (\\includegraphics).' : 'SVG files through the svg package (needs Inkscape; compile with -shell-escape). Chromium was not available to make PDFs.'}`,
    '% Compile with pdflatex (or lualatex/xelatex).',
    '\\documentclass[10pt]{article}',
    '\\usepackage[a4paper,margin=16mm]{geometry}',
    '\\usepackage[T1]{fontenc}',
    '\\usepackage[utf8]{inputenc}',
    '\\usepackage{booktabs,longtable,graphicx,array}',
    o.figureFormat === 'svg' ? '\\usepackage{svg}' : '',
    '\\usepackage[hidelinks]{hyperref}',
    `\\title{${e(m.title)}}`,
    `\\date{${e(m.generatedAt)}}`,
    '\\author{skipbench}',
    '\\begin{document}',
    '\\maketitle',
    '',
    '\\section*{Question and verdict}',
    `\\emph{${e(m.question)}}`,
    '',
    `\\paragraph{Verdict (${e(m.estimator)} estimator, ${e(m.flopsKind)} FLOPs; ${v.status}).} ${e(v.headline)}.`,
    `${e(v.frontier)}.` + (v.flopsNote ? ` Note: ${e(v.flopsNote)}.` : '') + ` Intervals: ${e(v.method)}.`,
    '',
    ...(v.reasons.length ? ['\\paragraph{Reasons.}', '\\begin{itemize}', ...v.reasons.map((r) => `\\item ${e(r)}`), '\\end{itemize}'] : []),
    ...(v.nextSteps.length ? ['\\paragraph{Next steps.}', '\\begin{itemize}', ...v.nextSteps.map((r) => `\\item ${e(r)}`), '\\end{itemize}'] : []),
    ...(v.points.length
      ? [
          '{\\small',
          longtable('lrp{0.3\\linewidth}lp{0.3\\linewidth}', ['Gated configuration', 'Seeds', 'Gap at equal FLOPs (interval)', 'Direction', 'Saving at equal CE (interval)'], v.points.map((p) => [p.label, String(p.n), p.gap, p.direction ?? DASH, p.saving].map(e)), 'Each gated configuration against the dense frontier, with its own interval.', 'tab:points'),
          '}',
        ]
      : []),
    '{\\small',
    longtable('llp{0.6\\linewidth}', ['Fairness check', 'Status', 'Detail'], v.fairness.map((f) => [f.name, f.status, f.detail].map(e)), 'Do the compared runs match?', 'tab:fairness'),
    '}',
    `${m.flopsKind === 'measured' ? 'x axis' : 'FLOPs'}: ${e(xAxisDescription(m))}${m.flopsKind === 'measured' ? '' : `, ${e(ESTIMATOR_LABEL[m.estimator])}`}.` +
      (c.reference ? ` Evaluation: dataset ${e(c.reference.dataset)}, tokenizer ${e(c.reference.tokenizer)}, ${e(fmtInt(c.reference.valTokens))} validation tokens, context ${c.reference.seqLen}.` : ''),
    '',
    '{\\small',
    longtable(
      'llrrrrp{0.38\\linewidth}',
      ['Estimator', 'FLOPs', 'Frontier', 'In range', 'Beat', 'Mean gap (nats)', 'Verdict'],
      REPORT_ESTIMATORS.flatMap((est) =>
        shownFlopsKinds(m).map((k) => {
          const x = m.comparisons[est][k]
          return [est, k, String(x.frontier.points.length), `${x.summary.withinRange}/${x.summary.gatedRuns}`, String(x.summary.beatFrontier), x.summary.gap ? fmtSummary(x.summary.gap, fmtSigned) : DASH, x.verdict.text].map(e)
        }),
      ),
      'The comparison under both estimators and both FLOPs measures.',
      'tab:verdicts',
    ),
    '}',
    '',
    '\\section*{Figures}',
  )
  for (const f of figures) {
    const width = f.kind === 'gates' ? '0.48\\linewidth' : '0.9\\linewidth'
    const inc = o.figureFormat === 'pdf' ? `\\includegraphics[width=${width}]{${f.file}}` : `\\includesvg[width=${width}]{${f.file.replace(/\.svg$/, '')}}`
    out.push('\\begin{figure}[htbp]', '\\centering', inc, `\\caption{${e(f.title)}. ${e(f.caption)}}`, `\\label{fig:${f.id}}`, '\\end{figure}', '')
  }
  if (c.gated.length) {
    const byId = new Map(m.runs.map((r) => [r.id, r]))
    out.push('\\section*{Gated runs against the dense frontier}', '{\\footnotesize')
    out.push(
      longtable(
        'lrrrrrrrr',
        ['Run', 'Seed', 'End', 'Zeros', 'FLOPs', 'Val CE', 'Frontier CE', 'Gap', 'Saving'],
        c.gated.map((g) => {
          const r = byId.get(g.id)
          return [r?.name ?? g.id, String(g.seed), fmtValue(r?.targetEnd ?? null), fmtPct(g.zeroFraction), fmtSci(g.flops), fmtLoss(g.loss), fmtLoss(g.atEqualFlops.frontierLoss), fmtSigned(g.atEqualFlops.gap), g.atEqualLoss.flopsSaving === null ? DASH : fmtPct(g.atEqualLoss.flopsSaving)].map(e)
        }),
        `Gap: validation CE minus the dense frontier's CE at equal ${e(m.flopsKind)} FLOPs (${e(m.estimator)} estimator); saving: 1 minus FLOPs over the dense FLOPs at equal CE.`,
        'tab:gated',
      ),
      '}',
      '',
    )
  }
  out.push('\\section*{Runs}', renderRunsTableLatex(m))
  const a = m.appendix
  out.push('\\section*{Appendix: reproducibility}', '{\\footnotesize')
  out.push(longtable('lp{0.6\\linewidth}r', ['Component', 'Version', 'Runs'], a.software.map((s) => [e(s.name), e(s.value), s.runs === null ? 'report' : String(s.runs)]), 'Software.'))
  for (const d of a.datasets)
    if (d.files.length)
      out.push(
        longtable(
          'llrp{0.45\\linewidth}',
          ['Split', 'File', 'Tokens', 'SHA-256'],
          d.files.map((f) => [e(f.split), e(f.file), e(fmtInt(f.tokens)), `\\texttt{\\detokenize{${f.sha256 ?? 'not recorded'}}}`]),
          `Dataset ${e(d.name)} (tokenizer ${e(d.tokenizer)}).${d.description ? ' ' + e(d.description) : ''}`,
        ),
      )
  out.push(
    longtable(
      'lrp{0.62\\linewidth}',
      ['Run', 'Seed', 'Command'],
      a.runs.map((r) => [e(r.name), r.seed === null ? DASH : String(r.seed), `\\texttt{\\detokenize{${r.command}}}`]),
      'Seeds and the command that re-runs each run (its config file is in configs/).',
    ),
    '}',
    '\\end{document}',
    '',
  )
  return out.filter((l) => l !== '').join('\n').replace(/\n(\\section\*)/g, '\n\n$1') + '\n'
}
