/** queueSweep / waitForSweep on the real job queue (worker processes, SQLite): re-running a sweep continues it. */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobQueue } from '../jobs/queue.js'
import { openStore, type Store } from '../store/store.js'
import { tempDir, type TempDir } from '../store/test-helpers.js'
import { expandSweep, type SweepSpec } from './grid.js'
import { queueSweep, waitForSweep, type SweepProgress } from './queue.js'

let tmp: TempDir
let store: Store
let queue: JobQueue | null = null
beforeEach(() => {
  tmp = tempDir('skipbench-sweep-queue-')
  store = openStore(tmp.file('s.db'))
})
afterEach(async () => {
  await queue?.shutdown('kill')
  queue = null
  store.close()
  tmp.cleanup()
})

const base = {
  model: { dim: 64, n_heads: 2, vocab_size: 32, max_seq_len: 32, zero_init_masks: true },
  training: { batch_size: 4, train_steps: 300, val_every: 100, val_tokens: 64, checkpoint_every: 10 },
  data: { dataset: 'synthetic', synthetic: { seed: 1, train_tokens: 4096, val_tokens: 512 } },
  engine: { engine: 'ort', threads: 1 },
}

describe('queueSweep', () => {
  it('queues every point once as a run of the experiment; re-queuing resumes paused runs and keeps finished ones', async () => {
    const sweep = expandSweep({ name: 'q', groups: [{ name: 'dense', base, axes: { 'model.n_layers': [1, 2] } }] } satisfies SweepSpec)
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs') })
    await queue.start()
    const q = queueSweep(queue, sweep, { experiment: 'exp' })
    expect(q.experiment).toBe('exp')
    expect(q.points.map((p) => [p.point.name, p.action])).toEqual([
      ['dense-L1', 'queued'],
      ['dense-L2', 'queued'],
    ])
    const runs = q.points.map((p) => store.runs.require(p.runId))
    expect(runs.map((r) => [r.name, r.experimentId, r.tags])).toEqual([
      ['dense-L1', q.experimentId, ['sweep:q', 'group:dense']],
      ['dense-L2', q.experimentId, ['sweep:q', 'group:dense']],
    ])
    // pause the second run part-way: the sweep wait returns when every job has stopped
    const second = q.points[1]!.jobId
    let paused = false
    const events: SweepProgress[] = []
    const jobs = await waitForSweep(queue, q, (p) => {
      events.push(p)
      if (!paused && p.progress?.jobId === second && p.progress.step >= 15) {
        paused = true
        queue!.pause(second)
      }
    })
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'paused'])
    expect(events.at(-1)).toMatchObject({ finished: 2, total: 2 })
    expect(events.some((e) => e.progress?.event === 'step')).toBe(true)
    const pausedAt = store.checkpoints.latestValid(q.points[1]!.runId)!.step
    expect(pausedAt).toBeGreaterThan(0)
    expect(pausedAt).toBeLessThan(300)

    // the same sweep again: the finished run is kept, the paused one resumes from its checkpoint (same run)
    const again = queueSweep(queue, sweep, { experiment: 'exp' })
    expect(again.points.map((p) => [p.point.name, p.action, p.runId])).toEqual([
      ['dense-L1', 'exists', q.points[0]!.runId],
      ['dense-L2', 'resumed', q.points[1]!.runId],
    ])
    const done = await waitForSweep(queue, again)
    expect(done.map((j) => j.status)).toEqual(['completed', 'completed'])
    expect(store.metrics.steps(q.points[1]!.runId, 'train/loss')).toEqual(Array.from({ length: 300 }, (_, i) => i))
    expect(store.runs.list({ experimentId: q.experimentId }).total).toBe(2)
    expect(queueSweep(queue, sweep, { experiment: 'exp' }).points.map((p) => p.action)).toEqual(['exists', 'exists'])
    // another experiment is another set of runs
    const other = queueSweep(queue, sweep, { experiment: 'other' })
    expect(other.points.map((p) => p.action)).toEqual(['queued', 'queued'])
    expect(other.experimentId).not.toBe(q.experimentId)
  })

  it('a failed run is retried as a new run when the sweep is queued again', async () => {
    const sweep = expandSweep({ name: 'f', groups: [{ name: 'bad', base: { ...base, data: { dataset: 'no-such-dataset' } } }] })
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs') })
    await queue.start()
    const q = queueSweep(queue, sweep, { experiment: 'exp' })
    const [failed] = await waitForSweep(queue, q)
    expect(failed!.status).toBe('failed')
    expect(failed!.error).toMatch(/no-such-dataset/)
    const again = queueSweep(queue, sweep, { experiment: 'exp' })
    expect(again.points[0]).toMatchObject({ action: 'retried', jobId: q.points[0]!.jobId })
    expect(again.points[0]!.runId).not.toBe(q.points[0]!.runId)
    const [second] = await waitForSweep(queue, again)
    expect(second!.status).toBe('failed')
  })
})
