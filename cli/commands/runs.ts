/** `skipbench runs list|show|ingest`, `skipbench queue add`, `skipbench worker`: thin wrappers over core/jobs. */
import { resolve } from 'node:path'
import { z } from 'zod'
import { cancelRun, compareRunMetrics, formatRerunComparison, formatRunDetails, formatRunList, listRuns, openStoreAt, queueAdd, queueRerun, resumeRun, runWorker, showRun } from '../../core/jobs/index.js'
import { resolveStorePaths } from '../../core/paths.js'
import type { Store } from '../../core/store/index.js'
import { RUN_STATUSES, type RunStatus } from '../../core/store/types.js'
import { readConfigFile } from '../../core/trainer/index.js'
import { parseRunConfig, resolveRunConfigInput } from '../../core/config/index.js'
import { didYouMean } from '../../core/util/suggest.js'
import { clusterManager, submitToCluster } from './cluster.js'
import { exportRunMetrics } from '../../core/export/metrics.js'
import { METRICS_EXPORT_FORMATS } from '../../core/contract/runs.js'
import { ingestRunFolder } from '../../core/store/index.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'

const DB_HELP = `  --db PATH    the database (default: $SKIPBENCH_DB, else $SKIPBENCH_HOME/skipbench.db, else ./.skipbench/skipbench.db);
               run folders live in <db folder>/runs unless $SKIPBENCH_RUNS_DIR is set`

export const RUNS_HELP = `usage:
  skipbench runs list [--experiment NAME] [--status S[,S]] [--kind dense|gated] [--search TEXT]
                      [--where FILTER] [--group-by CONFIG.PATH]
                      [--sort id|val-loss|train-loss] [--limit N] [--db PATH] [--json]
  skipbench runs show ID [--db PATH] [--json]
  skipbench runs ingest RUN_DIR [--experiment NAME] [--db PATH] [--json]
  skipbench runs resume ID [--queue-only] [--db PATH]
  skipbench runs cancel ID [--db PATH]
  skipbench runs rerun ID [--queue-only] [--db PATH] [--json]
  skipbench runs export ID[,ID...] --format tensorboard|csv|parquet [--out DIR] [--db PATH] [--json]

list    runs with their status and last/min training and validation loss. --where takes the filter language:
          model.n_layers >= 8 and val.loss < 2.1 and tag:baseline
          (status = failed or status = cancelled) and created >= 2026-12-01
          note ~ "lr" and not kind = dense and min(val.loss) < 3
        fields: config paths (model.*, training.*, optimizer.*, controller.*, data.*, config.*), metrics (train.*,
        val.*, sys.*: last value; min(...), max(...)), tag:NAME, status, kind, name, notes, seed, engine, dataset,
        experiment, steps, created, started, ended; operators = != < <= > >= ~ (contains) !~; and, or, not, ( ).
        --group-by sorts the rows by a config field's value and shows it in a GROUP column
show    one run: config, status, metrics summary, checkpoints, evaluations; a cluster run also its Slurm job id,
        node, state, elapsed time and the tail of the job's output (refreshed from the cluster first)
ingest  add a run folder written elsewhere (the CLI, another machine, a Slurm job); idempotent
resume  continue a paused, interrupted, failed or cancelled run from its newest valid checkpoint, here and now
        (like \`skipbench worker\`, which also runs anything else queued); --queue-only queues it for a running
        worker, \`serve\` or the app instead
cancel  cancel a run's job: a queued or paused one at once; a running one checkpoints and stops, whichever process
        (worker, serve, the app) runs it
export  write runs' stored metrics: TensorBoard event files (one folder per run; TensorBoard, Aim and W&B sync
        read them), or one long-format metrics.csv or metrics.parquet (run_id,run,key,step,value); default
        --out ./export-<time>
rerun   re-run a stored run exactly (its full resolved config, seed and data), wait for it (it runs with anything
        else queued) and compare every metric bit for bit with the original; exits 1 when they differ.
        --queue-only queues it and returns (compare later with \`runs show\`)
${DB_HELP}`

export const QUEUE_HELP = `usage: skipbench queue add CONFIG.json [--experiment NAME] [--name NAME] [--tag T]... [--priority N] [--on CLUSTER] [--db PATH] [--json]

Validate a run config (a RunConfig JSON; {"extends": "PRESET", ...} works) and queue it. Nothing runs until a runner
picks it up: \`skipbench worker\`, \`skipbench serve\` or the app. With --on CLUSTER it is submitted to that Slurm
cluster at once instead (follow it with \`skipbench cluster watch\` or the app).
${DB_HELP}`

export const WORKER_HELP = `usage: skipbench worker [--concurrency N] [--keep-running] [--db PATH]

Drain the job queue headless: recover jobs left by a dead runner, run queued jobs (each in its own process) and
exit when the queue is empty (or keep waiting with --keep-running). Ctrl-C checkpoints running jobs and pauses them.
${DB_HELP}`

const openDb = (db: unknown) => openStoreAt(typeof db === 'string' ? { db: resolve(db) } : {})
/** for commands that only read: a read-only database folder still works (a snapshot; core/jobs openStoreAt) */
const openDbToRead = (db: unknown) =>
  openStoreAt({ ...(typeof db === 'string' ? { db: resolve(db) } : {}), readOnlyFallback: true, onNote: (m) => process.stderr.write(m + '\n') })

async function list(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['experiment', 'status', 'kind', 'search', 'sort', 'limit', 'db', 'where', 'group-by'] })
  if (positionals.length) throw new UsageError(`runs list takes no arguments, got ${positionals.join(' ')}`)
  const a = validate(
    z.object({
      experiment: z.string().optional(),
      status: z
        .string()
        .optional()
        .superRefine((v, ctx) => {
          for (const st of (v ?? '').split(',').map((x) => x.trim()))
            if (!(RUN_STATUSES as readonly string[]).includes(st))
              ctx.addIssue({ code: 'custom', message: `unknown status ${JSON.stringify(st)}${didYouMean(st, RUN_STATUSES)}; use one or more of ${RUN_STATUSES.join(', ')}, comma-separated` })
        }),
      kind: z.enum(['dense', 'gated']).optional(),
      search: z.string().optional(),
      where: z.string().optional(),
      'group-by': z.string().optional(),
      sort: z.enum(['id', 'val-loss', 'train-loss']).default('id'),
      limit: positiveInt('--limit').optional(),
    }),
    { ...options, json: undefined, db: undefined },
  )
  const store = openDbToRead(options.db)
  try {
    let experimentId: number | undefined
    if (a.experiment) {
      const e = store.experiments.list().find((x) => x.name === a.experiment)
      if (!e) throw new UsageError(`no experiment named ${JSON.stringify(a.experiment)}`)
      experimentId = e.id
    }
    const sort =
      a.sort === 'id' ? ({ by: 'id', dir: 'desc' } as const) : ({ metric: a.sort === 'val-loss' ? 'val/loss' : 'train/loss', agg: 'min', dir: 'asc' } as const)
    const r = listRuns(store, {
      ...(experimentId !== undefined ? { experimentId } : {}),
      ...(a.status ? { status: a.status.split(',').map((x) => x.trim()) as RunStatus[] } : {}),
      ...(a.kind ? { kind: a.kind } : {}),
      ...(a.search ? { search: a.search } : {}),
      ...(a.where ? { where: a.where } : {}),
      ...(a['group-by'] ? { groupBy: a['group-by'] } : {}),
      ...(a.limit ? { limit: a.limit } : {}),
      sort,
    })
    if (a['group-by']) r.rows.sort((x, y) => String(x.group ?? '\uffff').localeCompare(String(y.group ?? '\uffff'), undefined, { numeric: true }))
    process.stdout.write((options.json ? JSON.stringify(r, null, 2) : formatRunList(r)) + '\n')
    return 0
  } finally {
    store.close()
  }
}

async function show(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['db'] })
  if (positionals.length !== 1) throw new UsageError('runs show needs one run id')
  const store = openDbToRead(options.db)
  try {
    const id = /^\d+$/.test(positionals[0]!) ? Number(positionals[0]) : positionals[0]!
    const run = showRun(store, id).run
    // a cluster run: bring its Slurm state, metrics and output tail up to date first
    if (store.clusters.active().some((j) => j.runId === run.id)) await clusterManager(store).poll()
    const d = showRun(store, id)
    process.stdout.write((options.json ? JSON.stringify(d, null, 2) : formatRunDetails(d)) + '\n')
    return 0
  } finally {
    store.close()
  }
}

async function ingest(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['experiment', 'db'] })
  if (positionals.length !== 1) throw new UsageError('runs ingest needs one run folder')
  const store = openDb(options.db)
  try {
    const experimentId = typeof options.experiment === 'string' ? store.experiments.ensure(options.experiment).id : undefined
    const r = ingestRunFolder(store, resolve(positionals[0]!), { ...(experimentId !== undefined ? { experimentId } : {}), updateStatus: true })
    process.stdout.write((options.json ? JSON.stringify(r) : `ingested ${resolve(positionals[0]!)}: ${JSON.stringify(r)}`) + '\n')
    return 0
  } finally {
    store.close()
  }
}

async function exportRuns(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['format', 'out', 'db'] })
  if (positionals.length !== 1 || !/^\d+(,\d+)*$/.test(positionals[0]!)) throw new UsageError('runs export needs run ids (e.g. 3 or 3,4,7; see skipbench runs list)')
  const format = validate(z.enum(METRICS_EXPORT_FORMATS, { error: `--format must be one of ${METRICS_EXPORT_FORMATS.join(', ')}` }), options.format)
  const out = resolve(typeof options.out === 'string' ? options.out : `export-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  const store = openDb(options.db)
  try {
    const r = exportRunMetrics(store, positionals[0]!.split(',').map(Number), format, out)
    process.stdout.write((options.json ? JSON.stringify(r) : `${r.values} values → ${r.files.join(', ')}`) + '\n')
    return 0
  } finally {
    store.close()
  }
}

async function rerun(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json', 'queue-only'], values: ['db'] })
  if (positionals.length !== 1 || !/^\d+$/.test(positionals[0]!)) throw new UsageError('runs rerun needs one run id (a number; see skipbench runs list)')
  const store = openDb(options.db)
  try {
    const id = Number(positionals[0])
    const { job, run } = queueRerun(store, id, resolveStorePaths({ db: store.path }).runsDir)
    if (options['queue-only']) {
      process.stdout.write((options.json ? JSON.stringify({ run: run.id, job: job.id, rerunOf: id }) : `queued run ${run.id} (job ${job.id}) re-running run ${id}`) + '\n')
      return 0
    }
    if (!options.json) process.stderr.write(`re-running run ${id} as run ${run.id} (job ${job.id})…\n`)
    const s = await runWorker({ store, concurrency: { train: 1, eval: 1 }, exitWhenIdle: true, ...(options.json ? {} : { onLine: (l: string) => process.stderr.write(l + '\n') }) })
    const mine = s.jobs.find((j) => j.id === job.id)
    const after = store.runs.require(run.id)
    if (after.status !== 'completed') {
      process.stderr.write(`skipbench: error: the re-run (run ${run.id}) ended ${after.status}${mine?.error ? `: ${mine.error}` : ''}\n`)
      return 1
    }
    const c = compareRunMetrics(store, id, run.id)
    process.stdout.write((options.json ? JSON.stringify(c, null, 2) : formatRerunComparison(c)) + '\n')
    return c.identical ? 0 : 1
  } finally {
    store.close()
  }
}

export async function runsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'list') return list(rest)
  if (sub === 'show') return show(rest)
  if (sub === 'ingest') return ingest(rest)
  if (sub === 'resume') return resume(rest)
  if (sub === 'cancel') return cancel(rest)
  if (sub === 'rerun') return rerun(rest)
  if (sub === 'export') return exportRuns(rest)
  throw new UsageError(`runs needs a subcommand: list, show, ingest, resume, cancel, rerun or export\n${RUNS_HELP}`)
}

export async function queueCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub !== 'add') throw new UsageError(`queue needs a subcommand: add\n${QUEUE_HELP}`)
  const tags: string[] = []
  const filtered: string[] = []
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--tag' || rest[i]!.startsWith('--tag=')) tags.push(rest[i] === '--tag' ? (rest[++i] ?? '') : rest[i]!.slice('--tag='.length))
    else filtered.push(rest[i]!)
  }
  for (const t of tags) {
    if (!t.trim() || t.startsWith('--')) throw new UsageError(`--tag: a tag cannot be empty (got ${JSON.stringify(t)}); give --tag NAME, once per tag`)
    if (t.trim().length > 40) throw new UsageError(`--tag: tags are at most 40 characters (got ${t.trim().length})`)
  }
  const { positionals, options } = parseArgv(filtered, { flags: ['json'], values: ['experiment', 'name', 'priority', 'db', 'on'] })
  if (positionals.length !== 1) throw new UsageError('queue add needs one CONFIG.json')
  const priority = options.priority === undefined ? undefined : validate(z.string().regex(/^-?\d+$/).transform(Number), options.priority)
  if (typeof options.on === 'string') {
    if (priority !== undefined) throw new UsageError('--priority does not go with --on (the cluster schedules the job)')
    const store = openDb(options.db)
    try {
      const experimentId = typeof options.experiment === 'string' ? store.experiments.ensure(options.experiment).id : null
      return await submitToCluster({
        store,
        cluster: options.on,
        items: [{ config: parseRunConfig(resolveRunConfigInput(readConfigFile(resolve(positionals[0]!)))), ...(typeof options.name === 'string' ? { name: options.name } : {}), experimentId, ...(tags.length ? { tags } : {}) }],
        wait: false,
        json: !!options.json,
      })
    } finally {
      store.close()
    }
  }
  const store = openDb(options.db)
  try {
    const { job, run } = queueAdd(store, {
      config: resolve(positionals[0]!),
      ...(typeof options.experiment === 'string' ? { experiment: options.experiment } : {}),
      ...(typeof options.name === 'string' ? { name: options.name } : {}),
      ...(tags.length ? { tags: tags.map((t) => t.trim()) } : {}),
      ...(priority !== undefined ? { priority } : {}),
    })
    process.stdout.write(
      (options.json ? JSON.stringify({ job: job.id, run: run.id, run_dir: run.runDir }) : `queued job ${job.id} (run ${run.id}); start it with: skipbench worker${options.db ? ` --db ${options.db}` : ''}`) + '\n',
    )
    return 0
  } finally {
    store.close()
  }
}

export async function workerCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['keep-running'], values: ['concurrency', 'db'] })
  if (positionals.length) throw new UsageError(`worker takes no arguments, got ${positionals.join(' ')}`)
  const concurrency = options.concurrency === undefined ? 1 : validate(positiveInt('--concurrency'), options.concurrency)
  const store = openDb(options.db)
  try {
    return await drive(store, { concurrency, keepRunning: !!options['keep-running'] })
  } finally {
    store.close()
  }
}

/** Run the queue in this process until it is empty (or, keepRunning, until Ctrl-C); the worker's summary line. */
async function drive(store: Store, o: { concurrency: number; keepRunning: boolean }): Promise<number> {
  const ac = new AbortController()
  const stop = () => {
    process.stderr.write('\nstopping: checkpointing running jobs…\n')
    ac.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    process.stderr.write(`worker on ${store.path} (runs in ${resolveStorePaths({ db: store.path }).runsDir})\n`)
    const s = await runWorker({
      store,
      concurrency: { train: o.concurrency, eval: 1 },
      signal: ac.signal,
      exitWhenIdle: !o.keepRunning,
      onLine: (l) => process.stdout.write(l + '\n'),
    })
    const failed = s.jobs.filter((j) => j.status === 'failed')
    process.stdout.write(`${s.jobs.length} job(s) handled, ${failed.length} failed, ${s.recovered} recovered\n`)
    return failed.length ? 1 : 0
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

const runRef = (s: string) => (/^\d+$/.test(s) ? Number(s) : s)

async function resume(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['queue-only'], values: ['db'] })
  if (positionals.length !== 1) throw new UsageError('runs resume needs one run id')
  const store = openDb(options.db)
  try {
    const job = resumeRun(store, runRef(positionals[0]!))
    process.stdout.write(`resuming run ${job.runId} (job ${job.id}) from ${job.resumeFrom}\n`)
    if (options['queue-only']) {
      process.stdout.write(`queued; a running worker, \`skipbench serve\` or the app continues it (or: skipbench worker${options.db ? ` --db ${options.db}` : ''})\n`)
      return 0
    }
    const code = await drive(store, { concurrency: 1, keepRunning: false })
    const now = store.jobs.require(job.id)
    process.stdout.write(`run ${job.runId}: ${now.status}${now.error ? ` — ${now.error}` : ''}\n`)
    return now.status === 'completed' || now.status === 'running' ? code : 1
  } finally {
    store.close()
  }
}

async function cancel(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: [], values: ['db'] })
  if (positionals.length !== 1) throw new UsageError('runs cancel needs one run id')
  const store = openDb(options.db)
  try {
    const r = await cancelRun(store, runRef(positionals[0]!))
    if (r.place === 'cluster') {
      const j = r.clusterJob
      process.stdout.write(`run ${j.runId}: scancel sent to Slurm job ${j.jobId ?? (j.arrayIndex !== null ? `${j.arrayJobId}_${j.arrayIndex}` : j.arrayJobId)} on cluster ${j.cluster} (now ${j.state})\n`)
      return 0
    }
    const job = r.job
    process.stdout.write(
      job.status === 'cancelled'
        ? `run ${job.runId} (job ${job.id}) cancelled${job.resumeFrom ? `; its last checkpoint ${job.resumeFrom} is kept (runs resume continues it)` : ''}\n`
        : `run ${job.runId} (job ${job.id}): cancel requested; the runner that runs it (${job.host ?? 'unknown'}) checkpoints and stops it within seconds\n`,
    )
    return 0
  } finally {
    store.close()
  }
}
