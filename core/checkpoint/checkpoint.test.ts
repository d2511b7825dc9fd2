import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { parseModelConfig } from '../model/config.js'
import { initWeights } from '../model/init.js'
import { paramSpecs } from '../model/params.js'
import {
  CheckpointError,
  listCheckpoints,
  loadModelCheckpoint,
  loadTrainingCheckpoint,
  pruneCheckpoints,
  readSafetensors,
  readSafetensorsHeader,
  resolveResume,
  saveModelCheckpoint,
  saveTrainingCheckpoint,
  writeSafetensors,
  type TrainerState,
} from './index.js'
import { stepDirName } from '../paths.js'

const here = dirname(fileURLToPath(import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'skipbench-ckpt-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** a safetensors file from raw little-endian bytes per tensor */
function rawFile(path: string, entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[]): void {
  const header: Record<string, unknown> = {}
  let off = 0
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] }
    off += e.bytes.length
  }
  const hj = Buffer.from(JSON.stringify(header))
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(hj.length))
  writeFileSync(path, Buffer.concat([len, hj, ...entries.map((e) => Buffer.from(e.bytes))]))
}
const u16 = (xs: number[]) => {
  const b = Buffer.alloc(2 * xs.length)
  xs.forEach((x, i) => b.writeUInt16LE(x, 2 * i))
  return new Uint8Array(b)
}

const tinyCfg = parseModelConfig({ dim: 16, n_layers: 2, n_heads: 2, n_kv_heads: 1, vocab_size: 32, max_seq_len: 8, zero_init_masks: false, gated_attention: 'key' })

describe('safetensors', () => {
  it('round-trips F32 tensors and metadata; data section 8-byte aligned', () => {
    const p = join(tmp, 'rt.safetensors')
    const a = Float32Array.from([1.5, -2, 3.25, Math.fround(0.1), 0, -0])
    writeSafetensors(p, [['a', { shape: [2, 3], data: a }], ['b', { shape: [1], data: Float32Array.of(7) }], ['empty', { shape: [0], data: new Float32Array(0) }]], { step: '12' })
    const h = readSafetensorsHeader(p)
    expect((h.tensors[0]!.begin) % 8).toBe(0)
    const { tensors, metadata } = readSafetensors(p)
    expect(metadata).toEqual({ step: '12' })
    expect(Array.from(tensors.get('a')!.data)).toEqual(Array.from(a))
    expect(tensors.get('a')!.shape).toEqual([2, 3])
    expect(tensors.get('b')!.dtype).toBe('F32')
    expect(tensors.get('empty')!.data.length).toBe(0)
  })

  it('widens BF16 exactly (bits << 16) and reads F16 and F64', () => {
    const p = join(tmp, 'dtypes.safetensors')
    const f64 = Buffer.alloc(16)
    f64.writeDoubleLE(0.1, 0)
    f64.writeDoubleLE(-3, 8)
    rawFile(p, [
      { name: 'bf', dtype: 'BF16', shape: [5], bytes: u16([0x3f80, 0xc000, 0x3e20, 0x7f80, 0x0001]) },
      { name: 'h', dtype: 'F16', shape: [4], bytes: u16([0x3c00, 0xc000, 0x0001, 0x7bff]) },
      { name: 'd', dtype: 'F64', shape: [2], bytes: new Uint8Array(f64) },
    ])
    const { tensors } = readSafetensors(p)
    const bf = tensors.get('bf')!.data
    expect(Array.from(bf.slice(0, 4))).toEqual([1, -2, 0.15625, Infinity])
    expect(new Uint32Array(bf.buffer)[4]).toBe(0x00010000) // a denormal keeps its exact bits
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, 2 ** -24, 65504])
    expect(Array.from(tensors.get('d')!.data)).toEqual([Math.fround(0.1), -3])
  })

  it('gives clear errors for truncated, corrupt and missing files', () => {
    const p = join(tmp, 'trunc.safetensors')
    writeSafetensors(p, [['x', { shape: [100], data: new Float32Array(100) }]])
    truncateSync(p, 200)
    expect(() => readSafetensors(p)).toThrow(/truncated.*"x"/)
    writeFileSync(p, Buffer.from('this is not a safetensors file at all'))
    expect(() => readSafetensors(p)).toThrow(CheckpointError)
    expect(() => readSafetensors(p)).toThrow(/corrupt or truncated safetensors file \(header length/)
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(5n)
    writeFileSync(p, Buffer.concat([len, Buffer.from('{"a":')]))
    expect(() => readSafetensors(p)).toThrow(/not valid JSON/)
    writeFileSync(p, Buffer.from([1, 2]))
    expect(() => readSafetensors(p)).toThrow(/shorter than the 8-byte/)
    expect(() => readSafetensors(join(tmp, 'nope.safetensors'))).toThrow(/file not found/)
    rawFile(p, [{ name: 'i', dtype: 'I64', shape: [1], bytes: new Uint8Array(8) }])
    expect(() => readSafetensors(p)).toThrow(/"i" has dtype I64/)
    rawFile(p, [{ name: 'w', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }])
    expect(() => readSafetensors(p)).toThrow(/"w".*8 bytes for shape \[3\] of F32/)
  })
})

describe('model checkpoints', () => {
  it('loads the paper’s released layout: HF config keys, model. prefix, BF16 embedding, no gated_attention → query', () => {
    const dir = join(here, 'fixtures', 'paper-format')
    const expected = JSON.parse(readFileSync(join(here, 'fixtures', 'paper-format.expected.json'), 'utf8')) as Record<
      string,
      { dtype: string; shape: number[]; sum: number; sumsq: number; first: number[] }
    >
    const m = loadModelCheckpoint(dir)
    expect(m.prefixed).toBe(true)
    expect(m.dtypes).toEqual({ BF16: 1, F32: Object.keys(expected).length - 1 })
    expect(m.config).toMatchObject({ dim: 16, n_layers: 2, n_heads: 2, n_kv_heads: 2, vocab_size: 32, zero_init_masks: false, gated_attention: 'query' })
    expect(m.configJson.torch_dtype).toBe('float32')
    for (const [name, e] of Object.entries(expected)) {
      const w = m.weights.get(name)!
      expect(w, name).toBeDefined()
      expect(Array.from(w.slice(0, 4))).toEqual(e.first) // exact: torch's bf16 → f32 is the same widening
      let s = 0
      let s2 = 0
      for (const x of w) {
        s += x
        s2 += x * x
      }
      expect(s).toBeCloseTo(e.sum, 10)
      expect(s2).toBeCloseTo(e.sumsq, 10)
    }
  })

  it('writes F32 with the model. prefix and config.json with reference keys + ours, and reads it back', () => {
    const dir = join(tmp, 'model-rt')
    mkdirSync(dir)
    const w = initWeights(tinyCfg, 3)
    saveModelCheckpoint(dir, tinyCfg, w, { controller: { name: 'proportional' }, seed: 3, data: { dataset: 'synthetic' } })
    const names = readSafetensorsHeader(join(dir, 'model.safetensors')).tensors.map((t) => t.name)
    expect(names[0]).toBe('model.tok_embeddings.weight')
    expect(names.every((n) => n.startsWith('model.'))).toBe(true)
    const cj = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
    expect(cj).toMatchObject({ dim: 16, n_kv_heads: 1, gated_attention: 'key', zero_init_masks: false, seed: 3, controller: { name: 'proportional' }, architectures: ['SkipMiddleModel'] })
    const back = loadModelCheckpoint(dir)
    expect(back.config).toEqual(tinyCfg)
    for (const p of paramSpecs(tinyCfg)) expect(Array.from(back.weights.get(p.name)!)).toEqual(Array.from(w.get(p.name)!))
  })

  it('accepts unprefixed names and the legacy mask_zero_init key', () => {
    const dir = join(tmp, 'legacy')
    mkdirSync(dir)
    const cfg = parseModelConfig({ ...tinyCfg, zero_init_masks: true })
    const w = initWeights(cfg, 1)
    writeSafetensors(join(dir, 'model.safetensors'), paramSpecs(cfg).map((p) => [p.name, { shape: p.shape, data: w.get(p.name)! }]))
    const { zero_init_masks: _z, gated_attention: _g, ...rest } = cfg
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...rest, mask_zero_init: false }))
    const m = loadModelCheckpoint(dir)
    expect(m.prefixed).toBe(false)
    expect(m.config.zero_init_masks).toBe(false)
  })

  it('names missing, unexpected and misshaped tensors with their shapes', () => {
    const dir = join(tmp, 'bad')
    mkdirSync(dir)
    const w = initWeights(tinyCfg, 1)
    const specs = paramSpecs(tinyCfg)
    const entries: [string, { shape: number[]; data: Float32Array }][] = specs
      .filter((p) => p.name !== 'output_norm.weight')
      .map((p) => [`model.${p.name}`, { shape: p.name === 'layers.0.attention.wq.weight' ? [8, 32] : p.shape, data: w.get(p.name)! }])
    entries.push(['model.extra.weight', { shape: [2], data: new Float32Array(2) }])
    writeSafetensors(join(dir, 'model.safetensors'), entries)
    writeFileSync(join(dir, 'config.json'), JSON.stringify(tinyCfg))
    const msg = (() => {
      try {
        loadModelCheckpoint(dir)
      } catch (e) {
        return (e as Error).message
      }
      return ''
    })()
    expect(msg).toMatch(/missing tensor "output_norm.weight" \(expected shape \[16\]\)/)
    expect(msg).toMatch(/tensor "layers.0.attention.wq.weight" has shape \[8, 32\], expected \[16, 16\]/)
    expect(msg).toMatch(/unexpected tensor "extra.weight" \(shape \[2\]\)/)
  })

  it('reports folders without config.json, invalid configs and missing weights clearly', () => {
    const dir = join(tmp, 'empty')
    mkdirSync(dir)
    expect(() => loadModelCheckpoint(dir)).toThrow(/not a checkpoint folder \(no config.json\)/)
    writeFileSync(join(dir, 'config.json'), '{ nope')
    expect(() => loadModelCheckpoint(dir)).toThrow(/config.json: not valid JSON/)
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ dim: 10, n_heads: 3 }))
    expect(() => loadModelCheckpoint(dir)).toThrow(/config.json: invalid model config: dim \(10\) must be divisible/)
    writeFileSync(join(dir, 'config.json'), JSON.stringify(tinyCfg))
    expect(() => loadModelCheckpoint(dir)).toThrow(/no model.safetensors/)
  })

  const hasNumpy = existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import numpy']).status === 0
  it.skipIf(!hasNumpy)('our files parse with an independent reader (python + numpy)', () => {
    const dir = join(tmp, 'model-rt')
    const py = `
import json, struct, numpy as np, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n])
e = h['model.layers.1.feed_forward.w2.weight']; s, t = e['data_offsets']
a = np.frombuffer(b[8+n+s:8+n+t], dtype='<f4').reshape(e['shape'])
print(json.dumps({'shape': list(a.shape), 'first': [float(x) for x in a.flatten()[:3]]}))`
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, join(dir, 'model.safetensors')], { encoding: 'utf8' }))
    const w = loadModelCheckpoint(dir).weights.get('layers.1.feed_forward.w2.weight')!
    expect(out.shape).toEqual([16, 64])
    expect(out.first).toEqual(Array.from(w.slice(0, 3)))
  })
})

describe('training checkpoints', () => {
  const state = (step: number): TrainerState => ({
    format: 'skipbench-trainer-state',
    version: 1,
    step,
    total_steps: 100,
    controller: { name: 'dummy' },
    data: { shard: 0, pos: 64 * step },
    rng: { s: [1, 2, 3, 4], spare: null },
    metrics: { tokens: 64 * step, train_seconds: 1.5, last_loss: 2.5, val_history: [{ step: 0, loss: 3.4, tokens: 128 }] },
    saved_at: new Date(0).toISOString(),
  })
  const w = initWeights(tinyCfg, 5)
  const m = new Map([...w].map(([k, v]) => [k, v.map((x) => x * 0.5)]))
  const v = new Map([...w].map(([k, x]) => [k, x.map((y) => y * y)]))

  it('saves atomically, loads weights + moments + state, prunes to keep-last-N, resolves resume points', () => {
    const run = join(tmp, 'run')
    for (const s of [10, 20, 30]) saveTrainingCheckpoint(join(run, 'checkpoints', stepDirName(s)), { config: tinyCfg, weights: w, extras: { seed: 5 }, optimizer: { step: s, m, v }, state: state(s) })
    expect(readdirSync(join(run, 'checkpoints')).sort()).toEqual(['step-000010', 'step-000020', 'step-000030'])
    const ck = loadTrainingCheckpoint(join(run, 'checkpoints', 'step-000020'))
    expect(ck.optimizer.step).toBe(20)
    expect(Array.from(ck.optimizer.m.get('output.weight')!)).toEqual(Array.from(m.get('output.weight')!))
    expect(Array.from(ck.optimizer.v.get('masks.0.linear.bias')!)).toEqual(Array.from(v.get('masks.0.linear.bias')!))
    expect(ck.state).toEqual(state(20))
    expect(ck.model.config).toEqual(tinyCfg)
    // overwrite in place
    saveTrainingCheckpoint(join(run, 'checkpoints', 'step-000030'), { config: tinyCfg, weights: w, extras: {}, optimizer: { step: 30, m, v }, state: { ...state(30), total_steps: 7 } })
    expect(loadTrainingCheckpoint(join(run, 'checkpoints', 'step-000030')).state.total_steps).toBe(7)
    expect(pruneCheckpoints(run, 2).map((d) => d.slice(-11))).toEqual(['step-000010'])
    saveTrainingCheckpoint(join(run, 'final'), { config: tinyCfg, weights: w, extras: {}, optimizer: { step: 30, m, v }, state: state(30) })
    expect(listCheckpoints(run).map((c) => [c.step, c.final])).toEqual([[20, false], [30, false], [30, true]])
    expect(resolveResume(run)).toEqual({ checkpoint: join(run, 'final'), runDir: run })
    expect(resolveResume(join(run, 'checkpoints', 'step-000020'))).toEqual({ checkpoint: join(run, 'checkpoints', 'step-000020'), runDir: run })
    expect(readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([])
    expect(() => resolveResume(join(tmp, 'nowhere'))).toThrow(/no such folder/)
    expect(() => resolveResume(tmp)).toThrow(/no training checkpoint found/)
  })

  it('rejects a checkpoint whose optimizer file lacks a moment', () => {
    const dir = join(tmp, 'run2', 'checkpoints', stepDirName(1))
    saveTrainingCheckpoint(dir, { config: tinyCfg, weights: w, extras: {}, optimizer: { step: 1, m, v }, state: state(1) })
    const t = readSafetensors(join(dir, 'optimizer.safetensors'))
    writeSafetensors(join(dir, 'optimizer.safetensors'), [...t.tensors].filter(([k]) => k !== 'v.output.weight'), t.metadata)
    expect(() => loadTrainingCheckpoint(dir)).toThrow(/missing optimizer moment "v.output.weight"/)
  })
})
