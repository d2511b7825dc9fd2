/**
 * The training loop end to end on real engines (tiny models, a few steps): event order, run folder, exact resume
 * (2N straight = N + cancel + resume N), cancellation, dense runs, checkpoint evaluation.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadModelCheckpoint, loadTrainingCheckpoint } from '../checkpoint/index.js'
import { writeShard } from '../data/shard.js'
import { makeSynthetic } from '../data/synthetic.js'
import type { EngineName } from '../engine/index.js'
import { evaluateCheckpoint } from './evaluate.js'
import { parseRunConfig, type RunConfigInput } from '../config/index.js'
import { prepareRun } from './run.js'
import type { StepEvent, ValidationEvent } from './trainer.js'

const tmp = mkdtempSync(join(tmpdir(), 'skipbench-trainer-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function config(engine: EngineName, over: Partial<RunConfigInput> = {}, gated = true) {
  return parseRunConfig({
    model: { dim: 16, n_layers: 2, n_heads: 2, n_kv_heads: 1, vocab_size: 32, max_seq_len: 16, zero_init_masks: !gated, gated_attention: 'key' },
    training: { batch_size: 4, grad_acc_steps: 2, train_steps: 8, val_every: 4, val_tokens: 256, checkpoint_every: 4, keep_checkpoints: 1, seed: 3 },
    controller: gated ? { name: 'proportional', mean_target_start: 1, mean_target_end: 0.2, coef_update_multiplier: 0.5, delta_min: 0 } : { name: 'dummy' },
    data: { dataset: 'synthetic', synthetic: { vocab_size: 32, train_tokens: 20_000, val_tokens: 2_000 } },
    engine: { engine, ...(engine === 'ort' ? {} : { backend: 'wasm' }) }, // ort: default threads (deterministic on CPU)
    ...over,
  })
}

interface Row {
  type: string
  step: number
  [k: string]: unknown
}
const readMetrics = (dir: string): Row[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row)

/** the deterministic part of a metrics row (timings dropped) */
function numbers(r: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) if (!/time|seconds|tokens_per_sec/.test(k) && !k.startsWith('sys/')) out[k] = v
  return out
}
function expectSameMetrics(a: Row[], b: Row[]): void {
  expect(b.map((r) => `${r.type}@${r.step}`)).toEqual(a.map((r) => `${r.type}@${r.step}`))
  a.forEach((ra, i) => {
    const na = numbers(ra)
    const nb = numbers(b[i]!)
    expect(Object.keys(nb).sort()).toEqual(Object.keys(na).sort())
    for (const [k, v] of Object.entries(na)) {
      if (typeof v === 'number') expect(nb[k] as number, `${ra.type}@${ra.step} ${k}`).toBe(v) // bit-identical
      else expect(nb[k]).toEqual(v)
    }
  })
}

async function train(cfg: ReturnType<typeof config>, runDir: string, o: { resumeFrom?: string; abortAfterStep?: number } = {}) {
  const ac = new AbortController()
  const p = await prepareRun({ config: cfg, runDir, signal: ac.signal, ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}) })
  const events: string[] = []
  const steps: StepEvent[] = []
  const vals: ValidationEvent[] = []
  p.trainer.on('start', (e) => events.push(`start@${e.step}`))
  p.trainer.on('step', (e) => {
    events.push(`step@${e.step}`)
    steps.push(e)
    if (o.abortAfterStep === e.step) ac.abort()
  })
  p.trainer.on('validation', (e) => {
    events.push(`val@${e.step}`)
    vals.push(e)
  })
  p.trainer.on('checkpoint', (e) => events.push(`${e.reason}@${e.step}`))
  p.trainer.on('done', (e) => events.push(`done:${e.status}@${e.step}`))
  try {
    const done = await p.trainer.run()
    return { done, events, steps, vals }
  } finally {
    await p.close()
  }
}

describe.each(['ort', 'tfjs'] as const)('trainer on %s', (engine) => {
  it('runs in the reference order and writes a self-contained run folder', async () => {
    const dir = join(tmp, `${engine}-straight`)
    const { done, events, steps, vals } = await train(config(engine), dir)
    expect(events).toEqual([
      'start@0', 'val@0',
      'step@0', 'step@1', 'step@2', 'step@3', 'val@4', 'periodic@4',
      'step@4', 'step@5', 'step@6', 'step@7', 'val@8', 'final@8', 'done:completed@8',
    ])
    expect(done).toMatchObject({ status: 'completed', step: 8, checkpoint: join(dir, 'final'), tokens: 8 * 2 * 4 * 16 })
    // step metrics: losses, lr schedule, gate metrics and controller after update
    expect(steps[0]!.lr).toBeCloseTo(lrAt0(), 12)
    expect(steps[7]!.lr).toBeCloseTo(lrAt7(), 15)
    expect(steps[3]!.gates!.gates.mean).toHaveLength(2)
    expect(steps[3]!.metrics['train/controller/mean/coefs/layer_00']).toBeDefined()
    expect(steps[3]!.metrics['train/gates/mean']).toBeGreaterThan(0)
    expect(vals[0]!.tokens).toBe(256)
    expect(vals[2]!.loss).toBeLessThan(vals[0]!.loss)
    expect(vals[2]!.metrics['val/zeros/mean/layer_01']).toBeDefined()
    // run folder
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))
    expect(run).toMatchObject({ status: 'completed', seed: 3, engine: { engine }, config: { training: { train_steps: 8 } }, data: { dataset: 'synthetic' } })
    expect(run.engine.backend).toMatch(engine === 'ort' ? /^ort-/ : /^tfjs-/)
    expect(typeof run.started_at).toBe('string')
    expect(typeof run.ended_at).toBe('string')
    const m = readMetrics(dir)
    expect(m.filter((r) => r.type === 'step')).toHaveLength(8)
    expect(m.filter((r) => r.type === 'validation').map((r) => r.step)).toEqual([0, 4, 8])
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['step-000004'])
    const fin = loadTrainingCheckpoint(join(dir, 'final'))
    expect(fin.state.step).toBe(8)
    expect(fin.optimizer.step).toBe(8)
    expect(fin.model.configJson).toMatchObject({ controller: { name: 'proportional' }, seed: 3, schedule: { warmup_fraction: 0.1 } })
  })

  it('N steps + cancel + resume N = 2N straight (same metrics to float tolerance)', async () => {
    const straight = readMetrics(join(tmp, `${engine}-straight`))
    // cancel right after a periodic checkpoint's step …
    const a = join(tmp, `${engine}-cancel-a`)
    const r1 = await train(config(engine), a, { abortAfterStep: 3 })
    expect(r1.events.slice(-3)).toEqual(['val@4', 'periodic@4', 'done:cancelled@4'])
    expect(JSON.parse(readFileSync(join(a, 'run.json'), 'utf8')).status).toBe('cancelled')
    const r2 = await train(config(engine), a, { resumeFrom: join(a, 'checkpoints', 'step-000004') })
    expect(r2.events[0]).toBe('start@4')
    expect(r2.events[1]).toBe('step@4')
    expectSameMetrics(straight, readMetrics(a))
    // … and between checkpoints: cancellation saves its own checkpoint first
    const b = join(tmp, `${engine}-cancel-b`)
    const r3 = await train(config(engine), b, { abortAfterStep: 1 })
    expect(r3.events.slice(-2)).toEqual(['cancel@2', 'done:cancelled@2'])
    expect(existsSync(join(b, 'checkpoints', 'step-000002'))).toBe(true)
    await train(config(engine), b, { resumeFrom: join(b, 'checkpoints', 'step-000002') })
    expectSameMetrics(straight, readMetrics(b))
    const run = JSON.parse(readFileSync(join(b, 'run.json'), 'utf8'))
    expect(run.status).toBe('completed')
    expect(run.resumes).toHaveLength(1)
    // the weights end identical to float tolerance
    const wa = loadModelCheckpoint(join(tmp, `${engine}-straight`, 'final')).weights.get('layers.1.feed_forward.w2.weight')!
    const wb = loadModelCheckpoint(join(b, 'final')).weights.get('layers.1.feed_forward.w2.weight')!
    wa.forEach((x, i) => expect(wb[i]).toBeCloseTo(x, 6))
  })
})

describe('trainer (ort)', () => {
  it('resumes from a periodic checkpoint of a copied finished run, and refuses to resume a finished run', async () => {
    const src = join(tmp, 'ort-straight')
    const copy = join(tmp, 'ort-copy')
    cpSync(src, copy, { recursive: true })
    await train(config('ort'), copy, { resumeFrom: join(copy, 'checkpoints', 'step-000004') })
    expectSameMetrics(readMetrics(src), readMetrics(copy))
    await expect(train(config('ort'), copy, { resumeFrom: join(copy, 'final') })).rejects.toThrow(/already finished 8 of 8 steps/)
    await expect(train(config('ort'), copy)).rejects.toThrow(/already holds a run/)
  })

  it('dense runs have no gate metrics and no controller update', async () => {
    const dir = join(tmp, 'ort-dense')
    const { steps, vals } = await train(config('ort', {}, false), dir)
    expect(steps.every((s) => s.gates === null)).toBe(true)
    expect(Object.keys(steps[0]!.metrics).some((k) => k.includes('gates') || k.includes('controller/'))).toBe(false)
    expect(Object.keys(vals[0]!.metrics)).toEqual(['val/loss', 'val/tokens'])
  })

  it('a failing run emits error, records status failed and rejects; a refused resume leaves the run untouched', async () => {
    const toks = makeSynthetic({ vocabSize: 32, seed: 9, trainTokens: 2_000, valTokens: 600 })
    const bad = Uint16Array.from(toks.train)
    bad.fill(40, 64 * 3) // ids ≥ vocab_size from the 4th batch on
    writeShard(join(tmp, 'oov_train.bin'), bad)
    writeShard(join(tmp, 'oov_val.bin'), toks.val)
    const cfg = config('ort', { data: { dataset: 'synthetic', train_shards: [join(tmp, 'oov_train.bin')], val_shards: [join(tmp, 'oov_val.bin')] } })
    const dir = join(tmp, 'ort-fail')
    const p = await prepareRun({ config: cfg, runDir: dir })
    const errors: string[] = []
    p.trainer.on('error', (e) => errors.push(`${e.step}: ${e.message}`))
    await expect(p.trainer.run()).rejects.toThrow(/40/)
    await p.close()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^1: /)
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))
    expect(run).toMatchObject({ status: 'failed', config: { training: { train_steps: 8 } } })
    expect(run.error).toMatch(/40/)

    const before = readFileSync(join(tmp, 'ort-straight', 'run.json'), 'utf8')
    const other = config('ort', { model: { dim: 32, n_layers: 2, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: false } })
    await expect(train(other, join(tmp, 'ort-straight'), { resumeFrom: join(tmp, 'ort-straight', 'checkpoints', 'step-000004') })).rejects.toThrow(/model config differs/)
    expect(readFileSync(join(tmp, 'ort-straight', 'run.json'), 'utf8')).toBe(before)
  })

  it('a final checkpoint evaluates to the final validation loss on the same windows', async () => {
    const syn = makeSynthetic({ vocabSize: 32, seed: 9, trainTokens: 20_000, valTokens: 2_000 })
    writeShard(join(tmp, 'syn_train.bin'), syn.train)
    writeShard(join(tmp, 'syn_val.bin'), syn.val)
    const cfg = config('ort', { data: { dataset: 'synthetic', train_shards: [join(tmp, 'syn_train.bin')], val_shards: [join(tmp, 'syn_val.bin')] } })
    const dir = join(tmp, 'ort-shards')
    const { vals } = await train(cfg, dir)
    const r = await evaluateCheckpoint({ checkpoint: join(dir, 'final'), data: join(tmp, 'syn_val.bin'), maxTokens: 256, batchSize: 3, engine: { engine: 'ort', threads: 1 } })
    expect(r.tokens).toBe(256)
    expect(r.windows).toBe(16)
    expect(r.batches).toBe(6) // 5 full batches of 3 and a last one of 1
    expect(r.loss).toBeCloseTo(vals.at(-1)!.loss, 5)
    expect(r.gates_mean).toHaveLength(2)
    expect(r.gates_mean[0]).toBeCloseTo(vals.at(-1)!.metrics['val/gates/mean/layer_00']!, 5)
    expect(r.zeros_mean).toHaveLength(2)
    expect(r.backend).toMatch(/^ort-/)
  })
})

function lrAt0(): number {
  // W = int(0.1·8) = 0 → as torch's SequentialLR: start_factor·base at step 0, annealed from there (schedule.ts)
  return 0.1 * 1e-3
}
/** The lr of the last of 8 steps (W = 0): 0.1·1e-3·½(1 + cos(π·6/8)), torch's value. */
function lrAt7(): number {
  return 0.1 * 1e-3 * 0.5 * (1 + Math.cos((6 * Math.PI) / 8))
}
