/**
 * core/report: pure chart and report builders shared by the renderer and the report writers (no Node, no DOM).
 * The store → model step and the file writers (PDF through Chromium) are in core/report-export.
 */
export * from './charts.js'
export { renderSvg } from './ssr.js'
export * from './model.js'
export * from './format.js'
export { reportFigures, renderFigures, runColor, type ReportFigure, type RenderedFigure } from './figures.js'
export { renderReportHtml, REPORT_CSP, tableFields, type HtmlOptions } from './html.js'
export { renderReportMarkdown, type LinkedFigure } from './markdown.js'
export { renderReportLatex, renderRunsTableLatex, type LatexOptions } from './latex.js'
export { reportJson, runsCsv, runsCsvHeader, seriesCsv, verdictCsv } from './tables.js'
export { verdictLines, verdictView, type VerdictPointRow, type VerdictView } from './verdict.js'
export { axisLabel, parallelChartOption, type ParallelOptions } from './parallel.js'
export { runsTableLatex, runsTableMarkdown, texEscape } from './runs-table.js'
