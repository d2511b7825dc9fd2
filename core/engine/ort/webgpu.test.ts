/**
 * onnxruntime's WebGPU provider trains the same model as the CPU provider (issue 14). Runs on lavapipe in CI
 * (tests/webgpu-gate.ts), so at micro shapes: every tiny preset's architecture (dense; gated with each
 * gated_attention mode, its proportional controller in the loop) shrunk to dim 32 × 4 layers, 16-token windows,
 * batch 2, trained 50 steps on both providers from the same data, seed and initialisation.
 * Before the fix (the RMSNorm kernel's 1/rms output, wrong on WebGPU, fed the backward pass) the losses parted
 * after the first update. The full-size tiny presets: `npm run check:webgpu`.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { webgpuSkipReason } from '../../../tests/webgpu-gate.js'
import { compareBackends } from '../../trainer/backend-agreement.js'

const webgpuSkip = await webgpuSkipReason()
const dataDir = mkdtempSync(join(tmpdir(), 'sb-webgpu-data-'))
const STEPS = 50
const micro = { model: { dim: 32, n_heads: 2, max_seq_len: 16 }, training: { batch_size: 2, val_tokens: 64 } }

it.skipIf(webgpuSkip === null)(`webgpu tests: skipped (${webgpuSkip})`, () => {})

describe.runIf(webgpuSkip === null)('webgpu agrees with cpu', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['tiny-dense', {}],
    ['tiny-gated', { model: { gated_attention: 'key' } }],
    ['tiny-gated', { model: { gated_attention: 'query' } }],
    ['tiny-gated', { model: { gated_attention: 'none' } }],
  ]
  it.each(cases)(`%s %j (micro shapes): ${STEPS} training steps within 1e-4 of cpu at every step`, async (preset, extra) => {
    const overrides = { ...micro, model: { ...micro.model, ...((extra.model as object) ?? {}) } }
    const r = await compareBackends({ preset, overrides, steps: STEPS, backends: ['cpu', 'webgpu'], dataDir, threads: 1 })
    expect(r.runs[1].engineInfo.backend).toBe('ort-webgpu')
    expect(r.diffs).toHaveLength(STEPS)
    const worst = r.diffs.indexOf(r.maxDiff)
    expect(r.maxDiff, `step ${worst}: cpu ${r.runs[0].loss[worst]} webgpu ${r.runs[1].loss[worst]}`).toBeLessThan(1e-4)
    // it trained: the loss moved (a frozen model would agree trivially)
    expect(r.runs[1].loss[0]! - r.runs[1].loss.at(-1)!).toBeGreaterThan(0.5)
  })
})
