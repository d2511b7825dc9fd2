/**
 * The trainer–controller coupling with numbers (issue 13): on a real engine, every step's controller loss is
 * computed from the coefficients the controller held BEFORE that step (updated after the previous one), and every
 * update is fed exactly that step's gate means and variances. Replayed here from the logged metrics alone:
 *   controller_loss(s) = mean_ℓ(c^m_ℓ(s−1)·m̂_ℓ(s)) + mean_ℓ(c^v_ℓ(s−1)·v̂_ℓ(s))   (v̂ unbiased over the B·T gates)
 *   coefs(s) = a fresh controller, updated with the logged (m̂(0), σ²(0)), …, (m̂(s), σ²(s)) (σ² population)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createController } from '../controllers/index.js'
import { layerKey } from './gate-metrics.js'
import { parseRunConfig } from '../config/index.js'
import { prepareRun } from './run.js'

const tmp = mkdtempSync(join(tmpdir(), 'skipbench-coupling-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const B = 4
const T = 16
const L = 4
const STEPS = 12

describe.each(['ort', 'tfjs'] as const)('trainer–controller coupling on %s', (engine) => {
  it('the controller loss uses the previous step’s coefficients, and updates use each step’s gate statistics', async () => {
    const cfg = parseRunConfig({
      model: { dim: 16, n_layers: L, n_heads: 2, n_kv_heads: 1, vocab_size: 32, max_seq_len: T, zero_init_masks: false, gated_attention: 'key' },
      training: { batch_size: B, grad_acc_steps: 1, train_steps: STEPS, val_every: 0, val_tokens: 256, checkpoint_every: 0, keep_checkpoints: 1, seed: 5 },
      // a strong gain so the coefficients move visibly every step
      controller: { name: 'proportional', mean_target_start: 1, mean_target_end: 0.2, coef_update_multiplier: 0.5, delta_min: 0 },
      data: { dataset: 'synthetic', synthetic: { vocab_size: 32, train_tokens: 20_000, val_tokens: 2_000 } },
      engine: { engine, ...(engine === 'ort' ? {} : { backend: 'wasm' }) },
    })
    const dir = join(tmp, engine)
    const p = await prepareRun({ config: cfg, runDir: dir, signal: new AbortController().signal })
    try {
      await p.trainer.run()
    } finally {
      await p.close()
    }
    const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, number | string>)
      .filter((r) => r.type === 'step')
    expect(rows).toHaveLength(STEPS)
    const per = (r: Record<string, number | string>, key: string) => Array.from({ length: L }, (_, i) => r[`${key}/${layerKey(i)}`] as number)

    const replay = createController(cfg.controller, L)
    let moved = 0
    rows.forEach((r, s) => {
      const mean = per(r, 'train/gates/mean')
      const varPop = per(r, 'train/gates/var')
      // 1. the loss of step s used the coefficients before its update
      const before = replay.loss()
      if (before.kind !== 'linear') throw new Error(`expected a linear controller loss, got ${before.kind}`)
      const N = B * T
      const expected =
        mean.reduce((a, m, i) => a + before.meanCoefs[i]! * m, 0) / L + varPop.reduce((a, v, i) => a + before.varCoefs[i]! * v * (N / (N - 1)), 0) / L
      expect(Math.abs((r['train/controller_loss'] as number) - expected), `controller loss at step ${s}`).toBeLessThan(2e-6 + 1e-5 * Math.abs(expected))
      // 2. after the step, the controller holds exactly what an update with this step's statistics gives
      replay.update(mean, varPop)
      const after = replay.metrics('train/controller/')
      for (let i = 0; i < L; i++) {
        expect(r[`train/controller/mean/coefs/${layerKey(i)}`], `mean coef ${i} at step ${s}`).toBe(after[`train/controller/mean/coefs/${layerKey(i)}`])
        expect(r[`train/controller/var/coefs/${layerKey(i)}`], `var coef ${i} at step ${s}`).toBe(after[`train/controller/var/coefs/${layerKey(i)}`])
      }
      if (s > 0 && (r['train/controller/mean/coefs/mean'] as number) !== (rows[s - 1]!['train/controller/mean/coefs/mean'] as number)) moved++
    })
    // the coupling is exercised: the coefficients changed on most steps, and the loss term is not zero
    expect(moved).toBeGreaterThan(STEPS / 2)
    expect(rows.some((r) => Math.abs(r['train/controller_loss'] as number) > 1e-4)).toBe(true)
  }, 120_000)
})
