/**
 * `skipbench cluster add|list|check|remove|watch` and the `--on CLUSTER` paths of `train`, `queue add` and `sweep`:
 * thin wrappers over core/cluster.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { ClusterError, ClusterManager, slurmInfo, type ClusterJob, type ClusterProfileInput, type SubmitItem } from '../../core/cluster/index.js'
import { openStoreAt } from '../../core/jobs/index.js'
import { resolveStorePaths } from '../../core/paths.js'
import { getPreset, parseRunConfig, presetNames, resolveRunConfigInput } from '../../core/config/index.js'
import { openStore, type Store } from '../../core/store/index.js'
import { readConfigFile } from '../../core/trainer/index.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'

export const CLUSTER_HELP = `usage:
  skipbench cluster add NAME --slurm --workdir DIR [--ssh HOST] [--ssh-config FILE] [--partition P] [--account A]
                        [--time T] [--gpus N] [--cpus N] [--mem M] [--setup CMD] [--skipbench CMD] [--backend B]
                        [--slurm-conf PATH] [--max-resubmits N] [--db PATH]
  skipbench cluster list [--json] [--db PATH]
  skipbench cluster check NAME [--json] [--db PATH]
  skipbench cluster remove NAME [--db PATH]
  skipbench cluster watch [--db PATH]

add     save a Slurm cluster profile (replacing one of the same name)
          --ssh HOST        run every command through the system ssh client (~/.ssh/config, agents, ProxyJump and
                            ControlMaster work); without it commands run on this machine (a login node)
          --workdir DIR     folder on the cluster for datasets (copied once, by content hash), job scripts, output
                            and run folders
          --skipbench CMD   how to start skipbench on a node (default: this installation for a local cluster,
                            "npx --no-install skipbench" in DIR/skipbench over ssh)
          --setup CMD       shell lines run in each job first (e.g. "module load nodejs")
          --partition, --account, --time (e.g. 4:00:00), --gpus, --cpus (also train --threads), --mem (e.g. 8G)
          --backend B       the engine backend of every job (train --backend)
          --slurm-conf PATH SLURM_CONF for the Slurm clients (a local profile takes $SLURM_CONF when it is set)
          --max-resubmits N resubmissions of a timed-out, preempted or killed job from its checkpoint (default 2)
list    the saved profiles
check   one line per check: connectivity, sbatch/squeue/sacct/scancel, the controller, workdir writable, Node and
        skipbench versions on the cluster (exit 1 if any fails)
remove  delete a profile (refused while it has active jobs)
watch   re-attach to every active cluster job (after a restart or a dropped connection): stream metrics into the
        store and collect finished runs, until none is left

Runs go to a cluster with --on NAME: skipbench train ... --on NAME [--wait], skipbench queue add ... --on NAME,
skipbench sweep ... --on NAME [--no-wait] (one job array). skipbench runs cancel ID scancels a cluster run.`

const openDb = (db: unknown): Store => openStoreAt(typeof db === 'string' ? { db: resolve(db) } : {})

/** A ClusterManager on this store, with run folders where the other commands put them. */
export function clusterManager(store: Store, o: { runsDir?: string; dataDir?: string } = {}): ClusterManager {
  return new ClusterManager({ store, runsDir: o.runsDir ?? resolveStorePaths({ db: store.path }).runsDir, ...(o.dataDir ? { dataDir: o.dataDir } : {}) })
}

const asUser = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn()
  } catch (e) {
    if (e instanceof ClusterError || (e as Error).name === 'NotFoundError') throw new UsageError((e as Error).message)
    throw e
  }
}

const AddArgs = z.object({
  slurm: z.literal(true, { error: 'say which scheduler: --slurm (the only one supported)' }),
  workdir: z.string({ error: 'give --workdir DIR (a folder on the cluster)' }),
  ssh: z.string().optional(),
  ssh_config: z.string().optional(),
  partition: z.string().optional(),
  account: z.string().optional(),
  time: z.string().optional(),
  gpus: z.string().regex(/^\d+$/, { error: 'a whole number' }).transform(Number).optional(),
  cpus: positiveInt('--cpus').optional(),
  mem: z.string().optional(),
  setup: z.string().optional(),
  skipbench: z.string().optional(),
  backend: z.string().optional(),
  slurm_conf: z.string().optional(),
  max_resubmits: z.string().regex(/^\d+$/, { error: 'a whole number' }).transform(Number).optional(),
})

async function add(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, {
    flags: ['slurm', 'json'],
    values: ['workdir', 'ssh', 'ssh-config', 'partition', 'account', 'time', 'gpus', 'cpus', 'mem', 'setup', 'skipbench', 'backend', 'slurm-conf', 'max-resubmits', 'db'],
  })
  if (positionals.length !== 1) throw new UsageError('cluster add needs one NAME, e.g. skipbench cluster add local --slurm --workdir ~/skipbench-work')
  const snake: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) if (k !== 'db' && k !== 'json') snake[k.replace(/-/g, '_')] = v
  const a = validate(AddArgs, snake)
  const input: ClusterProfileInput = {
    name: positionals[0]!,
    scheduler: 'slurm',
    workdir: a.ssh ? a.workdir : resolve(a.workdir),
    ...(a.ssh ? { ssh: a.ssh } : {}),
    ...(a.ssh_config ? { sshConfig: resolve(a.ssh_config) } : {}),
    ...(a.partition ? { partition: a.partition } : {}),
    ...(a.account ? { account: a.account } : {}),
    ...(a.time ? { time: a.time } : {}),
    ...(a.gpus !== undefined ? { gpus: a.gpus } : {}),
    ...(a.cpus ? { cpus: a.cpus } : {}),
    ...(a.mem ? { mem: a.mem } : {}),
    ...(a.setup ? { setup: a.setup } : {}),
    ...(a.skipbench ? { skipbench: a.skipbench } : {}),
    ...(a.backend ? { backend: a.backend } : {}),
    ...(a.slurm_conf ? { slurmConf: a.ssh ? a.slurm_conf : resolve(a.slurm_conf) } : {}),
    ...(a.max_resubmits !== undefined ? { maxResubmits: a.max_resubmits } : {}),
  }
  const store = openDb(options.db)
  try {
    const p = await asUser(async () => clusterManager(store).saveProfile(input))
    if (options.json) process.stdout.write(JSON.stringify(p) + '\n')
    else
      process.stdout.write(
        `saved cluster "${p.name}" (${p.ssh ? `ssh ${p.ssh}` : 'this machine'}, workdir ${p.workdir}${p.slurmConf ? `, SLURM_CONF ${p.slurmConf}` : ''}); check it with: skipbench cluster check ${p.name}\n`,
      )
    return 0
  } finally {
    store.close()
  }
}

async function list(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['db'] })
  if (positionals.length) throw new UsageError('cluster list takes no arguments')
  const store = openDb(options.db)
  try {
    const ps = clusterManager(store).profiles()
    if (options.json) process.stdout.write(JSON.stringify(ps, null, 2) + '\n')
    else if (!ps.length) process.stdout.write('(no clusters; add one with: skipbench cluster add NAME --slurm --workdir DIR)\n')
    else
      for (const p of ps)
        process.stdout.write(
          `${p.name}  ${p.ssh ? `ssh ${p.ssh}` : 'local'}  workdir ${p.workdir}` +
            `${p.partition ? `  partition ${p.partition}` : ''}${p.time ? `  time ${p.time}` : ''}${p.gpus ? `  gpus ${p.gpus}` : ''}${p.cpus ? `  cpus ${p.cpus}` : ''}${p.mem ? `  mem ${p.mem}` : ''}\n`,
        )
    return 0
  } finally {
    store.close()
  }
}

async function check(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['db'] })
  if (positionals.length !== 1) throw new UsageError('cluster check needs one NAME')
  const store = openDb(options.db)
  try {
    const lines = await asUser(() => clusterManager(store).check(positionals[0]!))
    if (options.json) process.stdout.write(JSON.stringify(lines) + '\n')
    else for (const l of lines) process.stdout.write(`${l.ok ? 'ok  ' : 'FAIL'}  ${l.check.padEnd(17)} ${l.detail}\n`)
    return lines.every((l) => l.ok) ? 0 : 1
  } finally {
    store.close()
  }
}

async function remove(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: [], values: ['db'] })
  if (positionals.length !== 1) throw new UsageError('cluster remove needs one NAME')
  const store = openDb(options.db)
  try {
    await asUser(async () => clusterManager(store).removeProfile(positionals[0]!))
    process.stdout.write(`removed cluster "${positionals[0]}" (its runs stay in the store)\n`)
    return 0
  } finally {
    store.close()
  }
}

async function watch(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['db'] })
  if (positionals.length) throw new UsageError('cluster watch takes no arguments')
  const store = openDb(options.db)
  try {
    const m = clusterManager(store)
    const runIds = [...new Set(store.clusters.active().map((j) => j.runId))]
    if (!runIds.length) {
      process.stdout.write('no active cluster jobs\n')
      return 0
    }
    return await waitWithProgress(m, runIds, !!options.json)
  } finally {
    store.close()
  }
}

export async function clusterCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'add') return add(rest)
  if (sub === 'list') return list(rest)
  if (sub === 'check') return check(rest)
  if (sub === 'remove') return remove(rest)
  if (sub === 'watch') return watch(rest)
  throw new UsageError(`cluster needs a subcommand: add, list, check, remove or watch\n${CLUSTER_HELP}`)
}

// ---------------------------------------------------------------- --on CLUSTER

const fmtJob = (j: ClusterJob) => {
  const s = slurmInfo(j)
  return `Slurm job ${s.job_id ?? '?'} on ${j.cluster}${s.node ? ` (${s.node})` : ''}`
}

/**
 * Wait for the runs' Slurm jobs to end, printing state changes, validations and (on a terminal) the newest step.
 * Ctrl-C stops waiting; the jobs keep running (`skipbench cluster watch` re-attaches). 0 only if all completed.
 */
export async function waitWithProgress(m: ClusterManager, runIds: number[], json: boolean): Promise<number> {
  const out = process.stdout
  const say = (s: string) => (json ? process.stderr : out).write(s + '\n')
  const names = new Map(runIds.map((id) => [id, m.store.runs.get(id)?.name ?? `run ${id}`]))
  const offs = [
    m.on('job', ({ job, previous }) => {
      if (previous !== job.state) say(`run ${job.runId} ${names.get(job.runId)}: ${fmtJob(job)} ${job.state}${job.reason ? ` — ${job.reason}` : ''}`)
    }),
    m.on('progress', (p) => {
      if (!names.has(p.runId)) return
      if (p.event === 'validation') say(`run ${p.runId} ${names.get(p.runId)}: step ${p.step}/${p.totalSteps} val/loss ${(p.values['val/loss'] ?? NaN).toFixed(4)}`)
      else if (out.isTTY && !json) out.write(`\r  run ${p.runId}: step ${p.step + 1}/${p.totalSteps} loss ${(p.values['train/loss'] ?? NaN).toFixed(4)}\x1b[K\r`)
    }),
    m.on('log', (l) => {
      if (l.runId === null || names.has(l.runId)) say(l.message)
    }),
  ]
  const ac = new AbortController()
  const onSignal = () => {
    say('stopped waiting; the jobs keep running on the cluster (re-attach with: skipbench cluster watch)')
    ac.abort()
  }
  process.once('SIGINT', onSignal)
  try {
    const jobs = await m.waitFor(runIds, { signal: ac.signal, intervalMs: Number(process.env.SKIPBENCH_CLUSTER_POLL_MS) || 1000 })
    if (ac.signal.aborted) return 130
    const runs = runIds.map((id) => m.store.runs.require(id))
    if (json) out.write(JSON.stringify({ runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status, error: r.error, slurm: jobs.find((j) => j.runId === r.id) ? slurmInfo(jobs.find((j) => j.runId === r.id)!) : null })) }) + '\n')
    else for (const r of runs) say(`run ${r.id} ${r.name}: ${r.status}${r.error ? ` — ${r.error}` : ''}`)
    return runs.every((r) => r.status === 'completed') ? 0 : 1
  } finally {
    process.off('SIGINT', onSignal)
    for (const off of offs) off()
  }
}

/**
 * Profiles are per user: a database given with --db that has no profile called `name` takes it from the default
 * database (where `skipbench cluster add` without --db saved it), and says so.
 */
function adoptDefaultProfile(store: Store, name: string): void {
  if (store.clusters.get(name)) return
  const def = resolveStorePaths().db
  if (resolve(def) === resolve(store.path) || !existsSync(def)) return
  let other: Store | null = null
  try {
    other = openStore(def, { readonly: true })
    const c = other.clusters.get(name)
    if (!c) return
    store.clusters.save(name, c.profile)
    process.stderr.write(`using cluster "${name}" from ${def} (saved into ${store.path} too)\n`)
  } catch {
    // an old or unreadable default database: the submission below names the missing profile
  } finally {
    other?.close()
  }
}

/** Submit items to a cluster, print what was submitted, and wait when asked. */
export async function submitToCluster(o: { cluster: string; items: SubmitItem[]; db?: string; runsDir?: string; dataDir?: string; wait: boolean; json: boolean; store?: Store }): Promise<number> {
  const store = o.store ?? openDb(o.db)
  try {
    const m = clusterManager(store, { ...(o.runsDir ? { runsDir: o.runsDir } : {}), ...(o.dataDir ? { dataDir: o.dataDir } : {}) })
    adoptDefaultProfile(store, o.cluster)
    const { runs, jobs } = await asUser(() => m.submit(o.cluster, o.items))
    const say = (s: string) => (o.json ? process.stderr : process.stdout).write(s + '\n')
    for (const [i, r] of runs.entries()) say(`run ${r.id} ${r.name}: ${fmtJob(jobs[i]!)} submitted (run folder on the cluster: ${jobs[i]!.remoteRunDir})`)
    if (!o.wait) {
      if (o.json) process.stdout.write(JSON.stringify({ runs: runs.map((r, i) => ({ id: r.id, name: r.name, status: r.status, slurm: slurmInfo(jobs[i]!) })) }) + '\n')
      else say(`not waiting: follow with skipbench cluster watch${o.db ? ` --db ${o.db}` : ''}, or skipbench runs show ID`)
      return 0
    }
    return await waitWithProgress(m, runs.map((r) => r.id), o.json)
  } finally {
    if (!o.store) store.close()
  }
}

/** `skipbench train CONFIG|--preset NAME [--steps N] [--engine E] [--backend B] --on CLUSTER [--wait] [--db PATH] [--json]` */
export async function trainOnCluster(config: string | undefined, options: Record<string, string | boolean>): Promise<number> {
  for (const k of ['resume', 'out', 'run-id', 'data-dir'])
    if (options[k] !== undefined) throw new UsageError(`--${k} does not go with --on: the cluster job chooses its run folder${k === 'resume' ? ' (a failed cluster run is resubmitted from its checkpoint automatically)' : ''}`)
  const preset = typeof options.preset === 'string' ? options.preset : undefined
  if (!!config === !!preset) throw new UsageError('give exactly one of CONFIG.json or --preset NAME')
  let doc: unknown
  if (preset) {
    const p = getPreset(preset)
    if (!p) throw new UsageError(`unknown preset "${preset}"; available: ${presetNames().join(', ')}`)
    doc = structuredClone(p.config)
  } else doc = readConfigFile(resolve(config!))
  const o = validate(z.object({ steps: positiveInt('--steps').optional(), threads: positiveInt('--threads').optional() }), { steps: options.steps, threads: options.threads })
  const over: Record<string, unknown> = {}
  if (o.steps) over.training = { train_steps: o.steps }
  const engine = { ...(typeof options.engine === 'string' ? { engine: options.engine } : {}), ...(typeof options.backend === 'string' ? { backend: options.backend } : {}), ...(o.threads ? { threads: o.threads } : {}) }
  if (Object.keys(engine).length) over.engine = engine
  const input = Object.keys(over).length ? { ...(doc as object), ...mergeShallow(doc, over) } : doc
  return submitToCluster({
    cluster: String(options.on),
    items: [{ config: parseRunConfig(resolveRunConfigInput(input)) }],
    ...(typeof options.db === 'string' ? { db: options.db } : {}),
    wait: !!options.wait,
    json: !!options.json,
  })
}

function mergeShallow(doc: unknown, over: Record<string, unknown>): Record<string, unknown> {
  const d = (doc ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(over)) out[k] = { ...((d[k] as object | undefined) ?? {}), ...(v as object) }
  return out
}
