/**
 * Synthetic stored runs for scale tests and the report benchmark: real rows in a real store (runs with the paper
 * grid's configs at the tiny scale, seeds replicated, and the metrics the trainer logs: train/loss, train/zeros/mean
 * at every step, per-layer train/gates/mean, val/loss, val/tokens, val/zeros/mean) — but the values are made up, no
 * training happens. Everything the report reads comes through the same store API as for trained runs.
 */
import type { Store } from '../store/store.js'
import type { JsonObject, MetricPoint } from '../store/types.js'
import { expandSweep, paperGrid } from '../sweeps/index.js'
import { layerKey } from '../trainer/gate-metrics.js'
import { runConfigToJson, targetEnd } from '../config/index.js'
import { mulberry32 } from '../util/rng.js'

export interface SyntheticExperimentOptions {
  experiment: string
  runs: number
  /** optimizer steps of every run (default 50) */
  steps?: number
  /** validations per run (default 5) */
  validations?: number
}


/** Store `runs` completed synthetic runs of the tiny paper grid (dense, nocontrol, gated; seeds 0, 1, ...). */
export function seedSyntheticExperiment(store: Store, o: SyntheticExperimentOptions): { experimentId: number; runIds: number[] } {
  const steps = o.steps ?? 50
  const nVal = o.validations ?? 5
  const seeds = Math.ceil(o.runs / 22)
  const sweep = expandSweep(paperGrid({ scale: 'tiny', seeds, set: { 'training.train_steps': steps, 'training.val_every': Math.max(1, Math.floor(steps / nVal)) } }))
  const points = sweep.points.slice(0, o.runs)
  const exp = store.experiments.ensure(o.experiment, `synthetic tiny paper grid: ${points.length} runs, ${steps} steps (made-up metrics)`)
  const runIds: number[] = []
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  store.transaction(() => {
    points.forEach((p, i) => {
      const c = p.config
      const L = c.model.n_layers
      const gated = !c.model.zero_init_masks
      const end = targetEnd(c) // core/config's one definition: null for dense and uncontrolled runs
      const r = mulberry32(1000 + i)
      const zero = end === null ? 0 : (1 - end) * 0.45 // validation zero fraction
      const effective = L * (1 - zero)
      const final = 3.2 - 0.45 * Math.log(1 + effective) + (gated ? 0.02 : 0) + (r() - 0.5) * 0.02
      const started = t0 + i * 60_000
      const run = store.runs.create({
        name: p.name,
        experimentId: exp.id,
        kind: gated ? 'gated' : 'dense',
        status: 'completed',
        config: runConfigToJson(c) as JsonObject,
        seed: c.training.seed,
        engine: 'ort',
        backend: 'ort-cpu',
        versions: { 'onnxruntime-node': '1.30.0', threads: '2' },
        dataset: 'default',
        startedAt: new Date(started).toISOString(),
        endedAt: new Date(started + (20 + L * 5) * 1000).toISOString(),
        tags: [`group:${p.group}`],
      })
      runIds.push(run.id)
      const pts: MetricPoint[] = []
      const tokensPerStep = c.training.batch_size * c.training.grad_acc_steps * c.model.max_seq_len
      const lossAt = (s: number) => final + 2.4 * Math.exp((-4 * s) / steps)
      for (let s = 0; s < steps; s++) {
        pts.push({ step: s, key: 'train/loss', value: lossAt(s) + (r() - 0.5) * 0.08 })
        pts.push({ step: s, key: 'train/tokens', value: (s + 1) * tokensPerStep })
        if (gated) {
          const ramp = Math.min(1, s / (0.6 * steps))
          pts.push({ step: s, key: 'train/zeros/mean', value: zero * ramp })
          for (let l = 0; l < L; l++) {
            const middle = l > 0 && l < L - 1 ? 1 - Math.abs((l - (L - 1) / 2) / ((L - 1) / 2)) : 0
            pts.push({ step: s, key: `train/gates/mean/${layerKey(l)}`, value: end === null ? 1 - 0.05 * middle : 1 - ramp * middle * (1 - end) * 0.9 })
          }
        }
      }
      const every = c.training.val_every
      for (let s = 0; s <= steps; s += every) {
        const v = s === steps ? final : lossAt(s) + 0.02
        pts.push({ step: s, key: 'val/loss', value: v })
        pts.push({ step: s, key: 'val/tokens', value: c.training.val_tokens })
        if (gated) pts.push({ step: s, key: 'val/zeros/mean', value: s === steps ? zero : zero * Math.min(1, s / (0.6 * steps)) })
      }
      if (steps % every !== 0) {
        pts.push({ step: steps, key: 'val/loss', value: final })
        pts.push({ step: steps, key: 'val/tokens', value: c.training.val_tokens })
        if (gated) pts.push({ step: steps, key: 'val/zeros/mean', value: zero })
      }
      store.metrics.insert(run.id, pts)
    })
  })
  return { experimentId: exp.id, runIds }
}
