// `evaluateCheckpoint({ hardSkip })` (spec H.13) on a key-gated checkpoint whose masks skip many token-layers:
// with the default engine (onnxruntime) and with tfjs, the hard-skip loss equals the dense loss within 1e-4.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { saveModelCheckpoint } from '../checkpoint/index.js'
import { writeShard } from '../data/shard.js'
import { parseModelConfig } from '../model/config.js'
import { initWeights } from '../model/init.js'
import { Rng } from '../util/rng.js'
import { evaluateCheckpoint } from './evaluate.js'

function checkpoint(gatedAttention: 'key' | 'query') {
  const config = parseModelConfig({ dim: 32, n_layers: 4, n_heads: 4, n_kv_heads: 2, vocab_size: 64, max_seq_len: 32, zero_init_masks: false, gated_attention: gatedAttention })
  const w = initWeights(config, 7)
  // push the accumulated masks over 1 for a good share of tokens: biases 0.45 per first-half layer, larger weights
  const rng = new Rng(11)
  for (let j = 0; j < 2; j++) {
    w.get(`masks.${j}.linear.bias`)![0] = 0.45
    const m = w.get(`masks.${j}.linear.weight`)!
    for (let i = 0; i < m.length; i++) m[i] = rng.normal() * 0.15
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-hardskip-'))
  saveModelCheckpoint(dir, config, w)
  const tokens = new Uint16Array(32 * 9 + 1)
  for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(rng.uniform() * 64)
  writeShard(join(dir, 'val.bin'), tokens)
  return dir
}

describe('hard-skip evaluation', () => {
  it('default engine (onnxruntime): the dense loss with blocks really skipped, measured and predicted speed-ups', async () => {
    const dir = checkpoint('key')
    const r = await evaluateCheckpoint({ checkpoint: dir, data: join(dir, 'val.bin'), batchSize: 4, hardSkip: true })
    expect(r.engine).toBe('ort')
    const h = r.hard_skip!
    expect(h.zero_fraction).toBeGreaterThan(0.2)
    expect(Math.abs(h.loss - r.loss)).toBeLessThan(1e-4)
    expect(Math.abs(h.loss_dense - r.loss)).toBeLessThan(1e-6)
    expect(h.predicted_speedup).toBeGreaterThan(1.1)
    expect(h.measured_speedup).toBeGreaterThan(0)
  })

  it('tfjs engine: the same, and the same loss as onnxruntime', async () => {
    const dir = checkpoint('key')
    const hs = await evaluateCheckpoint({ checkpoint: dir, data: join(dir, 'val.bin'), batchSize: 4, hardSkip: true, engine: { engine: 'tfjs', backend: 'wasm' } })
    expect(hs.engine).toBe('tfjs')
    const h = hs.hard_skip!
    expect(h.zero_fraction).toBeGreaterThan(0.2)
    expect(Math.abs(h.loss - h.loss_dense)).toBeLessThan(1e-4)
    expect(Math.abs(h.loss - hs.loss)).toBeLessThan(1e-4)
    expect(h.predicted_speedup).toBeGreaterThan(1.1)
    expect(h.measured_speedup).toBeGreaterThan(0)
    const ort = await evaluateCheckpoint({ checkpoint: dir, data: join(dir, 'val.bin'), batchSize: 4, engine: { engine: 'ort' } })
    expect(ort.hard_skip).toBeNull()
    expect(Math.abs(h.loss - ort.loss)).toBeLessThan(1e-4)
    expect(ort.tokens).toBe(hs.tokens)
  })

  it('refuses models whose skipped tokens are still attended to, on either engine', async () => {
    const q = checkpoint('query')
    await expect(evaluateCheckpoint({ checkpoint: q, data: join(q, 'val.bin'), hardSkip: true })).rejects.toThrow(/key/)
    await expect(evaluateCheckpoint({ checkpoint: q, data: join(q, 'val.bin'), hardSkip: true, engine: { engine: 'tfjs', backend: 'wasm' } })).rejects.toThrow(/key/)
  })
})
