/**
 * `skipbench sweep --preset paper-grid --scale tiny [--seeds N] [--experiment NAME] [--dry-run] [--db PATH] [--engine E]`
 *
 * Expand a sweep (a preset, or a grid file), estimate its FLOPs and wall time from a calibration of this machine,
 * queue its runs as one experiment through the job queue, run the queue to completion with progress, and print the
 * comparison. Re-running the same command continues an interrupted sweep (finished runs are not repeated).
 */
import { resolve } from 'node:path'
import { z } from 'zod'
import { ENGINE_NAMES } from '../../core/engine/index.js'
import { FLOPS_ESTIMATORS } from '../../core/flops/index.js'
import { calibrationFileBeside, resolveStorePaths } from '../../core/paths.js'
import { JobQueue } from '../../core/jobs/queue.js'
import { openStore, type Job } from '../../core/store/index.js'
import {
  CalibrationCache,
  estimateSweep,
  expandSweep,
  PAPER_GRID_GROUPS,
  parseAssignment,
  queueSweep,
  SWEEP_PRESETS,
  SWEEP_SCALES,
  SweepError,
  sweepPreset,
  waitForSweep,
  type PaperGridGroup,
  type QueuedSweep,
  type SweepEstimate,
  type SweepSpec,
} from '../../core/sweeps/index.js'
import { compareExperiment } from '../../core/analysis/index.js'
import { fmtDuration } from '../../core/report/format.js'
import { formatComparison, formatSweepPlan } from '../format.js'
import { readConfigFile } from '../../core/trainer/index.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'
import { ProgressBar } from '../progress.js'
import { submitToCluster } from './cluster.js'

/** The database the CLI uses unless told otherwise (as `skipbench runs`/`worker`: core/jobs resolveStorePaths). */
export function defaultDbPath(): string {
  return resolveStorePaths().db
}

export const SWEEP_HELP = `usage: skipbench sweep --preset paper-grid --scale tiny|small|paper [options]
       skipbench sweep --grid SWEEP.json [options]

Expand a grid of runs, estimate its FLOPs (both estimators) and wall time on this machine (by training a few
steps of its smallest and largest configs; cached), queue the runs as one experiment, run them one at a time
with progress, then print the comparison (as skipbench compare). Running the same command again continues an
interrupted sweep: finished runs are kept, paused or interrupted ones resume.

presets: ${SWEEP_PRESETS.map((p) => `${p.name}: ${p.description}`).join('\n         ')}
scales:  tiny (2-core CPU, the whole grid in under an hour), small (a workstation or one GPU),
         paper (the published sizes: dim 768, 12 heads, context 1024, 512×1024 tokens per step, 19,560 steps)

options:
  --preset NAME          a sweep preset (default paper-grid)
  --grid FILE            a sweep spec instead: {"name", "groups": [{"name", "base": RunConfig, "axes": {"model.n_layers":
                         [2, 4], ...}, "set": {...}}], "seeds": N, "set": {...}}
  --scale S              tiny (default), small or paper
  --seeds N|LIST         replicate every point with N seeds (0..N−1) or the seeds listed, e.g. 0,1,2
  --groups LIST          paper-grid groups to include (default dense,nocontrol,gated)
  --depths LIST          depths of the dense and nocontrol groups (default 2,4,6,8,10,12)
  --ends LIST            gate target ends E of the gated group (default 0.1,0.2,0.25,0.3,0.4,...,0.9)
  --gated-depth N        depth of the gated group (default 12)
  --steps N              training steps of every run (changes the LR schedule)
  --set PATH=VALUE       set a config field of every run (repeatable), e.g. --set model.dim=32
  --experiment NAME      the experiment the runs belong to (default: the sweep's name)
  --dry-run              print the expanded grid and the estimate; queue nothing
  --no-wait              queue the runs and return (a later 'skipbench sweep' with the same options runs them)
  --no-calibrate         FLOPs only: no timing runs on this machine
  --recalibrate          time again instead of using cached calibrations
  --skip-invalid         queue the valid points when some are invalid (default: refuse)
  --engine ort|tfjs      engine of every run and of the calibration
  --backend B            tfjs: auto|tensorflow|wasm|cpu; ort: auto|cpu|cuda|webgpu
  --threads N            ort intra-op threads
  --concurrency N        training jobs at a time (default 1; the time estimate assumes 1)
  --estimator E          the final comparison's estimator: paper (default) or corrected
  --flops K              the final comparison's FLOPs: inference (default) or training
  --db PATH              the database (default: $SKIPBENCH_DB, else $SKIPBENCH_HOME/skipbench.db, else
                         ./.skipbench/skipbench.db); the calibration cache is calibration.json beside it
  --runs-dir DIR         run folders (default: $SKIPBENCH_RUNS_DIR, else runs/ beside the database)
  --data-dir DIR         datasets (default: $SKIPBENCH_DATA_DIR or ./.skipbench/data)
  --json                 JSON instead of text (dry run: the grid and estimate; otherwise: queued jobs and the comparison)
  --on CLUSTER           submit the runs to a Slurm cluster (skipbench cluster add) as ONE job array instead of
                         running them here; waits with progress unless --no-wait (exit 0 only if all completed)
Ctrl-C pauses the running job at a checkpoint; run the same command again (or skipbench worker) to continue.`

const list = (what: string, int: boolean) =>
  z
    .string()
    .transform((s, ctx) => {
      const parts = s.split(',').map((p) => p.trim())
      const vals = parts.map(Number)
      if (parts.some((p) => p === '') || vals.some((v) => !Number.isFinite(v) || (int && !Number.isInteger(v)))) {
        ctx.addIssue({ code: 'custom', message: `${what}: expected a comma-separated list of ${int ? 'whole numbers' : 'numbers'}, got "${s}"` })
        return z.NEVER
      }
      return vals
    })

const Args = z
  .object({
    preset: z.string().optional(),
    grid: z.string().optional(),
    scale: z.enum(SWEEP_SCALES, { error: `must be one of ${SWEEP_SCALES.join(', ')}` }).default('tiny'),
    seeds: list('--seeds', true).optional(),
    groups: z.string().optional(),
    depths: list('--depths', true).optional(),
    ends: list('--ends', false).optional(),
    gated_depth: positiveInt('--gated-depth').optional(),
    steps: positiveInt('--steps').optional(),
    experiment: z.string().min(1).optional(),
    dry_run: z.boolean().default(false),
    no_wait: z.boolean().default(false),
    no_calibrate: z.boolean().default(false),
    recalibrate: z.boolean().default(false),
    skip_invalid: z.boolean().default(false),
    engine: z.enum(ENGINE_NAMES, { error: 'must be ort or tfjs' }).optional(),
    backend: z.string().optional(),
    threads: positiveInt('--threads').optional(),
    concurrency: positiveInt('--concurrency').optional(),
    estimator: z.enum(FLOPS_ESTIMATORS, { error: 'must be paper or corrected' }).default('paper'),
    flops: z.enum(['inference', 'training'], { error: 'must be inference or training' }).default('inference'),
    db: z.string().optional(),
    runs_dir: z.string().optional(),
    data_dir: z.string().optional(),
    json: z.boolean().default(false),
    on: z.string().min(1).optional(),
  })
  .refine((a) => !(a.preset && a.grid), { error: 'give --preset NAME or --grid FILE, not both' })

const FLAGS = ['dry-run', 'no-wait', 'no-calibrate', 'recalibrate', 'skip-invalid', 'json']
const VALUES = ['preset', 'grid', 'scale', 'seeds', 'groups', 'depths', 'ends', 'gated-depth', 'steps', 'experiment', 'engine', 'backend', 'threads', 'concurrency', 'estimator', 'flops', 'db', 'runs-dir', 'data-dir', 'on']

/** Pull the repeatable --set PATH=VALUE options out of argv. */
function extractSets(argv: string[]): { rest: string[]; sets: [string, unknown][] } {
  const rest: string[] = []
  const sets: [string, unknown][] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      rest.push(...argv.slice(i))
      break
    }
    if (a === '--set' || a.startsWith('--set=')) {
      const v = a === '--set' ? argv[++i] : a.slice('--set='.length)
      if (v === undefined || v.startsWith('--')) throw new UsageError('--set needs PATH=VALUE, e.g. --set model.dim=32')
      sets.push(parseAssignment(v))
    } else rest.push(a)
  }
  return { rest, sets }
}

/** Map core errors that are the user's to fix onto UsageError (printed without a stack). */
export async function asUserErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    const name = (e as Error)?.name
    if (e instanceof SweepError || name === 'JobError' || name === 'NotFoundError') throw new UsageError((e as Error).message)
    throw e
  }
}

function buildSpec(a: z.output<typeof Args>, sets: [string, unknown][]): SweepSpec {
  const set: Record<string, unknown> = {}
  if (a.steps) set['training.train_steps'] = a.steps
  if (a.engine) set['engine.engine'] = a.engine
  if (a.backend) set['engine.backend'] = a.backend
  if (a.threads) set['engine.threads'] = a.threads
  for (const [p, v] of sets) set[p] = v
  const seeds = a.seeds ? (a.seeds.length === 1 ? a.seeds[0]! : a.seeds) : undefined
  if (a.grid) {
    const doc = readConfigFile(a.grid) as SweepSpec
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.groups)) throw new UsageError(`${a.grid}: a sweep spec needs "groups": [{ "name", "base", "axes" }]`)
    if (a.groups || a.depths || a.ends || a.gated_depth) throw new UsageError('--groups, --depths, --ends and --gated-depth apply to --preset paper-grid, not to --grid')
    return {
      ...doc,
      name: doc.name ?? 'sweep',
      ...(seeds !== undefined ? { seeds } : {}),
      set: { ...(doc.set ?? {}), ...set },
    }
  }
  const groups = a.groups?.split(',').map((g) => g.trim()) as PaperGridGroup[] | undefined
  if (groups) for (const g of groups) if (!PAPER_GRID_GROUPS.includes(g)) throw new UsageError(`--groups: unknown group "${g}"; use any of ${PAPER_GRID_GROUPS.join(', ')}`)
  return sweepPreset(a.preset ?? 'paper-grid', {
    scale: a.scale,
    ...(seeds !== undefined ? { seeds } : {}),
    ...(groups ? { groups } : {}),
    ...(a.depths ? { depths: a.depths } : {}),
    ...(a.ends ? { ends: a.ends } : {}),
    ...(a.gated_depth ? { gatedDepth: a.gated_depth } : {}),
    set,
  })
}

export async function sweepCommand(argv: string[]): Promise<number> {
  return asUserErrors(() => sweep(argv))
}

async function sweep(argv: string[]): Promise<number> {
  const { rest, sets } = extractSets(argv)
  const { positionals, options } = parseArgv(rest, { flags: FLAGS, values: VALUES })
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals.join(' ')}`)
  const snake: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) snake[k.replace(/-/g, '_')] = v
  const a = validate(Args, snake)
  const out = process.stdout
  const err = process.stderr
  const say = (s: string) => (a.json ? err : out).write(s + '\n')

  const spec = buildSpec(a, sets)
  const sweep = expandSweep(spec)
  const experiment = a.experiment ?? sweep.name
  const paths = resolveStorePaths({ ...(a.db ? { db: a.db } : {}), ...(a.runs_dir ? { runsDir: a.runs_dir } : {}) })
  const dbPath = paths.db
  const dataDir = a.data_dir ? resolve(a.data_dir) : undefined
  const engine = { ...(a.engine ? { engine: a.engine } : {}), ...(a.backend ? { backend: a.backend } : {}), ...(a.threads ? { threads: a.threads } : {}) }

  // estimate (calibrating this machine unless told not to; a cluster's speed is not this machine's)
  let est: SweepEstimate | null = null
  if (a.on) a.no_calibrate = true
  if (sweep.points.length) {
    if (!a.no_calibrate && !a.json) say(`calibrating (${a.recalibrate ? 'fresh' : 'cached when possible'}): a few training steps of the smallest and largest config...`)
    est = await estimateSweep(sweep, {
      calibrate: !a.no_calibrate,
      recalibrate: a.recalibrate,
      cache: new CalibrationCache(calibrationFileBeside(dbPath)),
      engine,
      ...(dataDir ? { dataDir } : {}),
      onCalibration: (e) => {
        if (a.json) return
        if (e.skipped) say(`  ${e.name}: not timed (${e.skipped})`)
        else if (e.calibration) say(`  ${e.name}: ${e.cached ? 'cached' : 'measured'} ${e.calibration.microStepSeconds.toFixed(3)} s per micro-batch of ${e.calibration.shape.batch_size} (${(e.calibration.trainFlopsPerSecond / 1e9).toFixed(2)} GFLOP/s)`)
      },
    })
  }

  if (a.dry_run) {
    if (a.json)
      out.write(
        JSON.stringify({
          sweep: sweep.name,
          experiment,
          points: sweep.points.map((p) => ({ index: p.index, name: p.name, group: p.group, assignment: p.assignment, seed: p.seed, warnings: p.warnings, config: p.config })),
          invalid: sweep.invalid,
          warnings: sweep.warnings,
          estimate: est,
        }) + '\n',
      )
    else out.write(formatSweepPlan(sweep, est) + `\n\ndry run: nothing queued (experiment would be "${experiment}", database ${dbPath})\n`)
    return sweep.invalid.length && !a.skip_invalid ? 1 : 0
  }

  if (!a.json) out.write(formatSweepPlan(sweep, est) + '\n\n')
  if (sweep.invalid.length && !a.skip_invalid)
    throw new UsageError(`${sweep.invalid.length} invalid point${sweep.invalid.length === 1 ? '' : 's'} (listed above); fix the grid or pass --skip-invalid to queue the ${sweep.points.length} valid ones`)
  if (!sweep.points.length) throw new UsageError('the sweep has no valid points')

  if (a.on) {
    const store = openStore(dbPath)
    try {
      const experimentId = store.experiments.ensure(experiment).id
      return await submitToCluster({
        store,
        cluster: a.on,
        items: sweep.points.map((p) => ({ config: p.config, name: p.name, experimentId })),
        runsDir: paths.runsDir,
        ...(dataDir ? { dataDir } : {}),
        wait: !a.no_wait,
        json: a.json,
      })
    } finally {
      store.close()
    }
  }

  const store = openStore(dbPath)
  const runsDir = paths.runsDir
  const queue = new JobQueue({ store, runsDir, ...(dataDir ? { dataDir } : {}), ...(a.concurrency ? { concurrency: { train: a.concurrency } } : {}) })
  try {
    // the runner starts first (it marks jobs of a runner that died as interrupted, so queueSweep resumes them)
    if (!a.no_wait) await queue.start()
    const queued = queueSweep(queue, sweep, { experiment })
    const counts = queued.points.reduce<Record<string, number>>((m, p) => ((m[p.action] = (m[p.action] ?? 0) + 1), m), {})
    say(`experiment "${queued.experiment}" (id ${queued.experimentId}) in ${dbPath}: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}`)
    if (a.no_wait) {
      if (a.json) out.write(JSON.stringify({ experiment: queued.experiment, experimentId: queued.experimentId, jobs: queued.points.map((p) => ({ name: p.point.name, runId: p.runId, jobId: p.jobId, action: p.action, status: p.status })) }) + '\n')
      else say(`not waiting (--no-wait): run them with 'skipbench worker --db ${dbPath}' (or this command again), then 'skipbench compare --experiment ${queued.experiment}'`)
      return 0
    }

    const { jobs, interrupted, seconds } = await runSweepToCompletion(queue, queued, { est, json: a.json, out, say, again: 'run the same command again' })
    await queue.shutdown('pause')
    const failed = jobs.filter((j) => j.status !== 'completed')
    if (!a.json) say(`sweep ${interrupted ? 'paused' : 'finished'} in ${fmtDuration(seconds)}: ${jobs.length - failed.length} of ${jobs.length} runs completed`)

    const c = compareExperiment(store, { experiment, estimator: a.estimator, flopsKind: a.flops })
    if (a.json)
      out.write(JSON.stringify({ experiment, jobs: jobs.map((j) => ({ id: j.id, runId: j.runId, status: j.status, error: j.error })), comparison: c }) + '\n')
    else out.write('\n' + formatComparison(c) + '\n')
    return interrupted ? 130 : failed.length ? 1 : 0
  } finally {
    await queue.shutdown('pause').catch(() => {})
    store.close()
  }
}

/**
 * Run a queued sweep until every job of it has stopped: one line per run (started, finished with time and val CE),
 * a progress bar with the sweep's ETA on a terminal, and Ctrl-C pausing the running job at a checkpoint (a second
 * Ctrl-C quits at once). Shared by `skipbench sweep` and `skipbench demo`.
 */
export async function runSweepToCompletion(
  queue: JobQueue,
  queued: QueuedSweep,
  o: { est: SweepEstimate | null; json: boolean; out: NodeJS.WriteStream; say: (s: string) => void; again: string },
): Promise<{ jobs: Job[]; interrupted: boolean; seconds: number }> {
  let interrupted = false
  const estByName = new Map(o.est?.points.map((p) => [p.name, p.seconds?.total ?? null]) ?? [])
  const tty = !o.json && o.out.isTTY === true
  const bar = tty ? new ProgressBar(o.out) : null
  const log = (s: string) => (bar ? bar.log(s) : o.say(s))
  const startedAt = new Map<number, number>()
  const t0 = Date.now()
  let actualDone = 0
  let estimatedDone = 0
  const finished = new Set<string>(queued.points.filter((p) => p.action === 'exists' && p.status === 'completed').map((p) => p.point.name))
  const eta = () => {
    let remaining = 0
    for (const p of queued.points) if (!finished.has(p.point.name)) remaining += estByName.get(p.point.name) ?? 0
    return remaining * (estimatedDone > 0 ? actualDone / estimatedDone : 1)
  }
  const announce = (jobId: number, name: string, done: number, total: number) => {
    if (startedAt.has(jobId)) return
    const j = queue.store.jobs.get(jobId)
    startedAt.set(jobId, j?.startedAt ? Date.parse(j.startedAt) : Date.now())
    log(`[${done + 1}/${total}] ${name}: started`)
  }
  const ac = new AbortController()
  let interrupts = 0
  const onSignal = () => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    interrupted = true
    log(`stopping: the running job checkpoints and pauses (Ctrl-C again to quit at once); ${o.again} to continue`)
    void queue.shutdown('pause').then(() => ac.abort())
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  for (const p of queued.points) if (queue.running.includes(p.jobId)) announce(p.jobId, p.point.name, finished.size, queued.points.length)
  const jobs = await waitForSweep(
    queue,
    queued,
    (p) => {
      if (o.json || !p.point) return
      const name = p.point.point.name
      if (p.job) {
        if (p.job.status === 'running') announce(p.job.id, name, p.finished, p.total)
        else if (['completed', 'failed', 'cancelled', 'paused', 'interrupted'].includes(p.job.status)) {
          const sec = startedAt.has(p.job.id) ? (Date.now() - startedAt.get(p.job.id)!) / 1000 : null
          if (p.job.status === 'completed' && sec !== null) {
            actualDone += sec
            estimatedDone += estByName.get(name) ?? sec
          }
          finished.add(name)
          const loss = p.job.status === 'completed' ? queue.store.metrics.summaries(p.point.runId).find((s) => s.key === 'val/loss')?.lastValue : null
          log(`[${p.finished}/${p.total}] ${name}: ${p.job.status}${sec !== null ? ` in ${fmtDuration(sec)}` : ''}${loss != null ? `, val CE ${loss.toFixed(4)}` : ''}${p.job.error ? ` (${p.job.error})` : ''}`)
        }
      } else if (p.progress && p.progress.event === 'step') {
        const e = p.progress
        announce(e.jobId, name, p.finished, p.total)
        const runEst = estByName.get(name) ?? 0
        const into = (Date.now() - (startedAt.get(e.jobId) ?? Date.now())) / 1000
        const line = `${p.finished}/${p.total} runs · ${name} step ${e.step + 1}/${e.totalSteps} loss ${(e.values['train/loss'] ?? NaN).toFixed(4)} · sweep ETA ${fmtDuration(Math.max(0, eta() - Math.min(into, runEst)))}`
        if (bar) bar.update(line)
        else if ((e.step + 1) % Math.max(1, Math.round(e.totalSteps / 4)) === 0) o.say(line)
      }
    },
    ac.signal,
  )
  bar?.done()
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  return { jobs, interrupted, seconds: (Date.now() - t0) / 1000 }
}
