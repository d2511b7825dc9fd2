import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ingestRunFolder } from '../store/ingest.js'
import { openStore, type Store } from '../store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../store/test-helpers.js'
import { JobQueue, type ProgressEvent } from './queue.js'

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
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs') })
    const progress: ProgressEvent[] = []
    queue.on('progress', (e) => progress.push(e))
    const statuses: string[] = []
    queue.on('job', (e) => statuses.push(e.job.status))
    const { job, run } = queue.addTrain(tinyRunConfig({ steps: 6 }), { name: 'first' })
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
