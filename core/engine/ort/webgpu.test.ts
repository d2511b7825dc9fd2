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
import type { Batch, ControllerLoss } from '../engine.js'
import { parseModelConfig } from '../../model/config.js'
import { initWeights } from '../../model/init.js'
import { compareBackends } from '../../trainer/backend-agreement.js'
import { deviceLabel } from '../../report/device.js'
import { formatRunDetails, showRun } from '../../jobs/commands.js'
import { ingestRunFolder } from '../../store/ingest.js'
import { openStore } from '../../store/store.js'
import { getPreset, mergeConfig, parseRunConfig } from '../../config/index.js'
import { prepareRun } from '../../trainer/run.js'
import { displayDevices, formatAdapter, type AdapterInfo } from './adapter.js'
import { createOrtEngine, type OrtEngine } from './ort-engine.js'
import { calibrate, decideAuto, resolveProvider } from './session.js'
import { formatPlacement } from './placement.js'

const webgpuSkip = await webgpuSkipReason()
const dataDir = mkdtempSync(join(tmpdir(), 'sb-webgpu-data-'))
const STEPS = 50
const micro = { model: { dim: 32, n_heads: 2, max_seq_len: 16 }, training: { batch_size: 2, val_tokens: 64 } }

// counted as skipped, with the reason, only where WebGPU is missing (outside CI)
if (webgpuSkip !== null) it.skip(`webgpu tests: skipped (${webgpuSkip})`, () => {})

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

const microModel = (dim: number, gated: boolean) =>
  parseModelConfig({ dim, n_layers: 4, n_heads: 2, vocab_size: 257, max_seq_len: 16, zero_init_masks: !gated, gated_attention: 'key' })
const optimizer = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1 }
const batch = (B: number, T: number, k = 0): Batch => ({
  batchSize: B,
  seqLen: T,
  inputs: Int32Array.from({ length: B * T }, (_, i) => (i * 7 + k) % 257),
  targets: Int32Array.from({ length: B * T }, (_, i) => (i * 11 + k) % 257),
})
const linear: ControllerLoss = { kind: 'linear', meanCoefs: [0.1, 0.1, 0.1, 0.1], varCoefs: [0.01, 0.01, 0.01, 0.01] }

describe.runIf(webgpuSkip === null)('webgpu placement and device-resident state', () => {
  it.each([
    ['dense', false, 1 << 24],
    ['gated, linear controller', true, 1 << 24],
    ['gated, chunked cross-entropy', true, 2000],
  ] as const)('%s: every node of the training-step and evaluation graphs runs on webgpu, no copies inside', async (_name, gated, ceChunkElements) => {
    const e = await createOrtEngine({ provider: 'webgpu', threads: 1, ceChunkElements })
    try {
      const config = microModel(32, gated)
      await e.init({ config, weights: initWeights(config, 0), optimizer })
      const placement = await e.placement(batch(2, 16), gated ? linear : { kind: 'none' })
      expect(placement.map((p) => p.graph)).toEqual(['train step', 'eval'])
      for (const p of placement) {
        expect(Object.keys(p.byProvider), formatPlacement(p)).toEqual(['webgpu'])
        expect(p.exceptions, formatPlacement(p)).toEqual([])
        expect(p.copies, formatPlacement(p)).toEqual([])
        const ops = p.byProvider.webgpu!
        expect(ops.Gemm, 'the graph really ran (matmuls profiled)').toBeGreaterThan(10)
      }
      // the training graph includes the backward pass and AdamW, the evaluation graph does not
      expect(placement[0]!.byProvider.webgpu!.ScatterElements).toBeGreaterThan(0)
      expect(placement[1]!.byProvider.webgpu!.ScatterElements).toBeUndefined()
    } finally {
      await e.dispose()
    }
  })

  it('parameters and Adam moments stay on the GPU: host↔device bytes per step do not grow with the model', async () => {
    const perStep: Record<number, { hostToDevice: number; deviceToHost: number }[]> = {}
    const params: Record<number, number> = {}
    const final: Record<string, Map<string, Float32Array>> = {}
    for (const dim of [32, 96]) {
      for (const provider of ['webgpu', 'cpu'] as const) {
        const e = await createOrtEngine({ provider, threads: 1 })
        try {
          const config = microModel(dim, true)
          const w0 = initWeights(config, 0)
          params[dim] = [...w0.values()].reduce((s, a) => s + a.length, 0)
          await e.init({ config, weights: w0, optimizer })
          for (let s = 0; s < 3; s++) {
            await e.trainStep([batch(2, 16, s), batch(2, 16, s + 1)], 1e-3, linear) // two micro-batches: accumulated gradients too
            if (provider === 'webgpu') (perStep[dim] ??= []).push(e.lastTransfer!)
            else expect(e.lastTransfer).toBeNull()
          }
          final[`${provider}${dim}`] = await e.getWeights() // checkpoints come back to the host
          const st = await e.getOptimizerState()
          expect(st.step).toBe(3)
          expect([...st.m.values()].some((m) => m.some((x) => x !== 0))).toBe(true)
        } finally {
          await e.dispose()
        }
      }
    }
    expect(params[96]! / params[32]!).toBeGreaterThan(4)
    // the first step uploads the initial state; afterwards only tokens, targets, scalars and statistics move
    for (const dim of [32, 96]) {
      expect(perStep[dim]![0]!.hostToDevice).toBeGreaterThan(params[dim]! * 4 * 3) // p, m, v uploaded once
      expect(perStep[dim]![2]!.hostToDevice).toBeLessThan(4096)
      expect(perStep[dim]![2]!.deviceToHost).toBeLessThan(4096)
    }
    expect(perStep[96]![2]).toEqual(perStep[32]![2])
    expect(perStep[96]![1]).toEqual(perStep[32]![1])
    // and the downloaded weights are the CPU provider's, to float tolerance
    for (const dim of [32, 96]) {
      const [a, b] = [final[`webgpu${dim}`]!, final[`cpu${dim}`]!]
      for (const [k, x] of b) {
        const y = a.get(k)!
        const worst = x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0)
        expect(worst, k).toBeLessThan(1e-4) // 3 AdamW steps of lr 1e-3: at most a tenth of one step apart
      }
    }
  })
})

describe.runIf(webgpuSkip === null)('webgpu adapter and --backend auto', () => {
  it('names the adapter a WebGPU engine runs on (lavapipe here: a CPU device) and records it with the engine info', async () => {
    const e = await createOrtEngine({ provider: 'webgpu', threads: 1 })
    try {
      expect(e.adapter).toBeDefined()
      expect(e.info.versions.adapter).toBe(formatAdapter(e.adapter!))
      expect(e.info.versions['adapter.type']).toBe(e.adapter!.type)
      if (displayDevices().length === 0) {
        // no GPU in this machine, so the adapter Dawn found is Mesa's software rasteriser
        expect(e.adapter).toMatchObject({ vendor: 'Mesa', architecture: 'llvmpipe (CPU)', type: 'cpu' })
        expect(e.adapter!.evidence).toMatch(/libvulkan_lvp/)
      }
    } finally {
      await e.dispose()
    }
  })

  it('auto never chooses a CPU-type adapter such as lavapipe, and says why', async () => {
    const calibrations: string[] = []
    const spy: typeof calibrate = async (p) => {
      calibrations.push(p)
      return { provider: p, gflop: 1, gpuMs: 1, cpuMs: 1000, speedup: 1000 } // would win any race
    }
    const probed = await resolveProvider('auto', { calibrate: spy, probeWithoutGpu: true })
    if (displayDevices().length === 0) {
      expect(probed.provider).toBe('cpu')
      expect(probed.notes.join('; ')).toMatch(/webgpu not used: its adapter is a CPU device, Mesa llvmpipe \(CPU\)/)
      expect(calibrations).toEqual([]) // refused before any calibration
      // the default path does not even initialise Vulkan without a GPU in the machine
      const plain = await resolveProvider('auto', { calibrate: spy })
      expect(plain.provider).toBe('cpu')
      expect(plain.notes.join('; ')).toMatch(/webgpu not used: no GPU in this machine/)
      const engine = await createOrtEngine({ provider: 'auto', threads: 1 })
      expect(engine.info.backend).toBe('ort-cpu')
      expect(engine.info.versions.notes).toMatch(/webgpu not used/)
      await engine.dispose()
    }
  })

  it('auto takes a GPU candidate only when the measured calibration shows it faster; lavapipe loses it anyway', async () => {
    const gpu: AdapterInfo = { vendor: 'NVIDIA', architecture: 'Hopper', name: 'H100', type: 'gpu', evidence: 'test' }
    const cal = (speedup: number) => ({ provider: 'webgpu' as const, gflop: 2.1, gpuMs: 10, cpuMs: 10 * speedup, speedup })
    expect(decideAuto(cal(3), gpu)).toMatchObject({ provider: 'webgpu', note: expect.stringMatching(/auto chose webgpu on NVIDIA Hopper \(H100\): calibration/) })
    expect(decideAuto(cal(1.2), gpu)).toMatchObject({ provider: 'cpu', note: expect.stringMatching(/below the 1.5× auto needs/) })
    expect(decideAuto(cal(100), { ...gpu, type: 'cpu' }).provider).toBe('cpu')
    // the real calibration on this machine's adapter
    const c = await calibrate('webgpu', 1)
    expect(c.speedup).toBeCloseTo(c.cpuMs / c.gpuMs, 10)
    if (displayDevices().length === 0) expect(decideAuto(c).provider, `lavapipe ${c.gpuMs} ms vs cpu ${c.cpuMs} ms`).toBe('cpu')
  })
})

describe.runIf(webgpuSkip === null)('a webgpu run records its adapter', () => {
  it('run.json → store → `runs show` names the adapter (vendor, architecture)', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'sb-webgpu-run-'))
    const base = getPreset('tiny-dense')!.config
    const config = parseRunConfig(
      mergeConfig(structuredClone(base), { ...micro, training: { ...micro.training, train_steps: 2, val_every: 2, checkpoint_every: 0 } }),
    )
    const run = await prepareRun({ config, runDir, dataDir, engine: { engine: 'ort', backend: 'webgpu', threads: 1 } })
    try {
      await run.trainer.run()
    } finally {
      await run.close()
    }
    const store = openStore(join(runDir, 'db.sqlite'))
    try {
      const { runId } = ingestRunFolder(store, runDir)
      const text = formatRunDetails(showRun(store, runId))
      const adapter = (run.engine as OrtEngine).adapter!
      expect(text).toContain(`device     ${deviceLabel('ort-webgpu', { adapter: formatAdapter(adapter), 'adapter.type': adapter.type })}`)
      if (adapter.type === 'cpu') expect(text).toMatch(/device {5}Mesa llvmpipe \(CPU\) .* a CPU device, not a GPU/)
    } finally {
      store.close()
    }
  })
})
