/**
 * The onnxruntime engine against the float64 PyTorch golden fixtures (tests/fixtures/golden): forward pass
 * (logits, loss, gates, masks, block-output norms), gradients of every parameter, and the 5-step AdamW
 * trajectories (one micro-batch, and two accumulated micro-batches) with the linear controller loss.
 * On the CPU provider and on the WebGPU provider (lavapipe in CI; see tests/webgpu-gate.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goldenCaseNames, loadGoldenCase, maxAbsDiff, sliceBatch, type GoldenCase, type GoldenTrajectory } from '../../../tests/fixtures/golden/index.js'
import { dims } from '../../model/config.js'
import { webgpuSkipReason } from '../../../tests/webgpu-gate.js'
import { createOrtEngine, type OrtEngine } from './ort-engine.js'

const names = goldenCaseNames()
const webgpuSkip = await webgpuSkipReason()
const providers = webgpuSkip === null ? (['cpu', 'webgpu'] as const) : (['cpu'] as const)
const cases = providers.flatMap((p) => names.map((n) => [n, p] as const))

// counted as skipped, with the reason, only where WebGPU is missing (outside CI)
if (webgpuSkip !== null) it.skip(`golden fixtures on webgpu: skipped (${webgpuSkip})`, () => {})

/** |a − b| ≤ tol · max(|b|_∞, floor) */
function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, floor = 1) {
  const { diff, scale, at } = maxAbsDiff(a, b)
  expect(diff, `${what}: max diff ${diff} at ${at} (scale ${scale})`).toBeLessThanOrEqual(tol * Math.max(scale, floor))
}

describe.each(cases)('golden %s on %s', (name, provider) => {
  let c: GoldenCase
  let e: OrtEngine
  beforeAll(async () => {
    c = loadGoldenCase(name)
    e = await createOrtEngine({ provider, threads: 1 })
  })
  afterAll(() => e.dispose())

  it('forward: logits, loss, gates, masks, block-output norms', async () => {
    await e.init({ config: c.config, weights: c.weights, optimizer: c.expected.trajectory.optimizer })
    const r = await e.evalStep(c.batch, { returnLogits: true, returnGates: true })
    expectClose(r.logits!, c.expected.logits, 1e-4, 'logits')
    expect(Math.abs(r.ceSum / r.tokens - c.expected.loss)).toBeLessThan(1e-4)
    expectClose(r.rawGates!, c.expected.gates, 1e-5, 'gates')
    expectClose(r.rawMasks!, c.expected.masks, 1e-5, 'masks')
    const { L } = dims(c.config)
    const N = c.batch.batchSize * c.batch.seqLen
    if (r.gates) {
      const residMean = Array.from({ length: L }, (_, l) => c.expected.resid_norms.slice(l * N, (l + 1) * N).reduce((s, x) => s + x, 0) / N)
      expectClose(r.gates.resid.mean, residMean, 1e-5, 'resid mean')
      const gateMean = Array.from({ length: L }, (_, l) => c.expected.gates.slice(l * N, (l + 1) * N).reduce((s, x) => s + x, 0) / N)
      expectClose(r.gates.gates.mean, gateMean, 1e-5, 'gate mean')
      const zeros = Array.from({ length: L }, (_, l) => c.expected.gates.slice(l * N, (l + 1) * N).filter((x) => Math.abs(x) < 1e-8).length / N)
      expectClose(r.gates.zeros.mean, zeros, 0, 'zeros mean')
    } else expect(c.config.zero_init_masks).toBe(true)
  })

  it('gradients of every parameter (d mean CE)', async () => {
    await e.init({ config: c.config, weights: c.weights, optimizer: c.expected.trajectory.optimizer })
    const g = await e.gradients(c.batch)
    for (const [k, ref] of Object.entries(c.expected.grads)) expectClose(g.get(k)!, ref, 2e-4, `grad ${k}`, 1e-6)
  })

  const trajectory = async (t: GoldenTrajectory, micro: number) => {
    await e.init({ config: c.config, weights: c.weights, optimizer: t.optimizer })
    const B = c.batch.batchSize
    const parts = Array.from({ length: micro }, (_, i) => sliceBatch(c.batch, (i * B) / micro, ((i + 1) * B) / micro))
    for (let s = 0; s < t.steps; s++) {
      const r = await e.trainStep(parts, t.optimizer.lr, t.controller)
      expect(Math.abs(r.loss - t.losses[s]!), `loss step ${s}`).toBeLessThan(1e-4)
      expect(Math.abs(r.ce - t.ce[s]!), `ce step ${s}`).toBeLessThan(1e-4)
      expect(Math.abs(r.controllerLoss - t.controller_loss[s]!), `controller loss step ${s}`).toBeLessThan(1e-5)
    }
    const after = await e.evalStep(c.batch)
    expect(Math.abs(after.ceSum / after.tokens - t.ce_after)).toBeLessThan(1e-4)
    const w = await e.getWeights()
    for (const [k, ref] of Object.entries(t.final_params)) expectClose(w.get(k)!, ref, 1e-4, `final ${k}`, 1e-2)
    expect((await e.getOptimizerState()).step).toBe(t.steps)
  }
  it('5 AdamW steps, one micro-batch', () => trajectory(c.expected.trajectory, 1))
  it('5 AdamW steps, two accumulated micro-batches', () => trajectory(c.expected.trajectory_acc2, c.expected.trajectory_acc2.micro_batches))
  it('5 AdamW steps with weight decay 1.0 on every parameter group (torch.optim.AdamW)', () => {
    expect(c.expected.trajectory_wd.optimizer.weight_decay).toBe(1)
    return trajectory(c.expected.trajectory_wd, 1)
  })
})
