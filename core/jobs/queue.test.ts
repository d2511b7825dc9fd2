import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ingestRunFolder } from '../store/ingest.js'
import { openStore, type Store } from '../store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../store/test-helpers.js'
import { JobQueue } from './queue.js'
import type { ProgressEvent } from './types.js'
import { expectClose, expectCompleteRun, expectConsistentDb, referenceLosses } from './test-support.js'
import { parseRunConfig } from '../config/index.js'

let tmp: TempDir
let store: Store
let queue: JobQueue | null = null
beforeEach(() => {
  tmp = tempDir('skipbench-jobs-')
  store = openStore(tmp.file('s.db'))
})
afterEach(async () => {
  await queue?.shutdown('kill')
  queue = null
  store.close()
  tmp.cleanup()
})

describe('JobQueue', () => {
  it('runs a real training job in its own process and stores exactly what the run folder holds', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const progress: ProgressEvent[] = []
    queue.on('progress', (e) => progress.push(e))
    const statuses: string[] = []
    queue.on('job', (e) => statuses.push(e.job.status))
    const { job, run } = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 6 })), { name: 'first' })
    expect(job.status).toBe('queued')
    await queue.start()
    const done = await queue.waitFor(job.id, ['completed', 'failed'], 60_000)
    expect(done.error).toBeNull()
    expect(done.status).toBe('completed')
    expect(statuses).toEqual(['queued', 'running', 'completed'])
    const r = store.runs.get(run.id)!
    expect(r).toMatchObject({ status: 'completed', kind: 'gated', lastStep: 6 })
    expect(r.engine).toBeTruthy()
    expect(r.tokensPerSec).toBeGreaterThan(0)
    expect(store.metrics.steps(run.id, 'train/loss')).toEqual([0, 1, 2, 3, 4, 5])
    expect(store.metrics.steps(run.id, 'val/loss')).toEqual([0, 2, 4, 6])
    expect(store.checkpoints.list(run.id).map((c) => [c.step, c.final, c.valid])).toEqual([
      [2, false, true],
      [4, false, true],
      [6, true, true],
    ])
    expect(progress.filter((p) => p.event === 'step').map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5])
    // the live path and the folder agree: ingesting it afterwards adds nothing
    const before = store.metrics.count(run.id)
    expect(ingestRunFolder(store, r.runDir!)).toMatchObject({ runId: run.id, created: false, metricsAdded: 0, checkpointsAdded: 0 })
    expect(store.metrics.count(run.id)).toBe(before)
    expect(store.logs.events(job.id).map((e) => e.type)).toEqual(['queued', 'started', 'checkpoint', 'checkpoint', 'checkpoint', 'completed'])
  })
})

describe('JobQueue control', () => {
  it('cancel checkpoints then stops; resume continues with no duplicated or missing step, equal to an uninterrupted run', async () => {
    const cfg = tinyRunConfig({ steps: 60, checkpointEvery: 20, valEvery: 20 })
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job, run } = queue.addTrain(parseRunConfig(cfg))
    queue.on('progress', (e) => e.event === 'step' && e.step === 10 && queue!.cancel(job.id))
    await queue.start()
    const cancelled = await queue.waitFor(job.id, ['cancelled', 'completed', 'failed'], 60_000)
    expect(cancelled.status).toBe('cancelled')
    // progress is published after commit, so the worker is a few steps ahead of the request
    expect(cancelled.resumeFrom).toMatch(/checkpoints\/step-0000\d\d$/)
    const stoppedAt = store.checkpoints.latestValid(run.id)!.step
    expect(stoppedAt).toBeGreaterThan(10)
    expect(stoppedAt).toBeLessThan(60)
    expect(store.checkpoints.latestValid(run.id)!.path).toBe(cancelled.resumeFrom)
    expect(store.runs.get(run.id)!.status).toBe('cancelled')
    expect(store.metrics.steps(run.id, 'train/loss')).toEqual(Array.from({ length: stoppedAt }, (_, i) => i))

    queue.resume(job.id)
    const done = await queue.waitFor(job.id, ['completed', 'failed'], 60_000)
    expect(done.status).toBe('completed')
    expectCompleteRun(store, run.id, 60, [0, 20, 40, 60])
    const ref = await referenceLosses(cfg, join(tmp.path, 'reference'))
    expectClose(store.metrics.series(run.id, 'train/loss', { maxPoints: 0 }).values, ref.train)
    expectClose(store.metrics.series(run.id, 'val/loss', { maxPoints: 0 }).values, ref.val)
    expect(store.logs.events(job.id).map((e) => e.type)).toContain('resume')
    expectConsistentDb(store)
  })

  it('pause holds a job; concurrency 1 runs one training job at a time; retry starts a fresh run', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const a = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 4 })), { name: 'a' })
    const b = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 4 })), { name: 'b' })
    const c = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 4 })), { name: 'c' })
    expect(queue.pause(c.job.id).status).toBe('paused')
    let maxRunning = 0
    queue.on('job', () => (maxRunning = Math.max(maxRunning, store.jobs.countActive('train'))))
    await queue.start()
    await queue.waitFor(b.job.id, ['completed'], 60_000)
    expect(queue.get(a.job.id)!.status).toBe('completed')
    expect(maxRunning).toBe(1)
    expect(queue.get(a.job.id)!.endedAt! <= queue.get(b.job.id)!.startedAt!).toBe(true)
    expect(queue.get(c.job.id)!.status).toBe('paused')
    // a paused job that never ran has no checkpoint: resume says so, retry starts it
    expect(() => queue!.resume(c.job.id)).toThrow(/no usable checkpoint.*use retry/)
    const retried = queue.retry(c.job.id)
    expect(retried.runId).not.toBe(c.run.id)
    await queue.waitFor(c.job.id, ['completed'], 60_000)
    expectCompleteRun(store, retried.runId!, 4, [0, 2, 4])
    expect(store.runs.get(c.run.id)!.status).toBe('paused') // the old run is kept as it was
    await queue.drain()
  })

  it('the worker checks the job row\'s config and never re-defaults it: a row that is not resolved fails, naming the fields', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job } = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 2 })))
    // as if another version had queued it without the schedule section: the worker must not fill in today's default
    const payload = structuredClone(job.payload) as { config: Record<string, unknown> }
    delete payload.config.schedule
    store.jobs.update(job.id, { payload: payload as never })
    await queue.start()
    const done = await queue.waitFor(job.id, ['completed', 'failed'], 60_000)
    expect(done.status).toBe('failed')
    expect(done.error).toMatch(/invalid run config:[\s\S]*schedule: missing or not resolved/)
    // retrying it is an entry point: the stored config is resolved there once, the filled fields are logged, and it runs
    const retried = queue.retry(job.id)
    const ok = await queue.waitFor(retried.id, ['completed', 'failed'], 60_000)
    expect(ok.error).toBeNull()
    expect(ok.status).toBe('completed')
    expect((store.jobs.get(job.id)!.payload as { config: { schedule?: unknown } }).config.schedule).toBeDefined()
    const upgraded = store.logs.events(job.id).find((e) => e.type === 'config-upgraded')
    expect(upgraded?.data).toMatchObject({ filled: expect.arrayContaining([expect.stringMatching(/^schedule/)]) })
  })

  it('evaluates a checkpoint in an eval job: loss, gate statistics, FLOPs', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job, run } = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 4 })))
    await queue.start()
    await queue.waitFor(job.id, ['completed'], 60_000)
    const evalJob = queue.addEval(run.id)
    const evs: number[] = []
    queue.on('evaluation', (e) => evs.push(e.evaluation.id))
    const done = await queue.waitFor(evalJob.id, ['completed', 'failed'], 60_000)
    expect(done.error).toBeNull()
    const [ev] = store.evaluations.list(run.id)
    expect(ev).toMatchObject({ dataset: 'synthetic', split: 'val', step: 4, tokens: 64 })
    expect(evs).toEqual([ev!.id])
    expect(ev!.checkpointId).toBe(store.checkpoints.latestValid(run.id)!.id)
    // the final validation of the run and this evaluation score the same weights on the same windows
    const lastVal = store.metrics.series(run.id, 'val/loss', { maxPoints: 0 }).values.at(-1)!
    expect(Math.abs(ev!.loss! - lastVal)).toBeLessThan(1e-5)
    expect(ev!.gateStats).toMatchObject({ gates: { mean: expect.any(Array) } })
    expect(ev!.flopsPerToken).toBeGreaterThan(0)
    expect(ev!.flops).toBeCloseTo(ev!.flopsPerToken! * 64)
  })

  it('several workers write through the parent at once; a reader process never sees a partial step', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), concurrency: { train: 3 }, flushIntervalMs: 20 })
    const jobs = [0, 1, 2].map((i) => queue!.addTrain(parseRunConfig(tinyRunConfig({ steps: 16, seed: i, valEvery: 4 })), { name: `w${i}` }))
    const reader = spawnReader(store.path, 6000)
    await queue.start()
    let overlap = 0
    queue.on('progress', () => (overlap = Math.max(overlap, queue!.running.length)))
    for (const { job } of jobs) expect((await queue.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
    expect(overlap).toBeGreaterThan(1)
    const out = await reader
    for (const { run } of jobs) expectCompleteRun(store, run.id, 16, [0, 4, 8, 12, 16])
    const perStep = store.db
      .prepare(`SELECT count(*) FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? AND m.step = 0 AND k.key LIKE 'train/%'`)
      .pluck()
      .get(jobs[0]!.run.id) as number
    const perVal = store.db
      .prepare(`SELECT count(*) FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? AND m.step = 0 AND k.key LIKE 'val/%'`)
      .pluck()
      .get(jobs[0]!.run.id) as number
    expect(out.snapshots).toBeGreaterThan(20)
    expect(out.maxRows).toBeGreaterThan(0)
    expect(Object.keys(out.counts)).toEqual([String(perStep)])
    expect(Object.keys(out.valCounts)).toEqual([String(perVal)])
  })
})

function spawnReader(dbPath: string, ms: number): Promise<{ snapshots: number; counts: Record<string, number>; valCounts: Record<string, number>; maxRows: number }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./testing/reader-process.ts', import.meta.url)), dbPath, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', (code) => (code === 0 ? resolveP(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`reader exited ${code}: ${out}`))))
  })
}
