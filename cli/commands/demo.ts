/**
 * `skipbench demo [--quick]`: the one-command demo (issue 8). On the shipped corpus it runs a reduced paper grid
 * through the sweeps module and the job queue (each run in its own worker process), stores it in the default
 * database, prints the comparison (gaps to the dense frontier) and writes an HTML and a PDF report.
 *
 * Full (about 9 minutes on 2 idle CPU cores, measured as ADR 0013 says): the tiny scale (byte-level, dim 64, context 64,
 * 16 sequences per step), 1,500 steps, 65,536 validation tokens; dense L = 1, 2, 3 and 4-layer gated runs with target
 * ends E = 0.1, 0.25, 0.4, two seeds each (so the verdict has a measured seed noise, can trust a frontier that falls
 * by more than it, and gives each gated point its own interval). At this budget
 * depth stops paying after three layers (dense L = 4 came out level with L = 3), so the dense depths stop at 3 and
 * the gated targets are chosen so every gated point's FLOPs lie between dense L = 2 and L = 3, where the frontier
 * falls by ~0.04 nats, several times the seed noise (ADR 0013). The gated runs use the proportional controller with
 * k = 1e-2 instead of the paper's 1e-3 (as the tiny-gated preset): at k = 1e-3 a run this short never reaches its
 * target sparsity.
 * Quick (about 10 s on 2 idle cores, PDF included; used by tests): dim 32, 60 steps, one seed; dense L = 2, 4 and 4-layer gated runs with
 * E = 0.3, 0.6. Its verdict is inconclusive by design, and it says so.
 *
 * Runs already in the demo experiment are reused (queueSweep is idempotent), so a second `skipbench demo` only
 * re-reports, and one stopped by Ctrl-C continues where it stopped.
 */
import { dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { calibrationFileBeside, resolveStorePaths } from '../../core/paths.js'
import { JobQueue } from '../../core/jobs/queue.js'
import { buildReport, ChromiumMissingError, type BuiltReport } from '../../core/report-export/index.js'
import { openStore } from '../../core/store/index.js'
import {
  CalibrationCache,
  estimateSweep,
  expandSweep,
  paperGrid,
  queueSweep,
  type SweepSpec,
} from '../../core/sweeps/index.js'
import { compareExperiment } from '../../core/analysis/index.js'
import { fmtDuration } from '../../core/report/format.js'
import { formatComparison, formatSweepPlan } from '../format.js'
import { parseArgv, UsageError, validate } from '../args.js'
import { formatWritten } from './report.js'
import { asUserErrors, runSweepToCompletion } from './sweep.js'

export const DEMO_HELP = `usage: skipbench demo [--quick] [options]

The one-command demo: trains a reduced version of the paper's grid on the shipped corpus (dense baselines at a few
depths and gated skip-middle runs at a few target ends), stores it in the database, prints the comparison (each
gated run's CE gap to the dense frontier at equal FLOPs) and writes an HTML and a PDF report.

  full     about 9 minutes on 2 idle CPU cores: dim 64, 1,500 steps, 65,536 validation tokens; dense L = 1, 2, 3
           and gated L = 4 with E = 0.1, 0.25, 0.4 (FLOPs between dense L = 2 and 3, where the frontier falls well
           beyond seed noise), two seeds each (the seed noise the verdict needs)
  --quick  about 10 seconds: dim 32, 60 steps, one seed; dense L = 2, 4; gated L = 4 with E = 0.3, 0.6. A smoke test
           of the whole pipeline: its verdict is inconclusive by design (one seed, an under-trained frontier)

options:
  --quick                the 10-second variant
  --experiment NAME      the experiment to store the runs in (default: demo for --quick, demo-full for the full demo)
  --out DIR              where the report goes (default: reports/<experiment> next to the database)
  --db PATH              the database (default: $SKIPBENCH_DB or .skipbench/skipbench.db)
  --data-dir DIR         datasets (default: $SKIPBENCH_DATA_DIR or ./.skipbench/data)
  --estimator E          the report's headline estimator: paper (default) or corrected
  --no-pdf               HTML only (no Chromium needed)
Runs already in the experiment are reused: run it again to re-report, or after Ctrl-C to continue.`

/** The full demo's grid (its duration is measured as docs/adr/0013-demo-budget.md says: about 9 minutes on 2 idle cores). */
export const FULL_STEPS = 1500
export const FULL_VAL_TOKENS = 65_536
export const FULL_DEPTHS = [1, 2, 3]
export const FULL_SEEDS = [0, 1]
export const FULL_GATED_DEPTH = 4
export const FULL_ENDS = [0.1, 0.25, 0.4]
export const QUICK_STEPS = 60

export interface DemoGridOptions {
  quick: boolean
}

/** The demo's sweep: a reduced tiny paper grid (see the file comment). */
export function demoSweepSpec(o: DemoGridOptions): SweepSpec {
  const spec = o.quick
    ? paperGrid({
        scale: 'tiny',
        groups: ['dense', 'gated'],
        depths: [2, 4],
        gatedDepth: 4,
        ends: [0.3, 0.6],
        set: { 'model.dim': 32, 'training.train_steps': QUICK_STEPS, 'training.val_every': 20 },
      })
    : paperGrid({
        scale: 'tiny',
        groups: ['dense', 'gated'],
        depths: FULL_DEPTHS,
        gatedDepth: FULL_GATED_DEPTH,
        ends: FULL_ENDS,
        set: { 'training.train_steps': FULL_STEPS, 'training.val_every': FULL_STEPS / 4, 'training.val_tokens': FULL_VAL_TOKENS },
      })
  for (const g of spec.groups) {
    // the proportional controller's gain: 1e-2 so a short run reaches its target sparsity (as the tiny-gated preset)
    if (g.name === 'gated') g.base = { ...g.base, controller: { ...(g.base.controller as Record<string, unknown>), coef_update_multiplier: 1e-2 } }
    // two seeds per point: the seed noise the verdict needs to trust the frontier, and the gated points' own noise
    if (!o.quick) g.axes = { ...g.axes, 'training.seed': FULL_SEEDS }
  }
  return {
    ...spec,
    // the quick demo is the one a new user runs first, so it takes the plain name (`compare --experiment demo`);
    // the full demo has its own experiment so ten-second smoke-test runs never mix into its comparison
    name: o.quick ? 'demo' : 'demo-full',
    description:
      `skipbench demo${o.quick ? ' (quick)' : ''}: a reduced paper grid at the tiny scale on the shipped corpus — ` +
      (o.quick
        ? 'dim 32, 60 steps, one seed, dense L = 2, 4, gated L = 4 with E = 0.3, 0.6 (a smoke test: its verdict is inconclusive)'
        : 'dim 64, 1,500 steps, 65,536 validation tokens, dense L = 1, 2, 3 with seeds 0 and 1, gated L = 4 with E = 0.1, 0.25, 0.4') +
      '; gated runs: proportional controller, k = 1e-2',
  }
}

const Args = z.object({
  quick: z.boolean().default(false),
  experiment: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  db: z.string().optional(),
  data_dir: z.string().optional(),
  estimator: z.enum(['paper', 'corrected'], { error: 'must be paper or corrected' }).default('paper'),
  no_pdf: z.boolean().default(false),
})

export async function demoCommand(argv: string[]): Promise<number> {
  return asUserErrors(() => demo(argv))
}

async function demo(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['quick', 'no-pdf'], values: ['experiment', 'out', 'db', 'data-dir', 'estimator'] })
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals.join(' ')}`)
  const snake: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) snake[k.replace(/-/g, '_')] = v
  const a = validate(Args, snake)
  const say = (s: string) => process.stdout.write(s + '\n')
  const t0 = Date.now()

  const spec = demoSweepSpec({ quick: a.quick })
  const sweep = expandSweep(spec)
  if (sweep.invalid.length) throw new Error(`the demo grid has invalid points: ${sweep.invalid.map((p) => p.name).join(', ')}`)
  const experiment = a.experiment ?? spec.name!
  const paths = resolveStorePaths(a.db ? { db: a.db } : {})
  const dbPath = paths.db
  const dataDir = a.data_dir ? resolve(a.data_dir) : undefined
  const est = await estimateSweep(sweep, {
    calibrate: !a.quick,
    cache: new CalibrationCache(calibrationFileBeside(dbPath)),
    ...(dataDir ? { dataDir } : {}),
  })
  say(formatSweepPlan(sweep, est) + '\n')

  const store = openStore(dbPath)
  const queue = new JobQueue({ store, runsDir: paths.runsDir, ...(dataDir ? { dataDir } : {}) })
  try {
    await queue.start()
    const queued = queueSweep(queue, sweep, { experiment, description: spec.description! })
    const reused = queued.points.filter((p) => p.action === 'exists' && p.status === 'completed').length
    say(`experiment "${queued.experiment}" in ${dbPath}: ${queued.points.length} runs${reused ? ` (${reused} already trained, reused)` : ''}`)
    const { jobs, interrupted } = await runSweepToCompletion(queue, queued, { est, json: false, out: process.stdout, say, again: 'run skipbench demo again' })
    await queue.shutdown('pause')
    if (interrupted) return 130
    const failed = jobs.filter((j) => j.status !== 'completed')
    say(`\ntrained in ${fmtDuration((Date.now() - t0) / 1000)}: ${jobs.length - failed.length} of ${jobs.length} runs completed\n`)

    const comparison = compareExperiment(store, { experiment, estimator: a.estimator, flopsKind: 'inference' })
    say(formatComparison(comparison) + '\n')
    if (a.quick)
      say(
        `the quick demo is a smoke test of the whole pipeline: one seed per point and ${QUICK_STEPS} steps, so its verdict is ` +
          `${comparison.verdict.conclusive ? 'conclusive here, but do not rely on it' : 'inconclusive, as expected'}. ` +
          'Run `skipbench demo` (about 9 minutes) for a frontier with two seeds per point.\n',
      )

    const outDir = resolve(a.out ?? join(dirname(dbPath), 'reports', experiment))
    let r: BuiltReport
    let code = failed.length ? 1 : 0
    try {
      r = await buildReport(store, { experiment, estimator: a.estimator, formats: a.no_pdf ? ['html'] : ['html', 'pdf'], outDir })
    } catch (e) {
      if (!(e instanceof ChromiumMissingError)) throw e
      process.stderr.write(`skipbench: warning: no PDF: ${e.message}\n`)
      r = await buildReport(store, { experiment, estimator: a.estimator, formats: ['html'], outDir })
      code = 1
    }
    say('report:')
    say(formatWritten(r))
    say(`\ndemo finished in ${fmtDuration((Date.now() - t0) / 1000)}; open ${join(r.outDir, 'report.html')} in a browser, or run: skipbench report --experiment ${experiment} --format md,tex,csv,json`)
    return code
  } finally {
    await queue.shutdown('pause').catch(() => {})
    store.close()
  }
}
