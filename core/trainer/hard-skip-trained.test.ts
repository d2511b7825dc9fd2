/**
 * Hard skipping (spec H.13) on a TRAINED checkpoint, not only on hand-made weights (issue 13): a tiny key-gated model
 * is trained by the real trainer until its controller has driven a share of the gates to exactly 0; evaluating its
 * final checkpoint with blocks really skipped gives the dense loss within 1e-4, on tfjs and on onnxruntime (measured:
 * 15.7 % of token-layers skipped). The evaluation tokens are uniform random: the equality does not depend on them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeShard } from '../data/shard.js'
import { Rng } from '../util/rng.js'
import { evaluateCheckpoint } from './evaluate.js'
import { parseRunConfig } from '../config/index.js'
import { prepareRun } from './run.js'

const tmp = mkdtempSync(join(tmpdir(), 'skipbench-hardskip-trained-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const runDir = join(tmp, 'run')
const val = join(tmp, 'val.bin')

beforeAll(async () => {
  const cfg = parseRunConfig({
    model: { dim: 32, n_layers: 4, n_heads: 4, n_kv_heads: 2, vocab_size: 32, max_seq_len: 32, zero_init_masks: false, gated_attention: 'key' },
    training: { batch_size: 8, grad_acc_steps: 1, train_steps: 60, val_every: 0, val_tokens: 512, checkpoint_every: 0, keep_checkpoints: 1, seed: 2 },
    optimizer: { lr: 3e-3 },
    // a target of 0.2 in the middle layers and a strong gain: the masks learn to close gates within 60 steps
    controller: { name: 'proportional', mean_target_start: 1, mean_target_end: 0.2, coef_update_multiplier: 0.5, delta_min: 0 },
    data: { dataset: 'synthetic', synthetic: { vocab_size: 32, train_tokens: 50_000, val_tokens: 4_000 } },
    engine: { engine: 'ort' },
  })
  const p = await prepareRun({ config: cfg, runDir, signal: new AbortController().signal })
  try {
    await p.trainer.run()
  } finally {
    await p.close()
  }
  const rng = new Rng(3)
  const tokens = new Uint16Array(32 * 16 + 1)
  for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(rng.uniform() * 32)
  writeShard(val, tokens)
}, 240_000)

describe('hard skipping on a trained checkpoint', () => {
  for (const engine of [{ engine: 'tfjs' as const, backend: 'wasm' }, { engine: 'ort' as const }]) {
    it(`${engine.engine}: real skipping gives the dense loss within 1e-4`, async () => {
      const r = await evaluateCheckpoint({ checkpoint: join(runDir, 'final'), data: val, batchSize: 4, hardSkip: true, engine })
      const h = r.hard_skip!
      console.log(`${engine.engine}: trained checkpoint, zero fraction ${h.zero_fraction.toFixed(3)}, loss ${r.loss.toFixed(6)} dense vs ${h.loss.toFixed(6)} skipped`)
      expect(h.zero_fraction).toBeGreaterThan(0.05) // the training closed gates: blocks are really skipped
      expect(h.zero_fraction).toBeLessThan(1)
      expect(Math.abs(h.loss - r.loss)).toBeLessThan(1e-4)
      expect(Math.abs(h.loss - h.loss_dense)).toBeLessThan(1e-4)
    }, 120_000)
  }
})
