/**
 * core/report-export: comparison reports from the store (issue 8). Node side of core/report: reads the store and run
 * folders, writes files, prints PDFs with Chromium. What the CLI (`skipbench report`, `skipbench demo`) and the
 * service (the app's export dialog) call:
 *
 *   buildReport(store, { experiment | runIds, estimator, formats, outDir })  → { model, files, ... }
 *   previewReportHtml(store, { experiment | runIds, estimator })            → the HTML document (string)
 */
import { renderReportHtml, type ReportFormat, type ReportModel } from '../report/index.js'
import type { Store } from '../store/store.js'
import { buildReportModel, type ReportOptions } from './build.js'
import { writeReport, type WriteReportOptions, type WrittenReport } from './write.js'

export { buildReportModel, ReportError, type ReportOptions } from './build.js'
export { ChromiumMissingError, findChromium, printPdfs, requireChromium, svgPage, type PdfJob, type PdfMethod, type PrintOptions } from './pdf.js'
export { parseFormats, writeReport, type WriteReportOptions, type WrittenFile, type WrittenReport } from './write.js'

export interface BuildReportOptions extends ReportOptions, Omit<WriteReportOptions, 'formats'> {
  formats: readonly ReportFormat[]
}

export interface BuiltReport extends WrittenReport {
  model: ReportModel
  /** seconds spent reading the store and comparing (writing: `seconds`) */
  buildSeconds: number
}

/** Build the report of an experiment (or runs) and write it in the given formats into `outDir`. */
export async function buildReport(store: Store, o: BuildReportOptions): Promise<BuiltReport> {
  const t0 = performance.now()
  const model = buildReportModel(store, o)
  const buildSeconds = (performance.now() - t0) / 1000
  const written = await writeReport(model, { outDir: o.outDir, formats: o.formats, ...(o.chromium ? { chromium: o.chromium } : {}), ...(o.pdfMethod ? { pdfMethod: o.pdfMethod } : {}) })
  return { ...written, model, buildSeconds }
}

/**
 * The self-contained HTML report as a string, for a preview (e.g. an iframe with `sandbox` and `srcdoc`): no
 * scripts, inline SVG/CSS, its own CSP. `print: true` gives the PDF layout.
 */
export function previewReportHtml(store: Store, o: ReportOptions & { print?: boolean }): string {
  return renderReportHtml(buildReportModel(store, o), { print: o.print === true })
}
