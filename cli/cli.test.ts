/** CLI integration: spawns `node bin/skipbench.mjs ...` as a user would (no mocks). */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { writeShard } from '../core/data/shard.js'
import { makeSynthetic } from '../core/data/synthetic.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'skipbench.mjs')
const tmp = mkdtempSync(join(tmpdir(), 'skipbench-cli-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function sb(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const jsonLines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/)

const syn = makeSynthetic({ vocabSize: 32, seed: 4, trainTokens: 20_000, valTokens: 3_000 })
writeShard(join(tmp, 'val.bin'), syn.val)
const config = {
  name: 'cli-test',
  model: { dim: 16, n_layers: 2, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: false, gated_attention: 'key' },
  training: { batch_size: 4, train_steps: 6, val_every: 3, val_tokens: 256, checkpoint_every: 3, seed: 1 },
  controller: { name: 'proportional' },
  data: { dataset: 'synthetic', synthetic: { vocab_size: 32, train_tokens: 20_000, val_tokens: 2_000 } },
  engine: { engine: 'ort', threads: 1 },
}
const cfgPath = join(tmp, 'config.json')
writeFileSync(cfgPath, JSON.stringify(config))

describe('skipbench CLI', () => {
  it('presets: lists the tiny and paper presets', () => {
    const r = sb('presets')
    expect(r.code).toBe(0)
    for (const n of ['tiny-dense', 'tiny-gated', 'paper-12l', 'paper-baseline-12l']) expect(r.stdout).toContain(n)
    const j = JSON.parse(sb('presets', '--json').stdout) as { name: string; params: number }[]
    expect(j.find((p) => p.name === 'paper-12l')!.params).toBe(190_483_974)
  })

  it('train --json: JSON lines for every event and a run folder; then eval --json of its checkpoint', () => {
    const out = join(tmp, 'run')
    const r = sb('train', cfgPath, '--out', out, '--json')
    expect(r.stderr).not.toMatch(/skipbench: error|warning/)
    expect(r.code).toBe(0)
    const ev = jsonLines(r.stdout)
    expect(ev.map((e) => e.event)).toEqual(['start', 'validation', 'step', 'step', 'step', 'validation', 'checkpoint', 'step', 'step', 'step', 'validation', 'checkpoint', 'done'])
    const step = ev.find((e) => e.event === 'step')!
    expect(step).toMatchObject({ step: 0, totalSteps: 6 })
    for (const k of ['loss', 'ce', 'controllerLoss', 'lr', 'tokensPerSec', 'etaSeconds']) expect(typeof step[k]).toBe('number')
    expect(ev.at(-1)).toMatchObject({ event: 'done', status: 'completed', step: 6 })
    for (const f of ['run.json', 'metrics.jsonl', 'final/model.safetensors', 'final/config.json', 'checkpoints/step-000003/trainer_state.json']) expect(existsSync(join(out, f)), f).toBe(true)

    const e = sb('eval', '--checkpoint', join(out, 'final'), '--data', join(tmp, 'val.bin'), '--batch-size', '5', '--engine', 'ort', '--json')
    expect(e.code).toBe(0)
    const j = JSON.parse(e.stdout)
    expect(j.tokens).toBe(Math.floor((3000 - 1) / 16) * 16) // every full window of 17 tokens, stride 16
    expect(j.loss).toBeGreaterThan(0)
    expect(j.loss).toBeLessThan(Math.log(32) + 0.5)
    expect(j.gates_mean).toHaveLength(2)
    expect(j.zeros_mean).toHaveLength(2)
    expect(j.backend).toMatch(/^ort-/)
    const e2 = JSON.parse(sb('eval', '--checkpoint', join(out, 'final'), '--data', join(tmp, 'val.bin'), '--max-tokens', '64', '--json').stdout)
    expect(e2.tokens).toBe(64)
  })

  it('eval loads the paper’s released checkpoint layout (BF16 embedding, model. prefix)', () => {
    const fixture = join(root, 'core', 'checkpoint', 'fixtures', 'paper-format')
    const r = sb('eval', '--checkpoint', fixture, '--data', join(tmp, 'val.bin'), '--max-tokens', '400', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.model).toMatchObject({ n_layers: 2, gated_attention: 'query', zero_init_masks: false })
    expect(j.tokens).toBe(400)
    expect(j.loss).toBeCloseTo(Math.log(32), 0)
  })

  it('Ctrl-C saves a checkpoint and exits 130; --resume finishes the run', async () => {
    const out = join(tmp, 'interrupted')
    const long = join(tmp, 'long.json')
    writeFileSync(long, JSON.stringify({ ...config, training: { ...config.training, train_steps: 400, val_every: 0, checkpoint_every: 0 } }))
    const child = spawn(process.execPath, [bin, 'train', long, '--out', out, '--json'], { cwd: root })
    let stdout = ''
    let signalled = false
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (!signalled && stdout.includes('"event":"step"')) {
        signalled = true
        child.kill('SIGINT')
      }
    })
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)))
    expect(code).toBe(130)
    const ev = jsonLines(stdout)
    expect(ev.at(-2)).toMatchObject({ event: 'checkpoint', reason: 'cancel' })
    expect(ev.at(-1)).toMatchObject({ event: 'done', status: 'cancelled' })
    const stopped = ev.at(-1)!.step as number
    expect(stopped).toBeLessThan(400)
    const r = sb('train', '--resume', out, '--steps', String(stopped + 2), '--json')
    expect(r.code).toBe(0)
    const rev = jsonLines(r.stdout)
    expect(rev[0]).toMatchObject({ event: 'start', step: stopped })
    expect(rev.at(-1)).toMatchObject({ event: 'done', status: 'completed', step: stopped + 2 })
  })

  it('user errors: clear message, non-zero exit, no stack trace', () => {
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, JSON.stringify({ model: { n_layers: 3, zero_init_masks: false }, training: { batch_size: -1, train_steps: 5 } }))
    let r = sb('train', bad)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/invalid run config/)
    expect(r.stderr).toMatch(/training\.batch_size/)
    expect(r.stderr).toMatch(/even n_layers/)
    noStack(r.stderr)

    writeFileSync(bad, '{ not json')
    r = sb('train', bad)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/not valid JSON/)

    r = sb('train', join(tmp, 'missing.json'))
    expect(r.stderr).toMatch(/file not found/)

    r = sb('train', '--preset', 'tiny-gated', '--frobnicate')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown option --frobnicate/)

    r = sb('train', '--preset', 'tiny-gated', '--steps', '0')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--steps/)

    // unreadable checkpoint: truncated weights
    const ck = join(tmp, 'broken-ck')
    cpSync(join(root, 'core', 'checkpoint', 'fixtures', 'paper-format'), ck, { recursive: true })
    truncateSync(join(ck, 'model.safetensors'), 5000)
    r = sb('eval', '--checkpoint', ck, '--data', join(tmp, 'val.bin'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/truncated/)
    noStack(r.stderr)

    r = sb('eval', '--checkpoint', join(tmp, 'nowhere'), '--data', join(tmp, 'val.bin'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/not a checkpoint folder/)

    // bad shards: too short for one window; not a shard at all
    writeShard(join(tmp, 'short.bin'), new Uint16Array(8))
    r = sb('eval', '--checkpoint', join(root, 'core', 'checkpoint', 'fixtures', 'paper-format'), '--data', join(tmp, 'short.bin'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/shorter than one evaluation window/)
    noStack(r.stderr)
    writeFileSync(join(tmp, 'garbage.bin'), 'hello')
    r = sb('eval', '--checkpoint', join(root, 'core', 'checkpoint', 'fixtures', 'paper-format'), '--data', join(tmp, 'garbage.bin'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/garbage\.bin/)
    noStack(r.stderr)

    r = sb('eval', '--data', join(tmp, 'val.bin'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--checkpoint: is required/)
    expect(readFileSync(cfgPath, 'utf8')).toContain('cli-test')
  })
})
