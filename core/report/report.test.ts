// The pure report writers: escaping, CSV round trip, the HTML's self-containment, and the LaTeX/Markdown tables.
import { describe, expect, it } from 'vitest'
import { openStore } from '../store/index.js'
import { tempDir } from '../store/test-helpers.js'
import { buildReportModel } from '../report-export/build.js'
import { seedSyntheticExperiment } from '../report-export/synthetic.js'
import { csvLine, escapeHtml, escapeLatex, fmtSci, fmtSigned, fmtSummary, slug } from './format.js'
import { renderReportHtml, REPORT_CSP, tableFields } from './html.js'
import { renderReportLatex, renderRunsTableLatex } from './latex.js'
import { renderReportMarkdown } from './markdown.js'
import { reportFigures } from './figures.js'
import { runsCsv, runsCsvHeader, seriesCsv } from './tables.js'
import { parseCsv } from './test-support.js'

function model(runs = 30) {
  const tmp = tempDir('skipbench-report-unit-')
  const store = openStore(tmp.file('db.sqlite'))
  try {
    seedSyntheticExperiment(store, { experiment: 'unit', runs, steps: 20, validations: 4 })
    return buildReportModel(store, { experiment: 'unit', generatedAt: '2026-01-01T00:00:00.000Z' })
  } finally {
    store.close()
    tmp.cleanup()
  }
}

describe('report formatting', () => {
  it('escapes for HTML, LaTeX and CSV', () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;')
    expect(escapeLatex('run_1#2 50% {a} ~ $x^2$ \\ & − ± ×')).toBe(
      'run\\_1\\#2 50\\% \\{a\\} \\textasciitilde{} \\$x\\textasciicircum{}2\\$ \\textbackslash{} \\& $-$ $\\pm$ $\\times$',
    )
    const cells = ['plain', 'a,b', 'say "hi"', 'two\nlines', 1.2345678901234567, null, -0, 1e-300]
    const back = parseCsv(csvLine(cells) + '\n')[0]!
    expect(back.slice(0, 4)).toEqual(['plain', 'a,b', 'say "hi"', 'two\nlines'])
    expect(Number(back[4])).toBe(1.2345678901234567)
    expect(back[5]).toBe('')
    expect(Number(back[7])).toBe(1e-300)
    expect(fmtSci(123456789)).toBe('1.235e8')
    expect(fmtSigned(-0.01234)).toBe('−0.0123')
    expect(fmtSummary({ n: 3, mean: 2.5, sd: 0.1, se: 0.05, level: 0.95, ci: [2.4, 2.6] })).toBe('2.5000 ± 0.1000 (n=3)')
    expect(slug('gated E=0.3/seed 1')).toBe('gated-E-0.3-seed-1')
  })
})

describe('report writers on a synthetic model', () => {
  const m = model()

  it('the HTML is self-contained: CSP, inline SVG, no scripts or external references', () => {
    const html = renderReportHtml(m)
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`)
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import|url\((?!#)/i) // url(#…): the SVGs' own clip paths
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((x) => x[1])
    expect(new Set(ids).size).toBe(ids.length) // figures rendered together never share element ids
    // the only URLs are XML namespaces inside the SVGs
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((x) => x[0])
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']))
    expect(html.match(/<figure /g)).toHaveLength(reportFigures(m).length)
    expect(html.match(/<tr class="[^"]*" data-run=/g)).toHaveLength(30)
    // print layout: no collapsed sections
    expect(renderReportHtml(m, { print: true })).not.toContain('<details>')
    expect(html).toContain('<details>')
  })

  it('shows the fields that vary and keeps the rest for CSV/JSON', () => {
    const paths = tableFields(m).map((f) => f.path)
    expect(paths).toEqual(expect.arrayContaining(['controller.mean_target_end', 'model.n_layers']))
    expect(paths).not.toContain('model.zero_init_masks')
    expect(m.differing.map((f) => f.path)).toContain('model.zero_init_masks')
    expect(runsCsvHeader(m)).toEqual(expect.arrayContaining(m.differing.map((f) => f.path)))
    // shared config: present in every run with one value
    expect(m.appendix.base).toMatchObject({ model: { dim: 64, max_seq_len: 64 }, training: { train_steps: 20 } })
    expect((m.appendix.base as { controller?: unknown }).controller).toBeUndefined()
  })

  it('CSV: one row per run, series in long form', () => {
    const rows = parseCsv(runsCsv(m))
    expect(rows).toHaveLength(31)
    expect(rows.every((r) => r.length === rows[0]!.length)).toBe(true)
    const series = parseCsv(seriesCsv(m))
    const expected = [...m.curves.val, ...m.curves.train].reduce((a, s) => a + s.steps.length, 0) + m.gates.reduce((a, g) => a + g.values.length * g.steps.length, 0)
    expect(series).toHaveLength(1 + expected)
  })

  it('LaTeX: booktabs longtables, every run a row, figures included as PDF or SVG', () => {
    const t = renderRunsTableLatex(m)
    expect(t).toMatch(/\\begin\{longtable\}[\s\S]*\\toprule[\s\S]*\\midrule[\s\S]*\\endhead[\s\S]*\\bottomrule[\s\S]*\\end\{longtable\}/)
    for (const r of m.runs) expect(t).toContain(`${escapeLatex(r.name)} & ${r.kind} &`)
    const figs = reportFigures(m).map((f) => ({ id: f.id, title: f.title, caption: f.caption, kind: f.kind, file: `figures/${f.id}.pdf` }))
    const pdf = renderReportLatex(m, figs, { figureFormat: 'pdf' })
    expect(pdf.match(/\\includegraphics\[/g)).toHaveLength(figs.length)
    const svg = renderReportLatex(
      m,
      figs.map((f) => ({ ...f, file: f.file.replace(/pdf$/, 'svg') })),
      { figureFormat: 'svg' },
    )
    expect(svg).toContain('\\usepackage{svg}')
    expect(svg.match(/\\includesvg\[[^\]]*\]\{figures\/[^}.]+\}/g)).toHaveLength(figs.length)
    // braces balance (a cheap syntax check without a TeX installation)
    const depth = [...pdf.replace(/\\[{}]/g, '')].reduce((d, ch) => d + (ch === '{' ? 1 : ch === '}' ? -1 : 0), 0)
    expect(depth).toBe(0)
  })

  it('Markdown: figures linked, a table row per run', () => {
    const md = renderReportMarkdown(m, [{ id: 'pareto-paper', title: 'Pareto', caption: 'c', kind: 'pareto', file: 'figures/pareto-paper.svg' }])
    expect(md).toContain('![Pareto](figures/pareto-paper.svg)')
    for (const r of m.runs) expect(md).toMatch(new RegExp(`^\\| ${r.name.replace(/\./g, '\\.')} \\| ${r.kind} \\|`, 'm'))
  })
})
