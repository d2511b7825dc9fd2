/**
 * Report benchmark (issue 8: "a report of 200 runs is produced in seconds"): a fresh SQLite store with N synthetic
 * runs (the tiny paper grid's configs with seeds; made-up metrics written through the store API, no training), then
 * the report in every format, timed by stage.
 *
 *   npx tsx scripts/bench/report.ts [--runs 200] [--steps 50] [--formats html,pdf,csv,json,md,tex] [--json FILE]
 *
 * Stages: model = store → ReportModel (costing every run with both estimators, four comparisons, series, appendix);
 * each format written alone into its own folder (so the time of each is visible), then all formats together the way
 * `skipbench report` writes them (one Chromium launch for the PDF and the LaTeX figures). Everything runs in a
 * temporary folder, deleted after.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildReport, buildReportModel, findChromium, parseFormats, writeReport } from '../../core/report-export/index.js'
import { seedSyntheticExperiment } from '../../core/report-export/synthetic.js'
import { renderFigures } from '../../core/report/index.js'
import { databaseIn } from '../../core/paths.js'
import { openStore } from '../../core/store/index.js'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    steps: { type: 'string', default: '50' },
    formats: { type: 'string', default: 'html,pdf,csv,json,md,tex' },
    json: { type: 'string' },
  },
})
const RUNS = Number(args.runs)
const formats = parseFormats(args.formats!).filter((f) => f !== 'pdf' || findChromium())
const dir = mkdtempSync(join(tmpdir(), 'skipbench-bench-report-'))
const now = () => performance.now()
const results: Record<string, number> = {}

try {
  const store = openStore(databaseIn(dir))
  let t = now()
  seedSyntheticExperiment(store, { experiment: 'bench', runs: RUNS, steps: Number(args.steps) })
  console.log(`stored ${RUNS} synthetic runs in ${((now() - t) / 1000).toFixed(2)} s`)

  t = now()
  const model = buildReportModel(store, { experiment: 'bench' })
  results.model = (now() - t) / 1000
  t = now()
  const figs = renderFigures(model)
  results.figures = (now() - t) / 1000
  console.log(`model: ${results.model.toFixed(2)} s; figures → SVG: ${results.figures.toFixed(2)} s (${figs.length} figures)`)
  for (const f of formats) {
    t = now()
    await writeReport(model, { outDir: join(dir, `only-${f}`), formats: [f] })
    results[`write:${f}`] = (now() - t) / 1000
    console.log(`  ${f.padEnd(4)} alone: ${results[`write:${f}`]!.toFixed(2)} s (figures rendered again inside)`)
  }
  t = now()
  const r = await buildReport(store, { experiment: 'bench', formats, outDir: join(dir, 'all') })
  results.total = (now() - t) / 1000
  console.log(`\nskipbench report of ${RUNS} runs, ${formats.join(',')}: ${results.total.toFixed(2)} s end to end (model ${r.buildSeconds.toFixed(2)} s + writing ${r.seconds.toFixed(2)} s; ${r.files.length} files${r.pdfMethod ? `; PDF by ${r.pdfMethod}` : ''})`)
  store.close()
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true })
    writeFileSync(args.json, JSON.stringify({ runs: RUNS, formats, seconds: results, at: new Date().toISOString() }, null, 1) + '\n')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
