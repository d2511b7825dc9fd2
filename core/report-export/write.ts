/**
 * Write a report model in the requested formats into a folder:
 *
 *   html  report.html                         self-contained (inline SVG + CSS, no scripts, strict CSP)
 *   pdf   report.pdf                          the HTML's print layout, printed by Chromium (pdf.ts)
 *   csv   runs.csv, series.csv, verdict.csv   the run table; every series (loss curves, gate heatmaps) in long form; the verdict
 *   json  report.json                         the whole model (table, comparisons, series, appendix)
 *   md    report.md + figures/*.svg           Markdown tables, figures linked as SVG files
 *   tex   report.tex, runs-table.tex + figures/*.pdf (and .svg)
 *                                             booktabs tables; figures as PDFs printed from the SVGs by Chromium,
 *                                             or as SVGs (\includesvg) when Chromium is missing
 *
 * and always configs/<run>-<id>.json (each run's full config, what the appendix's commands read).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  renderFigures,
  renderReportHtml,
  renderReportLatex,
  renderReportMarkdown,
  renderRunsTableLatex,
  reportJson,
  runsCsv,
  seriesCsv,
  verdictCsv,
  REPORT_FORMATS,
  type LinkedFigure,
  type RenderedFigure,
  type ReportFormat,
  type ReportModel,
} from '../report/index.js'
import { ChromiumMissingError, findChromium, printPdfs, requireChromium, svgPage, type PdfJob, type PdfMethod } from './pdf.js'

export interface WriteReportOptions {
  outDir: string
  formats: readonly ReportFormat[]
  /** Chromium executable for PDF (default: found on this machine) */
  chromium?: string
  pdfMethod?: PdfMethod
}

export interface WrittenFile {
  /** which format asked for it; "figure" and "config" are supporting files */
  format: ReportFormat | 'figure' | 'config'
  path: string
}

export interface WrittenReport {
  outDir: string
  files: WrittenFile[]
  /** how PDFs were printed (when any were) */
  pdfMethod: PdfMethod | null
  /** how report.tex includes its figures */
  texFigures: 'pdf' | 'svg' | null
  /** e.g. "no Chromium: report.tex includes SVG figures" */
  warnings: string[]
  seconds: number
}

export function parseFormats(s: string | readonly string[]): ReportFormat[] {
  const parts = (typeof s === 'string' ? s.split(',') : s).map((x) => x.trim().toLowerCase()).filter(Boolean)
  const alias: Record<string, ReportFormat> = { markdown: 'md', latex: 'tex', htm: 'html' }
  const out: ReportFormat[] = []
  for (const p of parts) {
    const f = (alias[p] ?? p) as ReportFormat
    if (!REPORT_FORMATS.includes(f)) throw new RangeError(`unknown report format "${p}"; use any of ${REPORT_FORMATS.join(', ')}`)
    if (!out.includes(f)) out.push(f)
  }
  if (!out.length) throw new RangeError(`no report format given; use any of ${REPORT_FORMATS.join(', ')}`)
  return out
}

export async function writeReport(m: ReportModel, o: WriteReportOptions): Promise<WrittenReport> {
  const t0 = performance.now()
  const outDir = resolve(o.outDir)
  const formats = new Set(o.formats)
  if (formats.has('pdf')) requireChromium(o.chromium) // fail before writing anything
  mkdirSync(outDir, { recursive: true })
  const files: WrittenFile[] = []
  const warnings: string[] = []
  const put = (format: WrittenFile['format'], rel: string, content: string) => {
    const path = join(outDir, rel)
    writeFileSync(path, content)
    files.push({ format, path })
    return path
  }
  const needFigures = ['html', 'pdf', 'md', 'tex'].some((f) => formats.has(f as ReportFormat))
  const figs: RenderedFigure[] = needFigures ? renderFigures(m) : []

  if (formats.has('html')) put('html', 'report.html', renderReportHtml(m, { figures: figs }))
  if (formats.has('json')) put('json', 'report.json', reportJson(m))
  if (formats.has('csv')) {
    put('csv', 'runs.csv', runsCsv(m))
    put('csv', 'series.csv', seriesCsv(m))
    put('csv', 'verdict.csv', verdictCsv(m))
  }

  const needSvgFiles = formats.has('md') || formats.has('tex')
  const linked: LinkedFigure[] = figs.map((f) => ({ id: f.id, title: f.title, caption: f.caption, kind: f.kind, file: `figures/${f.id}.svg` }))
  if (needSvgFiles) {
    mkdirSync(join(outDir, 'figures'), { recursive: true })
    for (const f of figs) put('figure', `figures/${f.id}.svg`, `<?xml version="1.0" encoding="UTF-8"?>\n${f.svg}\n`)
  }
  if (formats.has('md')) put('md', 'report.md', renderReportMarkdown(m, linked))

  // PDFs: the report and, for LaTeX, each figure
  const jobs: PdfJob[] = []
  if (formats.has('pdf')) jobs.push({ html: renderReportHtml(m, { figures: figs, print: true }), out: join(outDir, 'report.pdf') })
  let texFigures: WrittenReport['texFigures'] = null
  if (formats.has('tex')) {
    texFigures = findChromium() || o.chromium ? 'pdf' : 'svg'
    if (texFigures === 'pdf') for (const f of figs) jobs.push({ html: svgPage(f.svg, f.width, f.height), out: join(outDir, 'figures', `${f.id}.pdf`) })
    else warnings.push('no Chromium found: report.tex includes the SVG figures (\\includesvg; needs Inkscape and -shell-escape)')
  }
  let pdfMethod: PdfMethod | null = null
  if (jobs.length) {
    try {
      const r = await printPdfs(jobs, { ...(o.chromium ? { chromium: o.chromium } : {}), ...(o.pdfMethod ? { method: o.pdfMethod } : {}) })
      pdfMethod = r.method
      for (const j of jobs) files.push({ format: j.out.endsWith('report.pdf') ? 'pdf' : 'figure', path: j.out })
    } catch (e) {
      if (e instanceof ChromiumMissingError && !formats.has('pdf')) {
        texFigures = 'svg'
        warnings.push('no Chromium found: report.tex includes the SVG figures')
      } else throw e
    }
  }
  if (formats.has('tex')) {
    const texLinked = linked.map((f) => ({ ...f, file: texFigures === 'pdf' ? `figures/${f.id}.pdf` : f.file }))
    put('tex', 'report.tex', renderReportLatex(m, texLinked, { figureFormat: texFigures ?? 'svg' }))
    put('tex', 'runs-table.tex', renderRunsTableLatex(m))
  }

  mkdirSync(join(outDir, 'configs'), { recursive: true })
  for (const r of m.appendix.runs) put('config', r.configFile, JSON.stringify(r.config, null, 2) + '\n')

  return { outDir, files, pdfMethod, texFigures, warnings, seconds: (performance.now() - t0) / 1000 }
}
