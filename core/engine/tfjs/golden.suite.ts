/**
 * The tfjs engine against the float64 PyTorch golden fixtures (tests/fixtures/golden, tests/reference/README.md):
 * forward outputs, gradients, 5 AdamW steps with and without gradient accumulation. Shared by the per-backend
 * test files (tfjs has one backend per process; Vitest runs each file in its own process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goldenCaseNames, loadGoldenCase, maxAbsDiff, sliceBatch, type GoldenTrajectory } from '../../../tests/fixtures/golden/index.js'
import type { Batch } from '../engine.js'
import type { BackendName } from './backend.js'
import { createTfjsEngine } from './index.js'
import type { TfjsEngine } from './engine.js'

/** Forward tolerance (absolute; logits ~0.2, norms ~5, gates ≤ 1). */
const FWD_TOL = 1e-4

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  const d = maxAbsDiff(got, want)
  const show = (a: ArrayLike<number>) => Array.from({ length: Math.min(4, a.length) }, (_, i) => a[Math.max(0, d.at) + i]).join(', ')
  expect(d.diff, `${name}: max |Δ| ${d.diff} at ${d.at} (got ${show(got)} … want ${show(want)} …)`).toBeLessThanOrEqual(tol)
}

export function goldenSuite(backend: BackendName) {
  describe(`tfjs engine on ${backend} vs the PyTorch golden fixtures`, () => {
    let engine: TfjsEngine
    beforeAll(async () => {
      engine = await createTfjsEngine({ backend })
      expect(engine.info.backend).toBe(`tfjs-${backend}`)
    })
    afterAll(async () => engine.dispose())

    for (const name of goldenCaseNames()) {
      describe(name, () => {
        const c = loadGoldenCase(name)
        const e = c.expected
        const N = e.batch * e.seq
        const init = (t: GoldenTrajectory = e.trajectory) => engine.init({ config: c.config, weights: c.weights, optimizer: t.optimizer })

        it('forward: logits, loss, gates, masks, residual norms', async () => {
          await init()
          const r = await engine.evalStep(c.batch, { returnLogits: true, returnGates: true })
          expect(r.tokens).toBe(N)
          expect(Math.abs(r.ceSum / N - e.loss)).toBeLessThan(FWD_TOL)
          expectClose('logits', r.logits!, e.logits, FWD_TOL)
          expectClose('gates', r.rawGates!, e.gates, FWD_TOL)
          expectClose('masks', r.rawMasks!, e.masks, FWD_TOL)
          if (c.config.zero_init_masks) expect(r.gates).toBeNull()
          else {
            // moments of this batch = per-layer means over tokens of the fixture's gates, masks and norms
            const L = c.config.n_layers
            const perLayer = (a: number[], l: number, f: (x: number) => number) => a.slice(l * N, (l + 1) * N).reduce((s, x) => s + f(x), 0) / N
            for (let l = 0; l < L; l++) {
              expect(r.gates!.gates.mean[l]).toBeCloseTo(perLayer(e.gates, l, (x) => x), 5)
              expect(r.gates!.gates.meanSq[l]).toBeCloseTo(perLayer(e.gates, l, (x) => x * x), 5)
              expect(r.gates!.zeros.mean[l]).toBeCloseTo(perLayer(e.gates, l, (x) => (x === 0 ? 1 : 0)), 6)
              expect(r.gates!.resid.mean[l]! / perLayer(e.resid_norms, l, (x) => x)).toBeCloseTo(1, 5)
              expect(r.gates!.resid.meanSq[l]! / perLayer(e.resid_norms, l, (x) => x * x)).toBeCloseTo(1, 5)
            }
            for (let j = 0; j < L / 2; j++) expect(r.gates!.masks.mean[j]).toBeCloseTo(perLayer(e.masks, j, (x) => x), 5)
            expect(r.gates!.count).toBe(1)
          }
        })

        it('gradients of the mean CE w.r.t. every parameter', async () => {
          await init()
          const { loss, grads } = await engine.gradients(c.batch)
          expect(Math.abs(loss - e.loss)).toBeLessThan(FWD_TOL)
          expect([...grads.keys()].sort()).toEqual(Object.keys(e.grads).sort())
          for (const [k, g] of grads) {
            const want = e.grads[k]!
            const { scale } = maxAbsDiff(g, want)
            // fixtures hold 5 significant digits relative to the tensor's max; float32 adds ~1e-6 relative
            expectClose(`grad ${k}`, g, want, 2e-4 * scale + 1e-9)
          }
          if (c.config.zero_init_masks) for (const [k, g] of grads) if (k.startsWith('masks.')) expect(g.every((x) => x === 0)).toBe(true)
        })

        const trajectory = (t: GoldenTrajectory, micro: (b: Batch) => Batch[]) => async () => {
          await init(t)
          const losses: number[] = []
          const ces: number[] = []
          const ctrls: number[] = []
          for (let s = 0; s < t.steps; s++) {
            const r = await engine.trainStep(micro(c.batch), t.optimizer.lr, t.controller)
            losses.push(r.loss)
            ces.push(r.ce)
            ctrls.push(r.controllerLoss)
            expect(r.gates === null).toBe(c.config.zero_init_masks)
            if (r.gates) expect(r.gates.count).toBe(t.micro_batches)
          }
          expectClose('losses', losses, t.losses, 2e-5)
          expectClose('ce', ces, t.ce, 2e-5)
          expectClose('controller losses', ctrls, t.controller_loss, 1e-6)
          const after = await engine.evalStep(c.batch)
          expect(Math.abs(after.ceSum / N - t.ce_after)).toBeLessThan(2e-5)
          const w = await engine.getWeights()
          for (const [k, want] of Object.entries(t.final_params)) expectClose(`final ${k}`, w.get(k)!, want, 2e-5)
          const st = await engine.getOptimizerState()
          expect(st.step).toBe(t.steps)
        }

        it('5 AdamW steps on one batch (CE + controller loss)', trajectory(e.trajectory, (b) => [b]))
        it('5 AdamW steps with two accumulated micro-batches', trajectory(e.trajectory_acc2, (b) => [sliceBatch(b, 0, 1), sliceBatch(b, 1, 2)]))
        it('5 AdamW steps with weight decay 1.0 on every parameter group (torch.optim.AdamW)', trajectory(e.trajectory_wd, (b) => [b]))
      })
    }
  })
}
