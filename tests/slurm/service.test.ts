/**
 * The app's path to a cluster, through the service (the same handlers IPC and HTTP dispatch to): Settings → "Add
 * cluster" → "Test connection", then "Run on: NAME" starts a run there, its metrics arrive as events, the run page
 * shows the Slurm job, and cancelling a cluster run scancels it. Real daemons (scripts/slurm-local.sh).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalCluster, SKIPBENCH_CMD, tinyConfig } from '../../core/cluster/test-support.js'
import { API, type ApiHandlers, type ApiOutput, type ServerEvent } from '../../core/contract/api.js'
import { createService, dispatch, type Service } from '../../core/service/service.js'

const cluster = startLocalCluster()

describe.skipIf(!cluster.ok)('the app and a Slurm cluster, through the service', () => {
  let dir: string
  let svc: Service
  let h: ApiHandlers
  const events: ServerEvent[] = []
  const call = <K extends keyof typeof API>(m: K, input: unknown) => dispatch(h, m, input) as Promise<ApiOutput<K>>
  const until = async (pred: () => Promise<boolean> | boolean, ms = 300_000) => {
    const t0 = Date.now()
    while (!(await pred())) {
      if (Date.now() - t0 > ms) throw new Error('timed out')
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  beforeAll(async () => {
    process.env.SKIPBENCH_CLUSTER_POLL_MS = '300'
    dir = mkdtempSync(join(tmpdir(), 'skipbench-slurm-svc-'))
    svc = await createService({ transport: 'http', dataDir: dir, throttleMs: 50 })
    h = svc.handlers
    svc.on((e) => events.push(e))
  })
  afterAll(async () => {
    await svc?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('Add cluster → Test connection; a bad profile is refused naming the field', async () => {
    await expect(call('saveCluster', { name: 'bad name', workdir: '/w' })).rejects.toThrow(/name: a cluster name is letters/)
    const p = await call('saveCluster', { name: 'svc', workdir: join(dir, 'work'), slurmConf: cluster.slurmConf, skipbench: SKIPBENCH_CMD })
    expect(p).toMatchObject({ name: 'svc', scheduler: 'slurm', maxResubmits: 2 })
    expect((await call('listClusters', {})).map((c) => c.name)).toEqual(['svc'])
    const lines = await call('checkCluster', { name: 'svc' })
    expect(lines.filter((l) => !l.ok)).toEqual([])
    expect(lines.map((l) => l.check)).toContain('skipbench')
  })

  it('Run on: NAME streams metrics events, and the run page shows the Slurm job', async () => {
    const { runId } = await call('startRun', { config: tinyConfig('app-run', { steps: 300 }), on: 'svc' })
    await until(async () => (await call('getRun', { runId })).run.status === 'completed')
    expect(events.some((e) => e.type === 'metrics-appended' && e.runId === runId)).toBe(true)
    expect(events.some((e) => e.type === 'run-status' && e.runId === runId && e.status === 'running')).toBe(true)
    const d = await call('getRun', { runId })
    expect(d.slurm).toMatchObject({ cluster: 'svc', state: 'completed', slurm_state: 'COMPLETED' })
    expect(d.slurm!.job_id).toMatch(/^\d+$/)
    expect(d.metricKeys).toContain('val/loss')
  })

  it('cancelling a cluster run from the app scancels its job', async () => {
    const { runId } = await call('startRun', { config: tinyConfig('app-cancel', { steps: 100_000 }), on: 'svc' })
    await until(async () => (await call('getRun', { runId })).run.status === 'running')
    await call('cancelRun', { runId })
    await until(async () => (await call('getRun', { runId })).run.status === 'cancelled')
    expect((await call('getRun', { runId })).slurm).toMatchObject({ state: 'cancelled', slurm_state: 'CANCELLED' })
    await expect(call('removeCluster', { name: 'svc' })).resolves.toEqual({ removed: true })
  })
})
