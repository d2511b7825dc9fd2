/**
 * Acceptance (issue 8), nothing of ours mocked: `skipbench demo --quick` trains a reduced tiny paper grid on the
 * shipped corpus through the sweeps module, the real job queue and worker processes into a real SQLite file, prints
 * the comparison and writes HTML + PDF; `skipbench report` then writes every format, and each is checked against
 * the database:
 * - the HTML opens in Chromium offline (no request leaves the file, no CSP violation) and every chart is drawn with
 *   the right number of points (SVG markers per series, heatmap cells, line vertices);
 * - the PDF's pages (pdftoppm) are not blank and its text (pdftotext) names every run;
 * - runs.csv, series.csv and report.json parse back to exactly what the store holds and what compare computes;
 * - report.tex has a booktabs table with every run and includes its figures as PDFs; report.md links its SVGs.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { escapeLatex, type ReportModel } from '../report/index.js'
import { parseCsv } from '../report/test-support.js'
import { openStore, type Store } from '../store/index.js'
import { tempDir } from '../store/test-helpers.js'
import { compareExperiment, costRun, experimentRuns } from '../analysis/index.js'
import { findChromium } from './pdf.js'
import { hasPoppler, pdfPageStats, pdfText } from './test-support.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'skipbench.mjs')
const tmp = tempDir('skipbench-report-e2e-')
const db = tmp.file('db/skipbench.db')
const out = tmp.file('report')
const EXPERIMENT = 'demo'
const chromiumPath = findChromium()

function sb(...args: string[]) {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 400_000, env: { ...process.env, SKIPBENCH_DB: '', SKIPBENCH_HOME: '' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 }
}

// browser-side helpers (plain JS strings: the core type check has no DOM library)
/** Per series index: the number of distinct data points drawn (ECharts SSR tags them), and how many lie outside the SVG. */
const COUNT_MARKERS = `(figId) => {
  const fig = document.querySelector('figure[data-figure="' + figId + '"]')
  if (!fig) return null
  const svg = fig.querySelector('svg').getBoundingClientRect()
  const per = {}
  let outside = 0
  for (const el of fig.querySelectorAll('[ecmeta_ssr_type="chart"]')) {
    const b = el.getBoundingClientRect()
    if (b.width <= 0 || b.height <= 0 || b.left < svg.left - 1 || b.right > svg.right + 1 || b.top < svg.top - 1 || b.bottom > svg.bottom + 1) outside++
    const s = el.getAttribute('ecmeta_series_index')
    ;(per[s] ??= new Set()).add(el.getAttribute('ecmeta_data_index'))
  }
  return { per: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, v.size])), outside }
}`
/** Vertex counts of the line series' polylines (untagged paths with the series' stroke width), ascending. */
const LINE_VERTICES = `(figId) => Array.from(document.querySelectorAll('figure[data-figure="' + figId + '"] svg path'))
  .filter((p) => p.getAttribute('fill') === 'none' && p.getAttribute('stroke-width') === '1.5' && !p.hasAttribute('ecmeta_ssr_type'))
  .map((p) => (p.getAttribute('d').match(/[ML]/g) || []).length)
  .sort((a, b) => a - b)`

let demo: ReturnType<typeof sb>
let store: Store
let model: ReportModel
let browser: Browser | null = null

beforeAll(async () => {
  demo = sb('demo', '--quick', '--db', db)
  if (demo.code !== 0) throw new Error(`demo failed (${demo.code}): ${demo.stderr}\n${demo.stdout.slice(-3000)}`)
  console.log(`skipbench demo --quick: ${demo.seconds.toFixed(0)} s`)
  const r = sb('report', '--experiment', EXPERIMENT, '--db', db, '--format', 'html,pdf,csv,json,md,tex', '--out', out)
  if (r.code !== 0) throw new Error(`report failed (${r.code}): ${r.stderr}`)
  store = openStore(db, { readonly: true })
  model = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportModel
  if (chromiumPath) browser = await chromium.launch({ executablePath: chromiumPath })
}, 600_000)

afterAll(async () => {
  await browser?.close()
  store?.close()
  tmp.cleanup()
})

describe('skipbench demo --quick', () => {
  it('acceptance (issue 13): compare --json on the quick demo says inconclusive, with reasons and next steps', () => {
    expect(demo.stdout).toMatch(/the quick demo is a smoke test of the whole pipeline: one seed per point and 60 steps, so its verdict is inconclusive, as expected/)
    const r = sb('compare', '--experiment', EXPERIMENT, '--db', db, '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as { verdict: { conclusive: boolean; direction: string | null; reasons: string[]; nextSteps: string[] }; frontier: { monotone: boolean; noise: unknown } }
    expect(j.verdict.conclusive).toBe(false)
    expect(j.verdict.reasons.length).toBeGreaterThanOrEqual(1)
    // one seed per point: no seed noise, so the frontier cannot be trusted
    expect(j.frontier.noise).toBeNull()
    expect(j.frontier.monotone).toBe(false)
    expect(j.verdict.reasons[0]).toMatch(/^one seed per point/)
    expect(j.verdict.nextSteps).toContain('run at least 2 seeds of each point (sweep --seeds 2)')
  })

  it('trains the reduced grid, prints the comparison and writes an HTML and a PDF report', () => {
    const o = demo.stdout
    expect(o).toMatch(/sweep demo: 4 runs/)
    expect(o).toMatch(/trained in .*: 4 of 4 runs completed/)
    expect(o).toMatch(/dense frontier \(\d points?, seed-group means\)/)
    expect(o).toMatch(/gated runs: gap = val CE − dense frontier CE at equal FLOPs/)
    expect(o).toMatch(/^verdict \(inconclusive\): inconclusive: /m)
    expect(o).toMatch(/^ {2}reasons:\n {4}- /m)
    const html = /^(\/.*report\.html)$/m.exec(o)?.[1]
    const pdf = /^(\/.*report\.pdf)$/m.exec(o)?.[1]
    expect(html && existsSync(html)).toBe(true)
    expect(pdf && readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-')
    const runs = experimentRuns(store, { experiment: EXPERIMENT })
    expect(runs.map((r) => [r.name, r.status])).toEqual([
      ['dense-L2', 'completed'],
      ['dense-L4', 'completed'],
      ['gated-E0.3', 'completed'],
      ['gated-E0.6', 'completed'],
    ])
  })

  it('a second demo reuses the trained runs and only re-reports', () => {
    const again = sb('demo', '--quick', '--db', db, '--no-pdf', '--out', tmp.file('again'))
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/4 runs \(4 already trained, reused\)/)
    expect(existsSync(tmp.file('again/report.html'))).toBe(true)
  })
})

describe('skipbench report: HTML in Chromium', () => {
  it.skipIf(!chromiumPath)('opens offline, no CSP violations, and every chart has the right number of points', async () => {
    const page = await browser!.newPage()
    const requests: string[] = []
    const problems: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(m.text()))
    page.on('pageerror', (e) => problems.push(String(e)))
    const url = pathToFileURL(join(out, 'report.html')).href
    await page.goto(url, { waitUntil: 'load' })
    expect(requests).toEqual([url])
    expect(problems).toEqual([])
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).toMatch(/default-src 'none'/)
    expect(await page.locator('script').count()).toBe(0)

    // markers per series: distinct data indexes of drawn elements, each with a size, inside its SVG
    const count = (id: string) => page.evaluate(`(${COUNT_MARKERS})(${JSON.stringify(id)})`) as Promise<{ per: Record<string, number>; outside: number } | null>

    for (const est of ['paper', 'corrected'] as const) {
      const c = compareExperiment(store, { experiment: EXPERIMENT, estimator: est, flopsKind: 'inference' })
      const n = await count(`pareto-${est}`)
      expect(n).not.toBeNull()
      expect(n!.outside).toBe(0)
      // series 0: the dense frontier, 1: dominated dense groups, 2: gated runs
      expect(n!.per['0'] ?? 0).toBe(c.frontier.points.length)
      expect(n!.per['1'] ?? 0).toBe(c.frontier.dominated.length)
      expect(n!.per['2'] ?? 0).toBe(c.gated.length)
      expect(c.frontier.points.length + c.frontier.dominated.length + c.gated.length).toBe(4)
    }

    // validation curves: one marker per stored validation of each run
    const runs = experimentRuns(store, { experiment: EXPERIMENT })
    const v = await count('curves-val')
    expect(v!.outside).toBe(0)
    runs.forEach((r, i) => expect(v!.per[String(i)]).toBe(store.metrics.series(r.id, 'val/loss', { maxPoints: 0 }).steps.length))

    // training curves (no markers): one polyline per run with one vertex per stored step
    const vertices = (await page.evaluate(`(${LINE_VERTICES})('curves-train')`)) as number[]
    expect(vertices).toEqual(runs.map((r) => store.metrics.series(r.id, 'train/loss', { maxPoints: 0 }).steps.length).sort((a, b) => a - b))

    // gate heatmaps: one per gated run, layers × logged columns cells
    for (const g of model.gates) {
      const h = await count(`gates-${g.runId}`)
      expect(h!.per['0']).toBe(g.values.length * g.steps.length)
      expect(g.values.length).toBe(4)
    }
    expect(model.gates.map((g) => g.label).sort()).toEqual(['gated-E0.3', 'gated-E0.6'])

    // the run table: a row per run
    expect(await page.locator('table.runs tbody tr').count()).toBe(4)
    await page.close()
  })
})

describe('skipbench report: PDF', () => {
  it.skipIf(!hasPoppler())('has pages that are not blank and names every run', () => {
    const pdf = join(out, 'report.pdf')
    const pages = pdfPageStats(pdf)
    expect(pages.length).toBeGreaterThanOrEqual(2)
    for (const p of pages) {
      expect(p.width).toBeGreaterThan(300) // A4 at 40 dpi: 331 × 468
      expect(p.variance).toBeGreaterThan(50)
      expect(p.inked).toBeGreaterThan(0.005)
    }
    const text = pdfText(pdf)
    for (const r of experimentRuns(store, { experiment: EXPERIMENT })) expect(text).toContain(r.name)
    expect(text).toMatch(/Verdict \(paper estimator, inference FLOPs\)/)
    expect(text).toMatch(/Appendix: reproducibility/)
    // the LaTeX figures are one-page vector PDFs with ink on them
    for (const f of ['pareto-paper', 'pareto-corrected', 'curves-val', 'curves-train']) {
      const [p] = pdfPageStats(join(out, 'figures', `${f}.pdf`))
      expect(p!.variance).toBeGreaterThan(50)
    }
  })
})

describe('skipbench report: CSV and JSON against the database', () => {
  it('runs.csv holds every run with the stored validation CE, FLOPs, sparsity and tokens', () => {
    const [head, ...rows] = parseCsv(readFileSync(join(out, 'runs.csv'), 'utf8'))
    const col = (name: string) => head!.indexOf(name)
    const runs = experimentRuns(store, { experiment: EXPERIMENT })
    expect(rows.map((r) => Number(r[col('run_id')]))).toEqual(runs.map((r) => r.id))
    for (const [i, run] of runs.entries()) {
      const row = rows[i]!
      const k = costRun(store, run)
      expect(k.ok).toBe(true)
      if (!k.ok) continue
      const T = k.costed.steps
      expect(row[col('name')]).toBe(run.name)
      expect(row[col('kind')]).toBe(run.kind)
      expect(Number(row[col('seed')])).toBe(run.seed)
      expect(Number(row[col('val_loss')])).toBe(store.metrics.series(run.id, 'val/loss', { fromStep: T, toStep: T }).values[0])
      expect(Number(row[col('val_tokens')])).toBe(store.metrics.series(run.id, 'val/tokens', { fromStep: T, toStep: T }).values[0])
      for (const est of ['paper', 'corrected'] as const) {
        expect(Number(row[col(`inference_flops_${est}`)])).toBe(k.costed.flops[est].inference)
        expect(Number(row[col(`training_flops_${est}`)])).toBe(k.costed.flops[est].training)
      }
      if (run.kind === 'gated') expect(Number(row[col('sparsity')])).toBe(store.metrics.series(run.id, 'val/zeros/mean', { fromStep: T, toStep: T }).values[0])
      else expect(row[col('sparsity')]).toBe('')
      expect(Number(row[col('train_tokens')])).toBe(store.metrics.summaries(run.id).find((s) => s.key === 'train/tokens')!.lastValue)
      expect(Number(row[col('steps')])).toBe(T)
      expect(row[col('backend')]).toBe(run.backend)
      expect(Number(row[col('wall_seconds')])).toBe((Date.parse(run.endedAt!) - Date.parse(run.startedAt!)) / 1000)
      expect(Number(row[col('model.n_layers')])).toBe((run.config.model as { n_layers: number }).n_layers)
    }
  })

  it('series.csv holds the stored loss curves and gate values exactly', () => {
    const [head, ...rows] = parseCsv(readFileSync(join(out, 'series.csv'), 'utf8'))
    expect(head).toEqual(['run_id', 'name', 'key', 'step', 'value'])
    const got = new Map<string, [number, number][]>()
    for (const r of rows) {
      const k = `${r[0]}|${r[2]}`
      got.set(k, [...(got.get(k) ?? []), [Number(r[3]), Number(r[4])]])
    }
    const runs = experimentRuns(store, { experiment: EXPERIMENT })
    for (const run of runs) {
      for (const key of ['val/loss', 'train/loss']) {
        const s = store.metrics.series(run.id, key, { maxPoints: 0 })
        expect(got.get(`${run.id}|${key}`)).toEqual(s.steps.map((x, i) => [x, s.values[i]]))
      }
      if (run.kind === 'gated')
        for (let l = 0; l < 4; l++) {
          const key = `train/gates/mean/layer_0${l}`
          const s = store.metrics.series(run.id, key, { maxPoints: 0 })
          const stored = new Map(s.steps.map((x, i) => [x, s.values[i]!]))
          const pts = got.get(`${run.id}|${key}`)!
          expect(pts.length).toBeGreaterThan(10)
          for (const [step, value] of pts) expect(value).toBe(stored.get(step))
        }
    }
  })

  it('report.json has the table, the series and both estimators’ comparisons as compare computes them', () => {
    expect(model.format).toBe('skipbench-report')
    expect(model.runs.map((r) => r.name)).toEqual(['dense-L2', 'dense-L4', 'gated-E0.3', 'gated-E0.6'])
    for (const est of ['paper', 'corrected'] as const)
      for (const kind of ['inference', 'training'] as const) {
        const { experiment: _e, runs: _r, ...c } = compareExperiment(store, { experiment: EXPERIMENT, estimator: est, flopsKind: kind })
        expect(model.comparisons[est][kind]).toEqual(JSON.parse(JSON.stringify(c)))
      }
    const csv = parseCsv(readFileSync(join(out, 'runs.csv'), 'utf8'))
    const vl = csv[0]!.indexOf('val_loss')
    expect(model.runs.map((r) => r.valLoss)).toEqual(csv.slice(1).map((r) => Number(r[vl])))
    expect(model.curves.val).toHaveLength(4)
    expect(model.appendix.datasets[0]).toMatchObject({ name: 'default', tokenizer: 'byte' })
    expect(model.appendix.datasets[0]!.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256 ?? ''))).toBe(true)
    for (const r of model.appendix.runs) {
      expect(r.command.startsWith(`skipbench train ${r.configFile} --engine ort`)).toBe(true)
      expect(JSON.parse(readFileSync(join(out, r.configFile), 'utf8'))).toEqual(store.runs.get(r.runId)!.config)
    }
  })
})

describe('skipbench report: LaTeX and Markdown', () => {
  it('report.tex has a booktabs table with every run and includes its figures as PDFs', () => {
    const tex = readFileSync(join(out, 'report.tex'), 'utf8')
    const table = readFileSync(join(out, 'runs-table.tex'), 'utf8')
    for (const t of [tex, table]) {
      expect(t).toContain('\\begin{longtable}')
      expect(t).toContain('\\toprule')
      expect(t).toContain('\\midrule')
      expect(t).toContain('\\bottomrule')
    }
    expect(tex).toMatch(/\\usepackage\{booktabs,longtable,graphicx,array\}/)
    expect(tex).toContain('\\begin{document}')
    expect(tex.trim().endsWith('\\end{document}')).toBe(true)
    const rows = table.split('\n').filter((l) => l.endsWith('\\\\') && !l.startsWith('Run &') && !l.startsWith('\\caption'))
    expect(rows).toHaveLength(4)
    for (const r of model.runs) expect(rows.some((l) => l.startsWith(`${escapeLatex(r.name)} & ${r.kind} &`))).toBe(true)
    const figs = [...tex.matchAll(/\\includegraphics\[[^\]]*\]\{([^}]+)\}/g)].map((m) => m[1]!)
    expect(figs.length).toBe(4 + model.gates.length)
    for (const f of figs) expect(readFileSync(join(out, f)).subarray(0, 5).toString()).toBe('%PDF-')
    expect(tex).toMatch(/% Figures: PDF files printed from the SVG figures by Chromium/)
  })

  it('report.md has the tables and links the SVG figures', () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8')
    const links = [...md.matchAll(/!\[[^\]]*\]\((figures\/[^)]+\.svg)\)/g)].map((m) => m[1]!)
    expect(links.length).toBe(4 + model.gates.length)
    for (const l of links) expect(readFileSync(join(out, l), 'utf8')).toMatch(/^<\?xml[^>]*>\n<svg /)
    for (const r of model.runs) expect(md).toMatch(new RegExp(`^\\| ${r.name.replace(/[.]/g, '\\.')} \\| ${r.kind} \\|`, 'm'))
  })
})
