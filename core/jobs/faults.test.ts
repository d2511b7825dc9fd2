/**
 * Fault tests with real processes: the real trainer in forked workers, a real parent process killed with SIGKILL,
 * a real full filesystem (a small tmpfs when we may mount one; an injected SQLITE_FULL otherwise), and corrupted
 * checkpoint files. After each: the database is consistent, nothing committed is lost, and the run either resumes
 * to the same result as an uninterrupted run or is marked failed with the reason. Part of the fault suite (with
 * tests/faults-*.test.ts): each title starts with its class tag, counted by `npm test` (scripts/fault-suite.mjs).
 */
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../store/test-helpers.js'
import { JobQueue } from './queue.js'
import { expectClose, expectCompleteRun, expectConsistentDb, referenceLosses } from './test-support.js'
import { parseRunConfig } from '../config/index.js'

let tmp: TempDir
let store: Store
let queue: JobQueue | null = null
const mounts: string[] = []

beforeEach(() => {
  tmp = tempDir('skipbench-faults-')
  store = openStore(tmp.file('s.db'))
})
afterEach(async () => {
  await queue?.shutdown('kill')
  queue = null
  store.close()
  for (const m of mounts.splice(0)) umount(m)
  tmp.cleanup()
})

/** A size-limited tmpfs (we are root on the test machines); null where mounting is not allowed. */
function mountTmpfs(dir: string, kb: number): string | null {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'ignore' })
    mounts.push(dir)
    return dir
  } catch {
    return null
  }
}
function umount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' })
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
  }
}
const canMount = (() => {
  const probe = join(tempDir('skipbench-probe-').path, 'm')
  mkdirSync(probe, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    rmSync(join(probe, '..'), { recursive: true, force: true })
  }
})()

const CFG = tinyRunConfig({ steps: 40, checkpointEvery: 8, valEvery: 8 })
const VAL_STEPS = [0, 8, 16, 24, 32, 40]

/** The worker pid of a job, as soon as it is running. */
function workerPid(q: JobQueue, jobId: number): Promise<number> {
  return new Promise((r) => {
    const off = q.on('job', (e) => {
      if (e.job.id === jobId && e.job.status === 'running' && e.job.pid) {
        off()
        r(e.job.pid)
      }
    })
  })
}

const committed = (s: Store, runId: number) => {
  const x = s.metrics.series(runId, 'train/loss', { maxPoints: 0 })
  return x.steps.map((st, i) => [st, x.values[i]!] as const)
}

describe('a training worker killed with SIGKILL mid-step', () => {
  it('[process] is retried from its last valid checkpoint while attempts remain, ending equal to an uninterrupted run', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job, run } = queue.addTrain(parseRunConfig(CFG), { maxAttempts: 2 })
    const pid = workerPid(queue, job.id)
    let killed = false
    queue.on('progress', async (e) => {
      if (!killed && e.event === 'step' && e.step >= 12) {
        killed = true
        process.kill(await pid, 'SIGKILL')
      }
    })
    await queue.start()
    const done = await queue.waitFor(job.id, ['completed', 'failed'], 90_000)
    expect(killed).toBe(true)
    expect(done.status).toBe('completed')
    expect(done.attempts).toBe(2)
    const retry = store.logs.events(job.id).find((e) => e.type === 'auto-retry')!
    expect(retry.data.reason).toMatch(/worker killed by SIGKILL after step \d+/)
    expect(retry.data.resumeFrom).toMatch(/step-0000(08|16|24)$/)
    expectCompleteRun(store, run.id, 40, VAL_STEPS)
    const ref = await referenceLosses(CFG, join(tmp.path, 'ref'))
    expectClose(store.metrics.series(run.id, 'train/loss', { maxPoints: 0 }).values, ref.train)
    expectConsistentDb(store)
  })

  it('[process] is marked failed with the reason when no attempts remain, keeps every committed row, and resumes later', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job, run } = queue.addTrain(parseRunConfig(CFG))
    const pid = workerPid(queue, job.id)
    let killed = false
    queue.on('progress', async (e) => {
      if (!killed && e.event === 'step' && e.step >= 12) {
        killed = true
        process.kill(await pid, 'SIGKILL')
      }
    })
    await queue.start()
    const failed = await queue.waitFor(job.id, ['completed', 'failed'], 90_000)
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(/worker killed by SIGKILL after step \d+/)
    expect(store.runs.get(run.id)).toMatchObject({ status: 'failed', error: failed.error })
    const before = committed(store, run.id)
    expect(before.map(([s]) => s)).toEqual(before.map((_, i) => i)) // a gap-free prefix
    expect(before.length).toBeGreaterThan(12)
    expectConsistentDb(store)

    const resumed = queue.resume(job.id)
    expect(resumed.resumeFrom).toMatch(/step-0000(08|16|24|32)$/)
    const S = Number(/step-(\d+)$/.exec(resumed.resumeFrom!)![1])
    expect((await queue.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
    expectCompleteRun(store, run.id, 40, VAL_STEPS)
    const after = new Map(committed(store, run.id))
    for (const [s, v] of before) if (s < S) expect(after.get(s)).toBe(v) // committed rows before the resume point kept
  })
})

describe('the parent (job runner) killed with SIGKILL', () => {
  it('[process] next start marks the job interrupted, recovers what the worker wrote, and resume completes it', async () => {
    const runsDir = join(tmp.path, 'runs')
    const entry = fileURLToPath(new URL('./testing/parent-process.ts', import.meta.url))
    const parent = spawn(process.execPath, ['--import', 'tsx', entry, store.path, runsDir, JSON.stringify(CFG)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let jobId = 0
    let workerPidSeen = 0
    let err = ''
    parent.stderr.on('data', (d) => (err += d))
    await new Promise<void>((resolveP, reject) => {
      let buf = ''
      parent.stdout.on('data', (d: Buffer) => {
        buf += d.toString()
        for (const line of buf.split('\n').slice(0, -1)) {
          const [k, v] = line.split(' ')
          if (k === 'JOB') jobId = Number(v)
          if (k === 'WORKER') workerPidSeen = Number(v)
          if (k === 'STEP' && Number(v) >= 10) {
            parent.kill('SIGKILL')
            resolveP()
          }
          if (k === 'DONE') reject(new Error('the run finished before the parent could be killed'))
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1)
      })
      parent.on('close', (code, signal) => signal !== 'SIGKILL' && reject(new Error(`parent exited ${code}: ${err}`)))
    })
    await new Promise((r) => parent.once('close', r))
    expect(jobId).toBeGreaterThan(0)
    expect(workerPidSeen).toBeGreaterThan(0)
    const job = store.jobs.get(jobId)!
    expect(job.status).toBe('running') // as the dead parent left it
    const runId = job.runId!
    const atKill = committed(store, runId)
    expect(atKill.length).toBeGreaterThan(5)

    queue = new JobQueue({ store, runsDir })
    const report = await queue.start() // waits for the orphaned worker's checkpoint
    expect(report.recovered.map((j) => [j.id, j.status])).toEqual([[jobId, 'interrupted']])
    const interrupted = store.jobs.get(jobId)!
    expect(interrupted.error).toMatch(/job runner .* stopped while this job was running/)
    expect(interrupted.resumeFrom).toMatch(/step-0000\d\d$/)
    expect(store.runs.get(runId)!.status).toBe('interrupted')
    // what the worker wrote after the parent's last commit was ingested from its folder
    expect(store.metrics.count(runId)).toBeGreaterThanOrEqual(atKill.length)
    expectConsistentDb(store)

    queue.resume(jobId)
    expect((await queue.waitFor(jobId, ['completed', 'failed'], 90_000)).status).toBe('completed')
    expectCompleteRun(store, runId, 40, VAL_STEPS)
    const final = new Map(committed(store, runId))
    for (const [s, v] of atKill) expect(final.get(s)).toBe(v) // no committed metric lost or changed
    const ref = await referenceLosses(CFG, join(tmp.path, 'ref'))
    expectClose([...final.values()], ref.train)
  })
})

describe('a full disk', () => {
  it.skipIf(!canMount)('[storage] run folder on a full filesystem: the job fails with ENOSPC, the DB stays consistent, and it resumes once there is room', async () => {
    const runsDir = mountTmpfs(join(tmp.path, 'small'), 400)!
    queue = new JobQueue({ store, runsDir })
    const cfg = tinyRunConfig({ steps: 40, checkpointEvery: 4, valEvery: 8 })
    const { job, run } = queue.addTrain(parseRunConfig(cfg))
    await queue.start()
    const failed = await queue.waitFor(job.id, ['completed', 'failed'], 90_000)
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(/ENOSPC|no space left/i)
    expect(store.runs.get(run.id)!.error).toMatch(/ENOSPC|no space left/i)
    const before = committed(store, run.id)
    expect(before.map(([s]) => s)).toEqual(before.map((_, i) => i))
    expectConsistentDb(store)

    execFileSync('mount', ['-o', 'remount,size=16m', runsDir])
    queue.resume(job.id)
    expect((await queue.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
    expectCompleteRun(store, run.id, 40, VAL_STEPS)
  })

  it.skipIf(!canMount)('[storage] database on a full filesystem: rows wait in memory, commits resume when space returns, nothing is lost', async () => {
    const dbDir = mountTmpfs(join(tmp.path, 'dbfs'), 4096)!
    const small = openStore(join(dbDir, 'full.db'))
    try {
      const q = new JobQueue({ store: small, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
      const errors: string[] = []
      let ok = 0
      q.on('storage-error', (e) => errors.push(e.message))
      q.on('storage-ok', () => ok++)
      const filler = join(dbDir, 'filler')
      let filled = false
      q.on('progress', (e) => {
        if (filled || e.step < 4) return
        filled = true
        const fd = openSync(filler, 'w')
        const block = Buffer.alloc(64 * 1024, 1)
        try {
          for (;;) writeSync(fd, block)
        } catch {
          /* ENOSPC: full */
        }
        try {
          for (;;) writeSync(fd, block.subarray(0, 512))
        } catch {
          /* every last block */
        }
        closeSync(fd)
      })
      const { job, run } = q.addTrain(parseRunConfig(tinyRunConfig({ steps: 40, checkpointEvery: 8, valEvery: 8 })))
      await q.start()
      while (errors.length < 3) await new Promise((r) => setTimeout(r, 20))
      expect(errors[0]).toMatch(/full/i)
      rmSync(filler)
      expect((await q.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
      expect(ok).toBeGreaterThan(0)
      expectCompleteRun(small, run.id, 40, VAL_STEPS)
      expectConsistentDb(small)
      await q.shutdown()
    } finally {
      small.close()
    }
  })

  it('[storage] an injected SQLITE_FULL on the write path: the parent keeps the rows and commits them when writes work again', async () => {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const real = store.transaction.bind(store)
    let full = false
    store.transaction = (<T>(fn: () => T): T => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
      return real(fn)
    }) as Store['transaction']
    const errors: number[] = []
    queue.on('storage-error', (e) => errors.push(e.pendingRows))
    queue.on('progress', (e) => e.step === 3 && (full = true))
    const { job, run } = queue.addTrain(parseRunConfig(CFG))
    await queue.start()
    while (errors.length < 4) await new Promise((r) => setTimeout(r, 20))
    expect(Math.max(...errors)).toBeGreaterThan(0)
    full = false
    expect((await queue.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
    expectCompleteRun(store, run.id, 40, VAL_STEPS)
    expectConsistentDb(store)
  })
})

describe('a corrupt last checkpoint', () => {
  async function pausedRun(keep = 0) {
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const cfg = tinyRunConfig({ steps: 40, checkpointEvery: 8, valEvery: 8, keep })
    const { job, run } = queue.addTrain(parseRunConfig(cfg))
    const off = queue.on('progress', (e) => {
      if (e.event === 'step' && e.step >= 12) {
        off()
        queue!.pause(job.id)
      }
    })
    await queue.start()
    const paused = await queue.waitFor(job.id, ['paused', 'completed', 'failed'], 90_000)
    expect(paused.status).toBe('paused')
    const cks = store.checkpoints.list(run.id).filter((c) => c.valid)
    expect(cks.length).toBeGreaterThanOrEqual(2)
    return { job, run, cks, cfg }
  }

  it('[storage] a truncated file: the checkpoint is marked invalid with the reason and the previous one is used', async () => {
    const { job, run, cks, cfg } = await pausedRun()
    const last = cks.at(-1)!
    truncateSync(join(last.path, 'model.safetensors'), 64)
    const resumed = queue!.resume(job.id)
    expect(resumed.resumeFrom).toBe(cks.at(-2)!.path)
    expect(store.checkpoints.get(last.id)).toMatchObject({ valid: false, problem: expect.stringMatching(/model\.safetensors/) })
    expect((await queue!.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
    expectCompleteRun(store, run.id, 40, VAL_STEPS)
    const ref = await referenceLosses(cfg, join(tmp.path, 'ref'))
    expectClose(store.metrics.series(run.id, 'train/loss', { maxPoints: 0 }).values, ref.train)
  })

  it('[storage] a checkpoint that looks fine but does not load: the worker reports it, the parent falls back', async () => {
    const { job, run, cks } = await pausedRun()
    const last = cks.at(-1)!
    const cfgPath = join(last.path, 'config.json')
    writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace('"dim": 16', '"dim": 32'))
    expect(queue!.resume(job.id).resumeFrom).toBe(last.path) // the structural check passes
    expect((await queue!.waitFor(job.id, ['completed', 'failed'], 90_000)).status).toBe('completed')
    const warned = store.logs.forJob(job.id).find((l) => l.level === 'warn' && l.message.includes(`checkpoint ${last.path} does not load`))
    expect(warned?.message).toMatch(/does not match|shape/)
    // marked invalid — unless the resumed run wrote a new checkpoint under the same name (a multiple of 8), which is valid
    if (last.step % 8 !== 0) expect(store.checkpoints.get(last.id)).toMatchObject({ valid: false, problem: expect.stringMatching(/does not match|shape/) })
    const ev = store.logs.events(job.id).filter((e) => e.type === 'auto-retry').at(-1)!
    expect(ev.data.reason).toMatch(/does not load/)
    expect(ev.data.resumeFrom).toBe(cks.at(-2)!.path)
    expectCompleteRun(store, run.id, 40, VAL_STEPS)
  })

  it('[storage] no usable checkpoint left: resume refuses with the reasons', async () => {
    const { job, cks } = await pausedRun()
    for (const c of cks) rmSync(join(c.path, 'trainer_state.json'))
    expect(() => queue!.resume(job.id)).toThrow(/no usable checkpoint/)
    expect(store.jobs.get(job.id)!.status).toBe('paused')
    expect(store.checkpoints.list(job.runId!).every((c) => !c.valid)).toBe(true)
    expectConsistentDb(store)
  })
})
