/**
 * Runs handed to a Slurm cluster: submit (one job, or one job array for a sweep), watch (squeue, then sacct, and
 * the run's metrics.jsonl tailed into the store), collect (the run folder copied back and ingested), control
 * (scancel; a timed-out, preempted or killed job resubmitted from its last checkpoint).
 *
 * Everything the manager knows lives in the store (`clusters`, `cluster_jobs`, the run rows and their metrics), so
 * a restarted skipbench re-attaches: `poll()` continues each active job from its recorded state and metrics offset.
 * Submission is idempotent: the job row (with its key) is committed before `sbatch`, the key is the job's name, and
 * before submitting, a job of that name is looked up (squeue, then sacct) and adopted if it exists.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { readTrainerState } from '../checkpoint/index.js'
import { defaultDataDir, runFolderName } from '../paths.js'
import { TypedEmitter } from '../util/emitter.js'
import { ACTIVE_CLUSTER_JOB_STATES, type ClusterJob, type ClusterJobState } from '../store/clusters.js'
import { ingestRunFolder } from '../store/ingest.js'
import { RUN_JSON, runKind } from '../store/run-folder.js'
import type { Store } from '../store/store.js'
import { nowIso, type JsonObject, type Run, type RunStatus } from '../store/types.js'
import { runConfigToJson, upgradeStoredConfig, type ResolvedRunConfig, type RunConfig } from '../config/index.js'
import type { ClusterCheckLine as CheckLine } from '../contract/cluster.js'
import { Accounting } from './accounting.js'
import { checkCluster } from './check.js'
import { skipbenchLauncher } from './launcher.js'
import { ClusterError, parseClusterProfile, type ClusterProfile, type ClusterProfileInput } from './profile.js'
import { ClusterShell, shq } from './shell.js'
import { buildJobScript, describeEnd, isResubmittable, jobName, newKey, outcomeOf, outputPath, parseSbatch, parseSqueue, SQUEUE_FORMAT, type JobTask, type QueueEntry } from './slurm.js'
import { stageData } from './stage-data.js'
import { outputTail, tailMetrics, type ClusterProgress } from './tail.js'

export interface ClusterEvents {
  /** metric lines committed from a running job's metrics.jsonl */
  progress: ClusterProgress
  /** a Slurm job changed state (or was submitted) */
  job: { job: ClusterJob; previous: ClusterJobState | null }
  /** a run changed status because of its Slurm job */
  run: { runId: number; status: RunStatus; error: string | null }
  log: { runId: number | null; level: 'info' | 'warn' | 'error'; message: string }
}

export interface SubmitItem {
  /** the run config, parsed once by the caller (the service, or the CLI at its entry point); not re-parsed here */
  config: ResolvedRunConfig
  name?: string
  experimentId?: number | null
  tags?: string[]
  notes?: string
}

export type { ClusterCheckLine as CheckLine } from '../contract/cluster.js'

export interface ClusterManagerOptions {
  store: Store
  /** local mirrors of the run folders: <runsDir>/<name>-<uid8> */
  runsDir: string
  /** where named datasets are found on this machine (default: $SKIPBENCH_DATA_DIR or ./.skipbench/data) */
  dataDir?: string
  /** how long a job may be missing from both squeue and sacct before it is marked failed; default 120 s */
  missingGraceMs?: number
}

const TERMINAL: readonly ClusterJobState[] = ['completed', 'failed', 'cancelled']
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class ClusterManager extends TypedEmitter<ClusterEvents> {
  readonly store: Store
  readonly runsDir: string
  private readonly dataDir: string
  private readonly missingGraceMs: number
  private readonly missingSince = new Map<number, number>()
  private readonly absWorkdir = new Map<string, string>()
  private readonly accounting = new Accounting()
  private polling: Promise<void> | null = null

  constructor(o: ClusterManagerOptions) {
    super()
    this.store = o.store
    this.runsDir = resolve(o.runsDir)
    this.dataDir = o.dataDir ? resolve(o.dataDir) : defaultDataDir()
    this.missingGraceMs = o.missingGraceMs ?? 120_000
  }

  // ------------------------------------------------------------------ profiles

  /** Validate and save a profile. A local profile records $SLURM_CONF of this process when it has none. */
  saveProfile(input: ClusterProfileInput): ClusterProfile {
    const raw = { ...input } as ClusterProfileInput
    if (!raw.ssh && !raw.slurmConf && process.env.SLURM_CONF) raw.slurmConf = resolve(process.env.SLURM_CONF)
    const p = parseClusterProfile(raw)
    this.store.clusters.save(p.name, p as unknown as JsonObject)
    this.absWorkdir.delete(p.name)
    return p
  }

  profile(name: string): ClusterProfile {
    return parseClusterProfile(this.store.clusters.require(name).profile)
  }

  profiles(): ClusterProfile[] {
    return this.store.clusters.list().map((c) => parseClusterProfile(c.profile))
  }

  removeProfile(name: string): boolean {
    this.store.clusters.require(name)
    const active = this.store.clusters.active(name)
    if (active.length) throw new ClusterError(`cluster "${name}" has ${active.length} active job(s) (runs ${active.map((j) => j.runId).join(', ')}); cancel them or wait for them to end first`)
    return this.store.clusters.remove(name)
  }

  private shell(p: ClusterProfile): ClusterShell {
    return new ClusterShell(p)
  }

  /** The workdir as an absolute path on the cluster (created). */
  private async workdir(p: ClusterProfile, sh: ClusterShell): Promise<string> {
    const known = this.absWorkdir.get(p.name)
    if (known) return known
    const out = await sh.check('creating the workdir', `mkdir -p ${shq(p.workdir)}/jobs ${shq(p.workdir)}/runs ${shq(p.workdir)}/data && cd ${shq(p.workdir)} && pwd`, { timeoutMs: 30_000, retries: 2 })
    const abs = out.trim().split('\n').pop()!
    this.absWorkdir.set(p.name, abs)
    return abs
  }

  /** Connectivity, the Slurm clients, the workdir, and the Node and skipbench versions on the cluster. */
  check(name: string): Promise<CheckLine[]> {
    return checkCluster(this.profile(name))
  }

  // ------------------------------------------------------------------ submit

  /**
   * Create the runs (status queued) and submit them as one Slurm job, or one job array when there are several.
   * Returns once sbatch has answered.
   */
  async submit(cluster: string, items: SubmitItem[]): Promise<{ runs: Run[]; jobs: ClusterJob[] }> {
    if (!items.length) throw new ClusterError('nothing to submit')
    const p = this.profile(cluster)
    const sh = this.shell(p)
    const configs: RunConfig[] = items.map((it) => it.config)
    const W = await this.workdir(p, sh)
    const key = newKey()
    const created = this.store.transaction(() =>
      items.map((it, i) => {
        const config = runConfigToJson(configs[i]!) as JsonObject
        const uid = randomUUID()
        const name = it.name || configs[i]!.name || 'run'
        const dir = runFolderName(name, uid)
        const run = this.store.runs.create({
          uid,
          name,
          kind: runKind(config),
          status: 'queued',
          config,
          seed: configs[i]!.training.seed,
          dataset: configs[i]!.data.dataset,
          runDir: join(this.runsDir, dir),
          experimentId: it.experimentId ?? null,
          tags: it.tags ?? [],
          notes: it.notes ?? '',
        })
        let job = this.store.clusters.addJob({ runId: run.id, cluster, submitKey: items.length > 1 ? `${key}_${i}` : key, attempt: 1, remoteRunDir: `${W}/runs/${dir}` })
        if (items.length > 1) job = this.store.clusters.updateJob(job.id, { arrayIndex: i })
        this.store.logs.add({ runId: run.id, level: 'info', message: `submitting to cluster ${cluster} as Slurm job skipbench-${key}${items.length > 1 ? ` (array task ${i})` : ''}` })
        return { run, job }
      }),
    )
    for (const c of created) this.emit('job', { job: c.job, previous: null })
    let jobs: ClusterJob[]
    try {
      jobs = await this.launch(p, sh, key, created.map((c, i) => ({ job: c.job, run: c.run, config: configs[i]!, resumeFrom: null })))
    } catch (e) {
      const msg = (e as Error).message
      // a dropped connection leaves the rows 'submitting': the next poll (cluster watch, the app) submits them,
      // adopting a job of the same name if sbatch did get through
      if (!/ssh could not connect|no answer within/.test(msg))
        for (const c of created) {
          const j = this.store.clusters.job(c.job.id)
          if (j?.state === 'submitting') this.finishJob(j, 'failed', `not submitted: ${msg}`, { slurmState: 'NOT_SUBMITTED' }, 'failed')
        }
      throw e
    }
    return { runs: created.map((c) => this.store.runs.require(c.run.id)), jobs }
  }

  /** Stage data, upload the configs and the job script, and sbatch it (adopting a job of the same name if one exists). */
  private async launch(p: ClusterProfile, sh: ClusterShell, key: string, entries: { job: ClusterJob; run: Run; config: RunConfig; resumeFrom: string | null }[]): Promise<ClusterJob[]> {
    const W = await this.workdir(p, sh)
    const jobDir = `${W}/jobs/${key}`
    const local = mkdtempSync(join(tmpdir(), 'skipbench-job-'))
    try {
      const tasks: JobTask[] = []
      for (const [i, e] of entries.entries()) {
        const dataDir = await stageData(this.dataDir, p, sh, W, e.config, (message) => this.emit('log', { runId: null, level: 'info', message }))
        if (!e.resumeFrom) writeFileSync(join(local, `task-${i}.json`), JSON.stringify(e.run.config, null, 2))
        tasks.push({ configPath: e.resumeFrom ? null : `${jobDir}/task-${i}.json`, runDir: e.job.remoteRunDir, resumeFrom: e.resumeFrom, runUid: e.run.uid, dataDir })
      }
      writeFileSync(join(local, 'job.sh'), buildJobScript({ key, profile: p, skipbench: skipbenchLauncher(p, W), tasks, jobDir }), { mode: 0o755 })
      await sh.upload(local, jobDir)
    } finally {
      rmSync(local, { recursive: true, force: true })
    }
    let jobId: string | null = null
    for (let attempt = 0; attempt < 3 && !jobId; attempt++) {
      const existing = await this.accounting.lookupByName(p, sh, [jobName(key)])
      if (existing.length) {
        jobId = existing[0]!.arrayJobId ?? existing[0]!.jobId
        break
      }
      const r = await sh.run(`cd ${shq(jobDir)} && sbatch --parsable job.sh`, { timeoutMs: 60_000 })
      if (r.code === 0 && !r.timedOut) jobId = parseSbatch(r.stdout)
      else if (!(r.connectionError || r.timedOut) || attempt === 2) {
        const reason = `sbatch failed on ${sh.where}: ${r.timedOut ? 'no answer within 60 s (check SLURM_CONF)' : r.stderr.trim().split('\n').slice(-2).join(' / ') || `exit ${r.code}`}`
        for (const e of entries) this.finishJob(e.job, 'failed', reason, { slurmState: 'NOT_SUBMITTED' }, 'failed')
        throw new ClusterError(reason)
      }
    }
    const array = entries.length > 1
    const out: ClusterJob[] = []
    this.store.transaction(() => {
      for (const [i, e] of entries.entries()) {
        const job = this.store.clusters.updateJob(e.job.id, {
          state: 'pending',
          arrayJobId: jobId,
          ...(array ? { arrayIndex: i } : { jobId }),
          outputPath: outputPath(jobDir, jobId!, array ? i : null),
        })
        this.store.logs.add({ runId: e.run.id, level: 'info', message: `Slurm job ${array ? `${jobId}_${i}` : jobId} submitted on cluster ${p.name}` })
        out.push(job)
      }
    })
    for (const j of out) this.emit('job', { job: j, previous: 'submitting' })
    return out
  }

  // ------------------------------------------------------------------ watch

  /** Bring every active Slurm job up to date (state, metrics, output; collect finished ones). One poll at a time. */
  poll(): Promise<void> {
    if (!this.polling)
      this.polling = this.pollAll().finally(() => {
        this.polling = null
      })
    return this.polling
  }

  private async pollAll(): Promise<void> {
    const byCluster = new Map<string, ClusterJob[]>()
    for (const j of this.store.clusters.active()) byCluster.set(j.cluster, [...(byCluster.get(j.cluster) ?? []), j])
    for (const [name, jobs] of byCluster) {
      try {
        await this.pollCluster(name, jobs)
      } catch (e) {
        // a dropped connection: keep every state as it is and try again on the next poll
        this.emit('log', { runId: null, level: 'warn', message: `cluster ${name}: ${(e as Error).message}; retrying` })
      }
    }
  }

  private async pollCluster(name: string, jobs: ClusterJob[]): Promise<void> {
    const p = this.profile(name)
    const sh = this.shell(p)
    // rows committed before a crash kept sbatch from answering: resubmit (adopting a job of that name if it exists)
    const submitting = jobs.filter((j) => j.state === 'submitting' && Date.now() - Date.parse(j.updatedAt) > 5_000)
    const byKey = new Map<string, ClusterJob[]>()
    for (const j of submitting) {
      const k = j.submitKey.split('_')[0]!
      byKey.set(k, [...(byKey.get(k) ?? []), j])
    }
    for (const [k, js] of byKey) {
      const entries = js.map((j) => {
        const run = this.store.runs.require(j.runId)
        return { job: j, run, config: upgradeStoredConfig(run.config).config, resumeFrom: null }
      })
      await this.launch(p, sh, k, entries)
    }
    const live = this.store.clusters.active(name).filter((j) => j.state !== 'submitting')
    if (!live.length) return
    const names = [...new Set(live.map((j) => jobName(j.submitKey.split('_')[0]!)))]
    const queue = parseSqueue(await sh.check('squeue', `squeue -h --states=all --name=${shq(names.join(','))} -o ${shq(SQUEUE_FORMAT)}`, { timeoutMs: 30_000, retries: 2 })).filter((e) => names.includes(e.name))
    const match = (j: ClusterJob, e: { jobId: string; arrayJobId: string | null; arrayIndex: number | null; name?: string }) =>
      j.arrayIndex === null ? e.jobId === j.jobId || (e.arrayJobId === j.arrayJobId && e.arrayIndex === null) : (e.arrayJobId === j.arrayJobId && e.arrayIndex === j.arrayIndex) || (j.jobId !== null && e.jobId === j.jobId)
    const missing: ClusterJob[] = []
    const seen: { job: ClusterJob; q: QueueEntry }[] = []
    for (const j of live) {
      const q = queue.find((e) => match(j, e))
      if (q) seen.push({ job: j, q })
      else missing.push(j)
    }
    // squeue has no exit code: a job that ended is looked up in accounting too (the code tells a kill from a bug)
    const ended = seen.some(({ q }) => !['pending', 'running'].includes(outcomeOf(q.state)))
    const acct = missing.length || ended ? await this.accounting.sacct(p, sh, names) : []
    for (const { job, q } of seen) {
      const a = acct.find((e) => e.jobId === q.jobId)
      await this.update(p, sh, job, { jobId: q.arrayIndex !== null && !/^\d+$/.test(q.jobId) ? null : q.jobId, state: q.state, node: q.node, elapsed: q.elapsed, reason: q.reason, exitCode: a?.exitCode ?? null })
    }
    for (const job of missing) {
      const a = acct.find((e) => match(job, e))
      if (a) {
        this.missingSince.delete(job.id)
        await this.update(p, sh, job, { jobId: a.jobId, state: a.state, node: a.node, elapsed: a.elapsed, reason: null, exitCode: a.exitCode })
        continue
      }
      const since = this.missingSince.get(job.id) ?? Date.now()
      this.missingSince.set(job.id, since)
      if (Date.now() - since > this.missingGraceMs) {
        this.missingSince.delete(job.id)
        await this.collect(p, sh, job, 'failed', `Slurm has no record of job ${job.jobId ?? job.arrayJobId} (${jobName(job.submitKey.split('_')[0]!)}) in squeue or sacct`, 'UNKNOWN', null)
      }
    }
  }

  private async update(p: ClusterProfile, sh: ClusterShell, job: ClusterJob, s: { jobId: string | null; state: string; node: string | null; elapsed: string | null; reason: string | null; exitCode: string | null }): Promise<void> {
    const outcome = outcomeOf(s.state)
    const previous = job.state
    const patch = {
      slurmState: s.state,
      ...(s.jobId && /^\d+$/.test(s.jobId) ? { jobId: s.jobId } : {}),
      ...(s.node ? { node: s.node } : {}),
      ...(s.elapsed ? { elapsed: s.elapsed } : {}),
      ...(s.exitCode ? { exitCode: s.exitCode } : {}),
      reason: s.reason,
    }
    if (outcome === 'pending' || outcome === 'running') {
      job = this.store.transaction(() => {
        const j = this.store.clusters.updateJob(job.id, { ...patch, state: outcome })
        if (outcome === 'running' && previous !== 'running') {
          const run = this.store.runs.require(job.runId)
          this.store.runs.update(job.runId, { status: 'running', error: null, endedAt: null, ...(run.startedAt ? {} : { startedAt: nowIso() }) })
          this.store.logs.add({ runId: job.runId, level: 'info', message: `Slurm job ${j.jobId ?? j.arrayJobId} running on ${s.node ?? '?'}` })
        }
        return j
      })
      if (previous !== job.state) {
        this.emit('job', { job, previous })
        if (outcome === 'running') this.emit('run', { runId: job.runId, status: 'running', error: null })
      }
      if (outcome === 'running') {
        await tailMetrics(this.store, sh, job, (e) => this.emit('progress', e))
        await outputTail(this.store, sh, job)
      }
      return
    }
    job = this.store.clusters.updateJob(job.id, patch)
    const reason = outcome === 'completed' ? null : describeEnd({ jobId: job.jobId ?? job.arrayJobId, state: s.state, exitCode: s.exitCode, node: job.node, elapsed: job.elapsed })
    await this.collect(p, sh, job, outcome, reason, s.state, s.exitCode)
  }

  /** A job ended: last metrics, output tail, run folder copied back and ingested, status, and maybe a resubmission. */
  private async collect(p: ClusterProfile, sh: ClusterShell, job: ClusterJob, outcome: 'completed' | 'failed' | 'cancelled', reasonIn: string | null, slurmState: string, exitCode: string | null): Promise<void> {
    await tailMetrics(this.store, sh, job, (e) => this.emit('progress', e))
    const tail = await outputTail(this.store, sh, job)
    const run = this.store.runs.require(job.runId)
    let reason = reasonIn
    if (outcome === 'failed') {
      const err = tail
        ?.split('\n')
        .reverse()
        .find((l) => /skipbench: error:|error|Error|slurmstepd/.test(l) && !l.startsWith('{"event":"step"'))
      if (err) reason = `${reason}: ${err.trim().slice(0, 300)}`
    }
    let ingestProblem: string | null = null
    try {
      await sh.download(job.remoteRunDir, run.runDir!)
      if (existsSync(join(run.runDir!, RUN_JSON))) {
        const r = ingestRunFolder(this.store, run.runDir!, { updateStatus: false })
        if (r.uid !== run.uid) ingestProblem = `the run folder's id ${r.uid} is not this run's ${run.uid}`
      } else ingestProblem = `${job.remoteRunDir} holds no ${RUN_JSON} (the trainer never started; see the job's output)`
    } catch (e) {
      ingestProblem = (e as Error).message
    }
    if (outcome === 'completed' && ingestProblem) {
      outcome = 'failed'
      reason = `the job completed but its run folder could not be collected: ${ingestProblem}`
    }
    const resubmit = outcome === 'failed' && !job.cancelRequested && isResubmittable(slurmState, exitCode) && job.attempt <= p.maxResubmits
    this.finishJob(job, outcome, reason, {}, outcome)
    if (resubmit) await this.resubmit(p, sh, this.store.clusters.job(job.id)!)
  }

  private finishJob(job: ClusterJob, state: ClusterJobState, reason: string | null, extra: { slurmState?: string }, runStatus: RunStatus): void {
    const previous = job.state
    const updated = this.store.transaction(() => {
      const j = this.store.clusters.updateJob(job.id, { state, reason, endedAt: nowIso(), ...extra })
      this.store.runs.update(job.runId, { status: runStatus, error: reason, endedAt: nowIso() })
      this.store.logs.add({ runId: job.runId, level: state === 'completed' ? 'info' : state === 'cancelled' ? 'warn' : 'error', message: reason ?? `Slurm job ${j.jobId ?? j.arrayJobId} completed; run folder collected` })
      return j
    })
    this.missingSince.delete(job.id)
    this.emit('job', { job: updated, previous })
    this.emit('run', { runId: job.runId, status: runStatus, error: reason })
  }

  /** Submit the run again from its newest valid checkpoint (or from the start when it has none). */
  private async resubmit(p: ClusterProfile, sh: ClusterShell, failed: ClusterJob): Promise<void> {
    const run = this.store.runs.require(failed.runId)
    const ck = this.store.checkpoints.latestValid(run.id)
    let resumeFrom: string | null = null
    let step = 0
    if (ck && run.runDir && ck.path.startsWith(run.runDir)) {
      resumeFrom = `${failed.remoteRunDir}/${relative(run.runDir, ck.path)}`
      step = readTrainerState(ck.path).step
    } else await sh.check('clearing the run folder', `rm -rf ${shq(failed.remoteRunDir)}`, { timeoutMs: 60_000, retries: 2 })
    const key = newKey()
    const job = this.store.transaction(() => {
      if (resumeFrom) this.store.metrics.discardForResume(run.id, step)
      else this.store.metrics.discardForResume(run.id, -1)
      this.store.runs.update(run.id, { status: 'queued' })
      const msg = `resubmitting (attempt ${failed.attempt + 1} of ${p.maxResubmits + 1}) ${resumeFrom ? `from the checkpoint at step ${step}` : 'from the start (no checkpoint)'} after: ${failed.reason}`
      this.store.logs.add({ runId: run.id, level: 'warn', message: msg })
      this.emit('log', { runId: run.id, level: 'warn', message: msg })
      return this.store.clusters.addJob({ runId: run.id, cluster: p.name, submitKey: key, attempt: failed.attempt + 1, remoteRunDir: failed.remoteRunDir })
    })
    this.emit('job', { job, previous: null })
    this.emit('run', { runId: run.id, status: 'queued', error: null })
    await this.launch(p, sh, key, [{ job, run: this.store.runs.require(run.id), config: upgradeStoredConfig(run.config).config, resumeFrom }])
  }

  // ------------------------------------------------------------------ control

  /** scancel the run's Slurm job. The next poll marks it cancelled and collects what it wrote. */
  async cancel(runId: number): Promise<ClusterJob> {
    const job = this.store.clusters.latestOfRun(runId)
    if (!job) throw new ClusterError(`run ${runId} was not submitted to a cluster`)
    if (TERMINAL.includes(job.state)) throw new ClusterError(`run ${runId}'s Slurm job ${job.jobId ?? job.arrayJobId ?? ''} is already ${job.state}; nothing to cancel`)
    const p = this.profile(job.cluster)
    const sh = this.shell(p)
    const updated = this.store.clusters.updateJob(job.id, { cancelRequested: true })
    const target = job.arrayIndex !== null && job.arrayJobId ? `${job.arrayJobId}_${job.arrayIndex}` : job.jobId
    if (target) await sh.check('scancel', `scancel ${shq(target)}`, { timeoutMs: 30_000, retries: 2 })
    else await sh.check('scancel', `scancel --name=${shq(jobName(job.submitKey.split('_')[0]!))}`, { timeoutMs: 30_000, retries: 2 })
    this.store.logs.add({ runId, level: 'warn', message: `cancel requested: scancel ${target ?? jobName(job.submitKey)}` })
    return updated
  }

  /**
   * Poll until every one of these runs' Slurm jobs has ended (resubmissions included). `onTick` runs after each
   * poll; an aborted signal returns at once (the jobs keep running; `poll` re-attaches later).
   */
  async waitFor(runIds: number[], o: { intervalMs?: number; signal?: AbortSignal; onTick?: (jobs: ClusterJob[]) => void } = {}): Promise<ClusterJob[]> {
    const interval = o.intervalMs ?? 1000
    for (;;) {
      await this.poll()
      const latest = [...this.store.clusters.latestForRuns(runIds).values()]
      o.onTick?.(latest)
      if (latest.length === runIds.length && latest.every((j) => !ACTIVE_CLUSTER_JOB_STATES.includes(j.state))) return latest
      if (o.signal?.aborted) return latest
      await sleep(interval)
    }
  }
}

