/**
 * The Slurm integration tests, run once through each path (cluster-local.test.ts: commands on this machine;
 * cluster-ssh.test.ts: every command through ssh to the sshd of scripts/slurm-local.sh). Real daemons, real
 * training (tiny configs on synthetic data), a real SQLite store.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { ClusterManager, type ClusterEvents, type ClusterProfileInput } from '../../core/cluster/index.js'
import { parseRunConfig } from '../../core/config/index.js'
import { pidsWith, REPO, SKIPBENCH_CMD, startLocalCluster, tinyConfig, tinyRun } from '../../core/cluster/test-support.js'
import { cancelRun, listRuns } from '../../core/jobs/commands.js'
import { ingestRunFolder } from '../../core/store/ingest.js'
import { openStore, type Store } from '../../core/store/store.js'
import type { RunStatus } from '../../core/store/types.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function clusterSuite(path: 'local' | 'ssh'): void {
  const cluster = startLocalCluster()
  describe.skipIf(!cluster.ok)(`Slurm cluster mode through the ${path} path (scripts/slurm-local.sh)`, () => {
    let dir: string
    let store: Store
    let m: ClusterManager
    const name = `ci-${path}`

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), `skipbench-slurm-${path}-`))
      store = openStore(join(dir, 'db.sqlite'))
      m = new ClusterManager({ store, runsDir: join(dir, 'runs'), dataDir: join(dir, 'data') })
      const profile: ClusterProfileInput =
        path === 'local'
          ? { name, workdir: join(dir, 'work'), slurmConf: cluster.slurmConf, skipbench: SKIPBENCH_CMD }
          : // over ssh SLURM_CONF comes from the login session (the test sshd sets it), as on a real login node
            { name, workdir: join(dir, 'work'), ssh: 'slurm-local', sshConfig: cluster.sshConfig, skipbench: SKIPBENCH_CMD }
      m.saveProfile(profile)
    })
    afterAll(() => {
      store?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    /** every event of the manager, in order */
    const record = () => {
      const seen: { type: keyof ClusterEvents; e: ClusterEvents[keyof ClusterEvents] }[] = []
      const offs = (['progress', 'job', 'run', 'log'] as const).map((t) => m.on(t, (e) => void seen.push({ type: t, e })))
      return { seen, stop: () => offs.forEach((o) => o()) }
    }

    it('cluster check passes every line', async () => {
      const lines = await m.check(name)
      expect(lines.filter((l) => !l.ok)).toEqual([])
      expect(lines.map((l) => l.check)).toEqual(expect.arrayContaining(['connectivity', 'sbatch', 'squeue', 'sacct', 'scancel', 'workdir writable', 'node', 'skipbench']))
      expect(lines.find((l) => l.check === 'skipbench')!.detail).toMatch(/^skipbench \d+\.\d+\.\d+/)
    })

    it('a tiny dense run streams metrics while it runs, completes, and is ingested with its final checkpoint', async () => {
      const rec = record()
      // long enough (~2 s of training) that polls over a loaded ssh connection see it running
      const { runs, jobs } = await m.submit(name, [{ config: tinyRun('dense-run', { steps: 2000 }) }])
      const runId = runs[0]!.id
      expect(jobs[0]!.jobId).toMatch(/^\d+$/)
      // metrics committed while Slurm still says RUNNING
      let liveRows = 0
      const done = await m.waitFor([runId], {
        intervalMs: 200,
        onTick: (js) => {
          if (js[0]?.state === 'running') liveRows = Math.max(liveRows, store.metrics.summaries(runId).find((s) => s.key === 'train/loss')?.count ?? 0)
        },
      })
      rec.stop()
      expect(done[0]!.state).toBe('completed')
      expect(liveRows).toBeGreaterThan(0)
      expect(rec.seen.some((s) => s.type === 'progress' && (s.e as ClusterEvents['progress']).runId === runId)).toBe(true)
      const run = store.runs.require(runId)
      expect(run.status).toBe('completed')
      expect(run.engine).toBe('ort')
      const loss = store.metrics.summaries(runId).find((s) => s.key === 'train/loss')!
      expect(loss.count).toBe(2000)
      expect(store.metrics.summaries(runId).find((s) => s.key === 'val/loss')!.lastStep).toBe(2000)
      expect(store.checkpoints.list(runId).some((c) => c.final && c.valid && existsSync(c.path) && c.path.startsWith(run.runDir!))).toBe(true)
      const row = listRuns(store, { ids: [runId] }).rows[0]!
      expect(row.slurm).toMatchObject({ cluster: name, job_id: jobs[0]!.jobId, state: 'completed', slurm_state: 'COMPLETED' })
      expect(row.slurm!.node).toBeTruthy()
      expect(row.slurm!.elapsed).toBeTruthy()
      expect(row.slurm!.output_tail).toMatch(/"event":"done"/)
    })

    it('a 3-point sweep is one job array whose tasks stream metrics and complete (skipbench sweep --on)', async () => {
      const grid = join(dir, 'grid.json')
      writeFileSync(grid, JSON.stringify({ name: `grid-${path}`, groups: [{ name: 'dense', base: tinyConfig('g', { steps: 40 }), axes: { 'training.seed': [0, 1, 2] } }] }))
      const code = await main(['sweep', '--grid', grid, '--on', name, '--db', store.path, '--runs-dir', join(dir, 'runs'), '--json'])
      expect(code).toBe(0)
      const exp = store.experiments.list().find((e) => e.name === `grid-${path}`)!
      const rows = listRuns(store, { experimentId: exp.id }).rows
      expect(rows).toHaveLength(3)
      expect(rows.every((r) => r.status === 'completed')).toBe(true)
      const arrays = new Set(rows.map((r) => r.slurm!.array_job_id))
      expect(arrays.size).toBe(1)
      expect([...arrays][0]).toMatch(/^\d+$/)
      expect(rows.map((r) => r.slurm!.array_index).sort()).toEqual([0, 1, 2])
      for (const r of rows) expect(r.summaries['train/loss']!.count).toBe(40)
      // different seeds, different runs
      expect(new Set(rows.map((r) => r.summaries['val/loss']!.last)).size).toBe(3)
    })

    it('submission is idempotent: a row left "submitting" after sbatch got through adopts that job, never a second one', async () => {
      const { runs, jobs } = await m.submit(name, [{ config: tinyRun('idempotent', { steps: 40 }) }])
      const runId = runs[0]!.id
      const jobId = jobs[0]!.jobId
      // as if skipbench died between sbatch's answer and the commit: the row says submitting, with no job id
      store.db.prepare(`UPDATE cluster_jobs SET state = 'submitting', job_id = NULL, array_job_id = NULL, updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?`).run(jobs[0]!.id)
      const [job] = await m.waitFor([runId], { intervalMs: 200 })
      expect(job!.state).toBe('completed')
      expect(job!.jobId).toBe(jobId)
      expect(store.clusters.jobsOfRun(runId)).toHaveLength(1)
      expect(store.metrics.summaries(runId).find((s) => s.key === 'train/loss')!.count).toBe(40)
    })

    it('a cancelled job is marked cancelled (skipbench runs cancel)', async () => {
      const { runs } = await m.submit(name, [{ config: tinyRun('to-cancel', { steps: 100_000 }) }])
      const runId = runs[0]!.id
      for (let i = 0; i < 600 && !(store.metrics.summaries(runId).find((s) => s.key === 'train/loss')?.count ?? 0); i++) {
        await m.poll()
        await sleep(200)
      }
      expect(store.runs.require(runId).status).toBe('running')
      const r = await cancelRun(store, runId, { runsDir: join(dir, 'runs') })
      expect(r.place).toBe('cluster')
      const [job] = await m.waitFor([runId], { intervalMs: 200 })
      expect(job!.state).toBe('cancelled')
      expect(job!.slurmState).toBe('CANCELLED')
      expect(store.runs.require(runId).status).toBe('cancelled')
      expect(store.clusters.jobsOfRun(runId)).toHaveLength(1) // a cancel is never resubmitted
    })

    it('a job whose process is killed is marked failed with the reason, then resubmitted from its checkpoint, and completes', async () => {
      const rec = record()
      // ~1 ms a step: long enough to be killed after its first checkpoint, short enough to finish when resubmitted
      const steps = 2000
      const { runs } = await m.submit(name, [{ config: tinyRun('to-kill', { steps, checkpointEvery: 200 }) }])
      const run = runs[0]!
      const first = store.clusters.latestOfRun(run.id)!
      // wait for a checkpoint on the cluster, then SIGKILL the trainer (found by its --run-id)
      // (the trainer prints its checkpoint event once the checkpoint is complete on disk)
      const out = () => (first.outputPath && existsSync(first.outputPath) ? readFileSync(first.outputPath, 'utf8') : '')
      for (let i = 0; i < 3000 && !out().includes('"event":"checkpoint"'); i++) await sleep(50)
      const pids = pidsWith(run.uid)
      expect(pids.length).toBeGreaterThan(0)
      for (const pid of pids) process.kill(pid, 'SIGKILL')
      const [last] = await m.waitFor([run.id], { intervalMs: 300 })
      rec.stop()
      const jobs = store.clusters.jobsOfRun(run.id)
      expect(jobs.length, JSON.stringify(jobs, null, 1)).toBe(2)
      expect(jobs[0]!.state).toBe('failed')
      expect(jobs[0]!.reason).toMatch(/Slurm job \d+ FAILED .*signal 9/)
      expect(jobs[1]!.attempt).toBe(2)
      expect(last!.state).toBe('completed')
      // the run was marked failed with that reason, then queued again, then completed
      const statuses = rec.seen.filter((s) => s.type === 'run' && (s.e as ClusterEvents['run']).runId === run.id).map((s) => (s.e as ClusterEvents['run']).status)
      const iFailed = statuses.indexOf('failed' as RunStatus)
      expect(iFailed).toBeGreaterThanOrEqual(0)
      expect(statuses.slice(iFailed)).toEqual(expect.arrayContaining(['queued', 'completed']))
      expect(statuses[statuses.length - 1]).toBe('completed')
      expect(store.logs.tailOfRun(run.id, 50).map((l) => l.message).join('\n')).toMatch(/resubmitting \(attempt 2 of 3\) from the checkpoint at step \d+/)
      // no step lost, none twice
      expect(store.metrics.summaries(run.id).find((s) => s.key === 'train/loss')!.count).toBe(steps)
      expect(store.runs.require(run.id)).toMatchObject({ status: 'completed', error: null })
    })

    it(`a restart of skipbench${path === 'ssh' ? ' and an ssh drop-out' : ''} while a job runs loses no metric`, async () => {
      const steps = 2000
      const { runs } = await m.submit(name, [{ config: tinyRun('restart', { steps }) }])
      const runId = runs[0]!.id
      for (let i = 0; i < 900 && !(store.metrics.summaries(runId).find((s) => s.key === 'train/loss')?.count ?? 0); i++) {
        await m.poll()
        await sleep(100)
      }
      // the job is still running, with part of its metrics stored
      expect(store.clusters.latestOfRun(runId)!.state).toBe('running')
      expect(store.metrics.summaries(runId).find((s) => s.key === 'train/loss')!.count).toBeLessThan(steps)
      // "restart": a new store connection and a new manager, which know only what the database holds
      store.close()
      store = openStore(join(dir, 'db.sqlite'))
      m = new ClusterManager({ store, runsDir: join(dir, 'runs'), dataDir: join(dir, 'data') })
      const warnings: string[] = []
      m.on('log', (l) => void (l.level === 'warn' && warnings.push(l.message)))
      if (path === 'ssh') {
        // the connection drops: polls fail and change nothing, then it comes back
        const good = m.profile(name)
        m.saveProfile({ ...good, sshConfig: join(dir, 'no-such-ssh-config') })
        const before = store.clusters.latestOfRun(runId)!
        await m.poll()
        await m.poll()
        expect(warnings.join('\n')).toMatch(new RegExp(`cluster ${name}: .*retrying`))
        expect(store.clusters.latestOfRun(runId)).toMatchObject({ state: before.state, metricsOffset: before.metricsOffset })
        m.saveProfile(good)
      }
      const [job] = await m.waitFor([runId], { intervalMs: 200 })
      expect(job!.state).toBe('completed')
      expect(store.metrics.summaries(runId).find((s) => s.key === 'train/loss')!.count).toBe(steps)
      expect(store.runs.require(runId).status).toBe('completed')
    })

    it('completed runs are ingested like local runs: same config, same metrics as the same run trained here', async () => {
      const cfg = tinyConfig('same-run', { steps: 30, seed: 7 })
      const { runs } = await m.submit(name, [{ config: parseRunConfig(cfg) }])
      const [job] = await m.waitFor([runs[0]!.id], { intervalMs: 300 })
      expect(job!.state).toBe('completed')
      const cfgPath = join(dir, 'same-run.json')
      writeFileSync(cfgPath, JSON.stringify(cfg))
      const localDir = join(dir, 'local-run')
      const t = spawnSync(process.execPath, [join(REPO, 'bin/skipbench.mjs'), 'train', cfgPath, '--out', localDir, '--json'], { encoding: 'utf8', timeout: 300_000 })
      expect(t.status, t.stderr).toBe(0)
      const local = ingestRunFolder(store, localDir)
      const a = store.runs.require(runs[0]!.id)
      const b = store.runs.require(local.runId)
      expect(a.config).toEqual(b.config)
      expect(a.kind).toBe(b.kind)
      expect(a.dataset).toBe(b.dataset)
      const diff = store.runs.diff([a.id, b.id]).fields.map((f) => f.path)
      expect(diff.filter((p) => !/^run\.versions/.test(p))).toEqual([])
      for (const key of ['train/loss', 'val/loss']) {
        const sa = store.metrics.series(a.id, key)
        const sb = store.metrics.series(b.id, key)
        expect(sa.steps).toEqual(sb.steps)
        // deterministic CPU training: the cluster run is the local run, bit for bit
        expect(sa.values).toEqual(sb.values)
      }
    })
  })
}
