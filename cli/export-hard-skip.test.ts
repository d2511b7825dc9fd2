/**
 * CLI (spawned as a user would): `eval --hard-skip --json` on the default engine, `export` to ONNX (checked by the
 * official onnx checker with full_check, then run on onnxruntime against the engine's logits) and to safetensors
 * (reference names, config.json beside it, bf16 round trip).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { afterAll, describe, expect, it } from 'vitest'
import { loadModelCheckpoint, readSafetensors, saveModelCheckpoint, toBf16 } from '../core/checkpoint/index.js'
import { writeShard } from '../core/data/shard.js'
import { REFERENCE_OPTIMIZER } from '../core/engine/engine.js'
import { createOrtEngine } from '../core/engine/ort/index.js'
import { parseModelConfig } from '../core/model/config.js'
import { initWeights } from '../core/model/init.js'
import { Rng } from '../core/util/rng.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'skipbench.mjs')
const tmp = mkdtempSync(join(tmpdir(), 'skipbench-export-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function sb(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

// a key-gated checkpoint whose masks put S ≥ 1 for a good share of tokens, and a shard to evaluate it on
const config = parseModelConfig({ dim: 32, n_layers: 4, n_heads: 4, n_kv_heads: 2, vocab_size: 64, max_seq_len: 32, zero_init_masks: false, gated_attention: 'key' })
const weights = initWeights(config, 7)
const rng = new Rng(11)
for (let j = 0; j < 2; j++) {
  weights.get(`masks.${j}.linear.bias`)![0] = 0.45
  const m = weights.get(`masks.${j}.linear.weight`)!
  for (let i = 0; i < m.length; i++) m[i] = rng.normal() * 0.15
}
const ck = join(tmp, 'ck')
mkdirSync(ck)
saveModelCheckpoint(ck, config, weights)
const tokens = new Uint16Array(32 * 9 + 1)
for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(rng.uniform() * 64)
writeShard(join(tmp, 'val.bin'), tokens)

const onnxChecker = (path: string) =>
  spawnSync('/usr/bin/python3', ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', path], { encoding: 'utf8' })

describe('skipbench eval --hard-skip and export', () => {
  it('eval --hard-skip --json on the default engine: hard_skip.loss within 1e-4 of loss, measured and predicted speed-ups', () => {
    const r = sb('eval', '--checkpoint', ck, '--data', join(tmp, 'val.bin'), '--batch-size', '4', '--hard-skip', '--json')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as { loss: number; engine: string; hard_skip: { loss: number; zero_fraction: number; measured_speedup: number; predicted_speedup: number } }
    expect(j.engine).toBe('ort')
    expect(j.hard_skip.zero_fraction).toBeGreaterThan(0.2)
    expect(Math.abs(j.hard_skip.loss - j.loss)).toBeLessThan(1e-4)
    expect(j.hard_skip.measured_speedup).toBeGreaterThan(0)
    expect(j.hard_skip.predicted_speedup).toBeGreaterThan(1.1)
  })

  it('export --format onnx: passes onnx.checker full_check and reproduces the engine logits at any batch and length', async () => {
    const out = join(tmp, 'model.onnx')
    const r = sb('export', '--checkpoint', ck, '--format', 'onnx', '--out', out, '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'onnx', dtype: 'f32', inputs: ['input_ids'], outputs: ['logits', 'gates'] })
    const chk = onnxChecker(out)
    expect(chk.stderr).toBe('')
    expect(chk.stdout.trim()).toBe('ok')

    const e = await createOrtEngine({ provider: 'cpu', threads: 1 })
    await e.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
    const s = await ort.InferenceSession.create(out)
    for (const [B, T] of [
      [2, 32],
      [1, 7],
    ] as const) {
      const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 13 + 5) % 64)
      const ref = await e.evalStep({ inputs: ids, targets: ids, batchSize: B, seqLen: T }, { returnLogits: true, returnGates: true })
      const o = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(Array.from(ids, BigInt)), [B, T]) })
      expect(o.logits!.dims).toEqual([B, T, 64])
      const lg = o.logits!.data as Float32Array
      let d = 0
      for (let i = 0; i < lg.length; i++) d = Math.max(d, Math.abs(lg[i]! - ref.logits![i]!))
      expect(d).toBeLessThan(1e-5)
      expect(Array.from(o.gates!.data as Float32Array)).toEqual(Array.from(ref.rawGates!))
    }
    await s.release()
    await e.dispose()

    const bf = join(tmp, 'model-bf16.onnx')
    expect(sb('export', '--checkpoint', ck, '--format', 'onnx', '--out', bf, '--dtype', 'bf16').code).toBe(0)
    expect(onnxChecker(bf).stdout.trim()).toBe('ok')
    expect(readFileSync(bf).length).toBeLessThan(0.6 * readFileSync(out).length)
  })

  it('export --format safetensors: reference names, config.json beside it, bf16 round trip', () => {
    const dir = join(tmp, 'st')
    mkdirSync(dir)
    const out = join(dir, 'model.safetensors')
    const r = sb('export', '--checkpoint', ck, '--format', 'safetensors', '--out', out, '--dtype', 'bf16')
    expect(r.code).toBe(0)
    expect(existsSync(join(dir, 'config.json'))).toBe(true)
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
    expect(cfg).toMatchObject({ dim: 32, n_layers: 4, gated_attention: 'key', torch_dtype: 'bfloat16' })
    const { tensors } = readSafetensors(out)
    expect(tensors.get('model.tok_embeddings.weight')!.dtype).toBe('BF16')
    expect(tensors.has('model.layers.0.attention.wq.weight')).toBe(true)
    const back = loadModelCheckpoint(dir)
    const w = weights.get('layers.1.feed_forward.w1.weight')!
    const bits = toBf16(w)
    const got = back.weights.get('layers.1.feed_forward.w1.weight')!
    expect(Array.from(got.slice(0, 50))).toEqual(Array.from(bits.slice(0, 50), (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]))
  })

  it('bad input: one clear line, nothing overwritten', () => {
    let r = sb('export', '--checkpoint', ck, '--format', 'tflite', '--out', join(tmp, 'x'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/--format.*onnx or safetensors/)
    r = sb('export', '--checkpoint', ck, '--format', 'safetensors', '--out', join(ck, 'model.safetensors'), '--dtype', 'bf16')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/checkpoint folder itself/)
    expect(readSafetensors(join(ck, 'model.safetensors')).tensors.get('model.tok_embeddings.weight')!.dtype).toBe('F32')
    r = sb('export', '--checkpoint', ck, '--format', 'onnx', '--out', join(tmp, 'nowhere', 'm.onnx'))
    expect(r.stderr).toMatch(/does not exist/)
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
  })
})
