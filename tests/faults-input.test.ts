/**
 * Fault suite, class "input": bad input at every boundary gets one clear message naming the thing and the fix, and
 * never echoes a file's content (issue 12, items 4, 8 and 11).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queueCommand, runsCommand } from '../cli/commands/runs.js'
import { loadModelCheckpoint } from '../core/checkpoint/index.js'
import { readShardHeader } from '../core/data/shard.js'
import { importDataset } from '../core/data/import/index.js'
import { tempDir, tinyRunConfig, type TempDir } from '../core/store/test-helpers.js'
import { parseRunConfig } from '../core/config/index.js'
import { readConfigFile } from '../core/trainer/run.js'
import { closest } from '../core/util/suggest.js'

// text that must never appear in an error message: a stand-in for /etc/passwd or a key file picked by mistake
const SECRET = 'root:x:0:0:SECRET-hunter2:/root:/bin/bash'

let tmp: TempDir
beforeAll(() => {
  tmp = tempDir('sb-finput-')
})
afterAll(() => tmp.cleanup())

const messageOf = async (f: () => unknown): Promise<string> => {
  try {
    await f()
  } catch (e) {
    return (e as Error).message
  }
  throw new Error('expected an error')
}
const expectNoContent = (msg: string) => {
  for (const piece of ['root:x', 'SECRET', 'hunter2', '/bin/bash', 'ROOT']) expect(msg).not.toContain(piece)
}

describe('errors name the file and the problem, never its content (item 4)', () => {
  it('[input] importing a non-JSON file as JSONL', async () => {
    const f = join(tmp.path, 'passwd.jsonl')
    writeFileSync(f, `${SECRET}\n${SECRET}\n`)
    const msg = await messageOf(() => importDataset({ dataDir: join(tmp.path, 'data'), name: 'pw', from: f, format: 'jsonl' }))
    expect(msg).toContain(f)
    expect(msg).toMatch(/not valid JSON/)
    expectNoContent(msg)
  })

  it('[input] a file that is not a token shard (bad magic number)', async () => {
    const f = join(tmp.path, 'secret.bin')
    writeFileSync(f, SECRET.repeat(100))
    const msg = await messageOf(() => readShardHeader(f))
    expect(msg).toContain(f)
    expect(msg).toMatch(/not a token shard/)
    expectNoContent(msg)
    expect(msg).not.toContain(String(Buffer.from(SECRET).readInt32LE(0))) // the first bytes as a number
  })

  it('[input] a run config file that is not JSON', async () => {
    const f = join(tmp.path, 'cfg.json')
    writeFileSync(f, SECRET)
    const msg = await messageOf(() => readConfigFile(f))
    expect(msg).toContain(f)
    expect(msg).toMatch(/not valid JSON/)
    expectNoContent(msg)
  })

  it('[input] a checkpoint whose config.json is not JSON', async () => {
    const d = join(tmp.path, 'ck')
    mkdirSync(d, { recursive: true })
    writeFileSync(join(d, 'config.json'), `{"dim": 16, ${SECRET}}`)
    writeFileSync(join(d, 'model.safetensors'), Buffer.alloc(16))
    const msg = await messageOf(() => loadModelCheckpoint(d))
    expect(msg).toMatch(/config\.json: not valid JSON/)
    expectNoContent(msg)
  })
})

describe('invalid configs are refused before training (item 8)', () => {
  const cfg = tinyRunConfig()
  it('[input] an unknown model key is refused with a "did you mean"', () => {
    expect(() => parseRunConfig({ ...cfg, model: { ...cfg.model, nlayers: 2 } })).toThrow(/model\.nlayers: unknown key "nlayers" \(did you mean "n_layers"\?\)/)
    expect(() => parseRunConfig({ ...cfg, model: { ...cfg.model, n_head: 2 } })).toThrow(/did you mean "n_heads"/)
    expect(() => parseRunConfig({ ...cfg, model: { ...cfg.model, frobnicate: 1 } })).toThrow(/model\.frobnicate: unknown key "frobnicate"/)
  })

  it.each([
    [{ mean_target_start: 1, mean_target_end: 5 }, /mean_target_end must be greater than 0 and at most 1/],
    [{ mean_target_start: 1, mean_target_end: -0.1 }, /mean_target_end must be greater than 0 and at most 1/],
    [{ mean_target_start: 1, mean_target_end: 0 }, /mean_target_end must be greater than 0 and at most 1/],
    [{ mean_target_start: 1.5, mean_target_end: 0.5 }, /mean_target_start.*between 0 and 1/],
    [{ mean_target_start: 0.3, mean_target_end: 0.6 }, /mean_target_end \(0\.6\) must not exceed mean_target_start \(0\.3\)/],
    [{ mean_targets: [0.9, 1.2] }, /mean_targets.*between 0 and 1/],
  ])('[input] controller targets out of range %j are refused', (ctl, re) => {
    const gated = tinyRunConfig({ gated: true })
    expect(() => parseRunConfig({ ...gated, controller: { name: 'proportional', ...ctl } })).toThrow(re)
  })

  it('[input] valid targets still parse (0 < end ≤ start ≤ 1)', () => {
    const gated = tinyRunConfig({ gated: true })
    for (const [s, e] of [[1, 0.5], [1, 1], [0.5, 0.01], [0.1, 0.1]] as const)
      expect(parseRunConfig({ ...gated, controller: { name: 'proportional', mean_target_start: s, mean_target_end: e } }).controller).toMatchObject({ mean_target_end: e })
  })

  it('[input] "did you mean" suggests only near misses', () => {
    expect(closest('nlayers', ['n_layers', 'n_heads'])).toBe('n_layers')
    expect(closest('runing', ['running', 'paused'])).toBe('running')
    expect(closest('xyzzy', ['n_layers', 'n_heads'])).toBeNull()
  })
})

describe('small CLI validation gaps (item 11)', () => {
  it('[input] `runs list --status` with an unknown status is refused with the valid ones', async () => {
    const msg = await messageOf(() => runsCommand(['list', '--status', 'runing', '--db', join(tmp.path, 'a.db')]))
    expect(msg).toMatch(/unknown status "runing" \(did you mean "running"\?\)/)
    expect(msg).toMatch(/queued, running, paused, completed, failed, cancelled, interrupted/)
  })
  it.each([[['--tag', '']], [['--tag', '  ']], [['--tag']], [['--tag', '--db']]])('[input] `queue add` with an empty tag %j is refused and queues nothing', async (tagArgs) => {
    const f = join(tmp.path, 'tiny.json')
    writeFileSync(f, JSON.stringify(tinyRunConfig()))
    const db = join(tmp.path, `t${Math.random().toString(36).slice(2)}.db`)
    const msg = await messageOf(() => queueCommand(['add', f, ...tagArgs, '--db', db]))
    expect(msg).toMatch(/--tag: a tag cannot be empty/)
    expect(existsSync(db)).toBe(false) // refused before the database is even opened
  })
})
