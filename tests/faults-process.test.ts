/**
 * Fault suite, class "process": how jobs start, wait and continue through real CLI processes started from another
 * directory, a worker that cannot start, and a worker that must wait for work (issue 12, items 2, 6 and 7).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { forkLauncher } from '../core/jobs/process.js'
import { JobQueue } from '../core/jobs/queue.js'
import { openStore } from '../core/store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../core/store/test-helpers.js'
import { parseRunConfig } from '../core/config/index.js'

const BIN = resolve(import.meta.dirname, '../bin/skipbench.mjs')
const ENV = { ...process.env, SKIPBENCH_DB: '', SKIPBENCH_HOME: '', SKIPBENCH_RUNS_DIR: '' }

let tmp: TempDir
const children: ChildProcess[] = []
beforeEach(() => {
  tmp = tempDir('sb-fproc-')
})
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  tmp.cleanup()
})

/** The CLI, run with its working directory in a fresh temporary folder (not the repository). */
const cli = (args: string[], cwd = tmp.path) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: ENV })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
function cliAsync(args: string[], cwd = tmp.path): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  return { child, out: () => out, exit: new Promise((r) => child.once('close', (code) => r(code))) }
}
async function until<T>(f: () => T | null | undefined | false, ms = 60_000, what = 'condition'): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = f()
    if (v) return v
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const jobOf = (db: string, id: number) => {
  const s = openStore(db)
  try {
    return s.jobs.get(id)
  } finally {
    s.close()
  }
}
function queueTiny(db: string, steps = 4, extra: string[] = []): { job: number; run: number } {
  const cfg = join(tmp.path, `tiny-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(cfg, JSON.stringify(tinyRunConfig({ steps, checkpointEvery: 2 })))
  const q = cli(['queue', 'add', cfg, '--db', db, '--json', ...extra])
  expect(q.err).toBe('')
  return JSON.parse(q.out) as { job: number; run: number }
}

describe('workers start from any directory (item 2)', () => {
  it('[process] `skipbench worker --db DB` run from a folder outside the repository completes a queued tiny job', () => {
    const db = join(tmp.path, 'sb.db')
    const { job } = queueTiny(db)
    const w = cli(['worker', '--db', db])
    expect(w.out + w.err).toMatch(/1 job\(s\) handled, 0 failed/)
    expect(w.code).toBe(0)
    expect(jobOf(db, job)!.status).toBe('completed')
  })

  it('[process] a job whose worker cannot start fails with the real cause in its error, not only in the logs', async () => {
    const bad = join(tmp.path, 'broken-entry.mjs')
    writeFileSync(bad, "throw new Error('cannot load the native module demo.node: wrong ELF class')\n")
    const store = openStore(join(tmp.path, 's.db'))
    const queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), launcher: forkLauncher({ entry: bad }) })
    try {
      const { job } = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 2 })), { maxAttempts: 1 })
      await queue.start()
      const failed = await queue.waitFor(job.id, ['failed', 'completed'], 30_000)
      expect(failed.status).toBe('failed')
      expect(failed.error).toMatch(/could not start/)
      expect(failed.error).toMatch(/cannot load the native module demo\.node: wrong ELF class/)
      expect(failed.error!.split('\n')).toHaveLength(1)
    } finally {
      await queue.shutdown('kill')
      store.close()
    }
  })
})

describe('worker --keep-running (item 6)', () => {
  it('[process] waits on an empty queue, runs a job queued later by another process, and exits 0 when stopped', async () => {
    const db = join(tmp.path, 'sb.db')
    const w = cliAsync(['worker', '--keep-running', '--db', db])
    await until(() => /worker on /.test(w.out()), 30_000, 'the worker to start')
    await new Promise((r) => setTimeout(r, 1500))
    expect(w.child.exitCode, w.out()).toBeNull() // still waiting (it used to exit with code 13 here)
    const { job } = queueTiny(db)
    await until(() => jobOf(db, job)?.status === 'completed', 60_000, 'the job queued later to complete')
    w.child.kill('SIGINT')
    expect(await w.exit).toBe(0)
    expect(w.out()).toMatch(/1 job\(s\) handled, 0 failed/)
  })
})

describe('runs resume / runs cancel from the CLI (item 7)', () => {
  async function pausedJob(db: string) {
    const store = openStore(db)
    const queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job, run } = queue.addTrain(parseRunConfig(tinyRunConfig({ steps: 12, checkpointEvery: 2, valEvery: 4 })))
    const off = queue.on('progress', (e) => {
      if (e.event === 'step' && e.step >= 4) {
        off()
        queue.pause(job.id)
      }
    })
    await queue.start()
    expect((await queue.waitFor(job.id, ['paused', 'completed', 'failed'], 60_000)).status).toBe('paused')
    await queue.shutdown()
    store.close()
    return { job: job.id, run: run.id }
  }

  it('[process] `runs resume RUN` continues a paused run from its checkpoint to completion', async () => {
    const db = join(tmp.path, 'sb.db')
    const { job, run } = await pausedJob(db)
    const r = cli(['runs', 'resume', String(run), '--db', db])
    expect(r.out + r.err).toMatch(/resum/i)
    expect(r.code, r.out + r.err).toBe(0)
    expect(jobOf(db, job)!.status).toBe('completed')
    const s = openStore(db)
    try {
      expect(s.metrics.steps(run, 'train/loss')).toEqual(Array.from({ length: 12 }, (_, i) => i))
    } finally {
      s.close()
    }
  })

  it('[process] `runs cancel RUN` cancels a paused run; `runs resume` of a completed run says why not', async () => {
    const db = join(tmp.path, 'sb.db')
    const { job, run } = await pausedJob(db)
    const c = cli(['runs', 'cancel', String(run), '--db', db])
    expect(c.code, c.out + c.err).toBe(0)
    expect(jobOf(db, job)!.status).toBe('cancelled')
    const again = cli(['runs', 'cancel', String(run), '--db', db])
    expect(again.code).not.toBe(0)
    expect(again.err).toMatch(/cancelled; nothing to cancel/)
    expect(cli(['runs', 'resume', '999', '--db', db]).err).toMatch(/run 999 not found/)
  })

  it('[process] `runs cancel RUN` stops a job that a `worker --keep-running` in another process is running', async () => {
    const db = join(tmp.path, 'sb.db')
    const cfg = join(tmp.path, 'long.json')
    writeFileSync(cfg, JSON.stringify(tinyRunConfig({ steps: 100000, checkpointEvery: 50, valEvery: 1000 })))
    const q = JSON.parse(cli(['queue', 'add', cfg, '--db', db, '--json']).out) as { job: number; run: number }
    const w = cliAsync(['worker', '--keep-running', '--db', db])
    await until(() => jobOf(db, q.job)?.status === 'running', 60_000, 'the job to run')
    const c = cli(['runs', 'cancel', String(q.run), '--db', db])
    expect(c.code, c.out + c.err).toBe(0)
    expect(c.out).toMatch(/cancel/)
    await until(() => jobOf(db, q.job)?.status === 'cancelled', 60_000, 'the running job to be cancelled')
    expect(w.child.exitCode).toBeNull() // the worker itself keeps running
    w.child.kill('SIGINT')
    await w.exit
  })
})
