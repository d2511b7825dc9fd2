/**
 * Fault suite, class "storage": the database and run folders on the wrong kind of path, garbage, a read-only folder
 * and a full disk while writing the final checkpoint (issue 12, item 9). Each gives one line naming the path and
 * the fix, and loses nothing that was saved. (More storage cases: core/jobs/faults.test.ts.)
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadTrainingCheckpoint } from '../core/checkpoint/index.js'
import { openStoreAt } from '../core/jobs/commands.js'
import { openStore } from '../core/store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../core/store/test-helpers.js'
import { parseRunConfig } from '../core/config/index.js'
import { prepareRun } from '../core/trainer/run.js'

let tmp: TempDir
const mounts: string[] = []
beforeAll(() => {
  tmp = tempDir('sb-fstore-')
})
afterEach(() => {
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' })
    } catch {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' })
    }
  }
})
afterAll(() => tmp.cleanup())

function mountTmpfs(dir: string, kb: number): boolean {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'ignore' })
    mounts.push(dir)
    return true
  } catch {
    return false
  }
}
const canMount = (() => {
  const t = tempDir('sb-fstore-probe-')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', t.path], { stdio: 'ignore' })
    execFileSync('umount', [t.path], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    t.cleanup()
  }
})()
const messageOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    return (e as Error).message
  }
  throw new Error('expected an error')
}
const oneLine = (m: string) => expect(m.split('\n')).toHaveLength(1)

describe('the database path (item 9)', () => {
  it('[storage] a garbage database file: names the path, says it is not SQLite, leaves it unchanged', () => {
    const f = tmp.file('garbage.db')
    const bytes = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251))
    writeFileSync(f, bytes)
    const m = messageOf(() => openStoreAt({ db: f }))
    expect(m).toMatch(new RegExp(`database ${f} is not an SQLite database.*choose another --db PATH`))
    expect(m).not.toMatch(/bug/)
    oneLine(m)
    expect(readFileSync(f).equals(bytes)).toBe(true)
  })

  it('[storage] --db pointing at a folder', () => {
    const d = tmp.file('a-folder')
    mkdirSync(d)
    const m = messageOf(() => openStoreAt({ db: d }))
    expect(m).toBe(`database ${d} is a folder, not a database file: pass the file inside it, e.g. --db ${join(d, 'skipbench.db')}`)
  })

  it('[storage] --db below a file', () => {
    const f = tmp.file('plain-file')
    writeFileSync(f, 'x')
    const m = messageOf(() => openStoreAt({ db: join(f, 'sb.db') }))
    expect(m).toMatch(new RegExp(`${f} \\(or a folder above it\\) is a file, not a folder`))
    oneLine(m)
  })

  it.skipIf(!canMount)('[storage] a read-only database folder: writers get one line with the fix; runs list still reads it', () => {
    const dir = tmp.file('ro')
    expect(mountTmpfs(dir, 4096)).toBe(true)
    const db = join(dir, 'sb.db')
    const s = openStore(db)
    s.experiments.ensure('kept')
    s.close()
    execFileSync('mount', ['-o', 'remount,ro', dir])
    const m = messageOf(() => openStoreAt({ db }))
    expect(m).toMatch(new RegExp(`database ${db} cannot be opened for writing: its folder ${dir} is read-only.*make the folder writable`))
    oneLine(m)
    const notes: string[] = []
    const r = openStoreAt({ db, readOnlyFallback: true, onNote: (n) => notes.push(n) })
    try {
      expect(r.experiments.list().map((e) => e.name)).toEqual(['kept'])
      expect(notes[0]).toMatch(/is read-only; showing a snapshot/)
    } finally {
      r.close()
    }
  })
})

describe('run folders (item 9)', () => {
  it('[storage] --out pointing at a file', async () => {
    const f = tmp.file('out-file')
    writeFileSync(f, 'x')
    const p = await prepareRun({ config: parseRunConfig(tinyRunConfig({ steps: 2 })), runDir: f })
    try {
      await expect(p.trainer.run()).rejects.toThrow(`${f} is a file, not a folder: give the run a folder (--out DIR)`)
    } finally {
      await p.close()
    }
    expect(readFileSync(f, 'utf8')).toBe('x')
  })

  it.skipIf(!canMount)('[storage] a full disk at the final checkpoint: the error names the last good checkpoint, which is intact and resumes', async () => {
    const dir = tmp.file('full')
    expect(mountTmpfs(dir, 1024)).toBe(true)
    const runDir = join(dir, 'run')
    const cfg = parseRunConfig(tinyRunConfig({ steps: 8, checkpointEvery: 4, valEvery: 4 }))
    const p = await prepareRun({ config: cfg, runDir })
    p.trainer.on('step', (e: { step: number }) => {
      if (e.step !== 7) return
      const fd = openSync(join(dir, 'filler'), 'w') // fill the disk just before the final checkpoint
      try {
        for (;;) writeSync(fd, Buffer.alloc(16 * 1024, 1))
      } catch {
        /* full */
      }
      try {
        for (;;) writeSync(fd, Buffer.alloc(512, 1))
      } catch {
        /* every last block */
      }
      closeSync(fd)
    })
    let msg = ''
    try {
      await p.trainer.run()
    } catch (e) {
      msg = (e as Error).message
    } finally {
      await p.close()
    }
    const good = join(runDir, 'checkpoints', 'step-000004')
    expect(msg).toMatch(/no space left on the device of .* \(ENOSPC\) at step \d+; the last good checkpoint is step 4 at /)
    expect(msg).toContain(good)
    oneLine(msg)
    expect(loadTrainingCheckpoint(good).state.step).toBe(4) // intact
    rmSync(join(dir, 'filler'))
    const q = await prepareRun({ config: cfg, runDir, resumeFrom: good })
    try {
      expect((await q.trainer.run()).status).toBe('completed')
    } finally {
      await q.close()
    }
  })
})
