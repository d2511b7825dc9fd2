/** `skipbench report --experiment NAME [--runs ID,...] --format html,pdf,csv,json,md,tex --out DIR` */
import { dirname, relative, resolve } from 'node:path'
import { z } from 'zod'
import { REPORT_FORMATS, slug } from '../../core/report/index.js'
import { buildReport, ChromiumMissingError, parseFormats, ReportError, type BuiltReport, type WrittenFile } from '../../core/report-export/index.js'
import { comparisonOptions, parseArgv, UsageError, validate } from '../args.js'
import { measureOptions, measureRuns, openExistingStore } from './compare.js'
import { asUserErrors, defaultDbPath } from './sweep.js'

export const REPORT_HELP = `usage: skipbench report --experiment NAME [--runs ID,...] [options]
       skipbench report --runs ID,... [options]

Write a comparison report of an experiment (or of some runs): the question and the verdict (the gated runs' CE gap
to the dense frontier at equal FLOPs, under both estimators), figures (Pareto chart per estimator, loss curves, gate
heatmaps; SVG rendered here, no browser), the run table (differing config fields, validation CE with seed-group
mean ± CI, inference and training FLOPs, sparsity, tokens, wall time, backend) and a reproducibility appendix
(configs, dataset hashes, software versions, seeds, the command that re-runs each run).

options:
  --experiment NAME      the experiment (name or id)
  --runs ID,...          these runs (with --experiment: a subset of it)
  --format LIST          any of ${REPORT_FORMATS.join(',')} (default html):
                           html  report.html: self-contained (inline SVG and CSS, no scripts), opens offline
                           pdf   report.pdf: the HTML printed by Chromium (apt install chromium, or $SKIPBENCH_CHROMIUM)
                           csv   runs.csv (the table) and series.csv (loss curves and gate values, long form)
                           json  report.json: everything (table, comparisons under both estimators, series, appendix)
                           md    report.md with figures/*.svg
                           tex   report.tex (booktabs tables, figures/*.pdf printed from the SVGs by Chromium,
                                 else the SVGs) and runs-table.tex to \\input into a paper
  --out DIR              the folder to write (default: reports/<experiment> next to the database)
  --estimator E          the headline estimator: paper (default) or corrected; both are always in the report
  --flops K              the headline x axis: inference FLOPs (default, per sequence), training FLOPs (whole run), or
                         measured: evaluation time per token on this machine (hard skipping for key-gated runs, dense
                         evaluation otherwise; same engine for all), cached per checkpoint and machine; the report
                         names the machine and engine
  --data SHARD.bin       with --flops measured: first measure every run not yet measured on this machine on this shard
                         (without it, only cached measurements are used); --measure-tokens N, --engine ort|tfjs,
                         --threads N as for skipbench compare
  --source S             validation CE from: auto (default), evaluation or validation (as skipbench compare)
  --level P              confidence level of the intervals (default 0.95)
  --title TEXT           the report's title
  --db PATH              the database (default: $SKIPBENCH_DB or .skipbench/skipbench.db)
  --json                 print what was written as JSON
Every format also writes configs/<run>-<id>.json, the config each run's re-run command reads.`

const Args = z
  .object({
    experiment: z.string().min(1).optional(),
    runs: z
      .string()
      .transform((s, ctx) => {
        const parts = s.split(',').map((p) => p.trim())
        if (parts.some((p) => !/^\d+$/.test(p))) {
          ctx.addIssue({ code: 'custom', message: `expected run ids like 3,4,7, got "${s}"` })
          return z.NEVER
        }
        return parts.map(Number)
      })
      .optional(),
    format: z.string().default('html'),
    out: z.string().min(1).optional(),
    ...comparisonOptions,
    flops: z.enum(['inference', 'training', 'measured'], { error: 'must be inference, training or measured' }).default('inference'),
    ...measureOptions,
    title: z.string().min(1).optional(),
    db: z.string().optional(),
    json: z.boolean().default(false),
  })
  .refine((a) => a.experiment !== undefined || a.runs !== undefined, { error: 'give --experiment NAME or --runs ID,...' })

/** The lines the CLI prints: the main files, then the supporting folders with their counts. */
export function formatWritten(r: Pick<BuiltReport, 'files' | 'outDir' | 'warnings' | 'pdfMethod' | 'texFigures'>, cwd = process.cwd()): string {
  const show = (p: string) => {
    const rel = relative(cwd, p)
    return rel && !rel.startsWith('..') ? rel : p
  }
  const main = r.files.filter((f) => f.format !== 'figure' && f.format !== 'config')
  const folders = new Map<string, WrittenFile[]>()
  for (const f of r.files) if (f.format === 'figure' || f.format === 'config') folders.set(dirname(f.path), [...(folders.get(dirname(f.path)) ?? []), f])
  const lines = main.map((f) => show(f.path))
  for (const [dir, fs] of folders) {
    const kinds = [...new Set(fs.map((f) => f.path.split('.').at(-1)))].join(', ')
    lines.push(`${show(dir)}/ (${fs.length} ${fs[0]!.format === 'config' ? 'run configs' : `figure files: ${kinds}`})`)
  }
  const how: string[] = []
  if (r.pdfMethod) how.push(`PDF printed by Chromium (${r.pdfMethod})`)
  if (r.texFigures) how.push(`LaTeX figures: ${r.texFigures === 'pdf' ? 'PDF (\\includegraphics)' : 'SVG (\\includesvg)'}`)
  return [...lines, ...(how.length ? [`(${how.join('; ')})`] : []), ...r.warnings.map((w) => `warning: ${w}`)].join('\n')
}

export async function reportCommand(argv: string[]): Promise<number> {
  return asUserErrors(async () => {
    try {
      return await report(argv)
    } catch (e) {
      if (e instanceof ReportError || e instanceof ChromiumMissingError || e instanceof RangeError) throw new UsageError((e as Error).message)
      throw e
    }
  })
}

async function report(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, {
    flags: ['json'],
    values: ['experiment', 'runs', 'format', 'out', 'estimator', 'flops', 'source', 'level', 'title', 'db', 'data', 'measure-tokens', 'engine', 'threads'],
  })
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals.join(' ')}`)
  const a = validate(Args, { ...options, measure_tokens: options['measure-tokens'], 'measure-tokens': undefined })
  if (a.data !== undefined && a.flops !== 'measured') throw new UsageError('--data is only used with --flops measured')
  const formats = parseFormats(a.format)
  const dbPath = resolve(a.db ?? defaultDbPath())
  const store = openExistingStore(dbPath)
  try {
    const name = a.experiment ?? `runs-${a.runs!.join('-')}`.slice(0, 60)
    const outDir = resolve(a.out ?? resolve(dirname(dbPath), 'reports', slug(name)))
    if (a.flops === 'measured' && a.data !== undefined)
      await measureRuns(store, { ...(a.experiment !== undefined ? { experiment: a.experiment } : {}), ...(a.runs ? { runIds: a.runs } : {}) }, { ...a, data: a.data }, !a.json)
    const r = await buildReport(store, {
      ...(a.experiment !== undefined ? { experiment: a.experiment } : {}),
      ...(a.runs ? { runIds: a.runs } : {}),
      estimator: a.estimator,
      flopsKind: a.flops,
      source: a.source,
      ...(a.level !== undefined ? { level: a.level } : {}),
      ...(a.title ? { title: a.title } : {}),
      formats,
      outDir,
    })
    if (a.json)
      process.stdout.write(
        JSON.stringify({ outDir: r.outDir, files: r.files, pdfMethod: r.pdfMethod, texFigures: r.texFigures, warnings: r.warnings, runs: r.model.runs.length, seconds: r.buildSeconds + r.seconds }) + '\n',
      )
    else {
      process.stderr.write(`report of ${r.model.runs.length} runs in ${(r.buildSeconds + r.seconds).toFixed(1)} s: ${r.model.comparisons[a.estimator][a.flops].verdict.text}\n`)
      process.stdout.write(formatWritten(r) + '\n')
    }
    return 0
  } finally {
    store.close()
  }
}
