/**
 * How long does `skipbench demo` take? On a machine other processes share, a wall clock says little, so this
 * measures RATIOS side by side: every distinct model shape of the old demo (250 steps, 16,384 validation tokens, one
 * seed) and of the current one (cli/commands/demo.ts) gets an engine in this process, and the shapes take turns,
 * one training step and one validation batch each per round, so load changes hit them all alike. Medians over
 * rounds give each shape's seconds per training step and per validation batch; each demo's compute is
 *
 *   Σ over its runs: steps × step time + validations × batches per validation × batch time + setup
 *
 * and the current demo's predicted duration is the old demo's measured duration (1 min 54 s on 2 cores, issue 13)
 * × the ratio of the two sums. The absolute sums under the current load are printed too, for information.
 *
 *   nice -n 10 npx tsx scripts/bench/demo-budget.ts [--rounds 12] [--old-seconds 114] [--json out.json]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { demoSweepSpec } from '../../cli/commands/demo.js'
import { createController } from '../../core/controllers/index.js'
import { createEngine } from '../../core/engine/index.js'
import { initWeights } from '../../core/model/init.js'
import { expandSweep, paperGrid, type SweepSpec } from '../../core/sweeps/index.js'
import { openTrainData } from '../../core/trainer/data.js'
import type { RunConfig } from '../../core/config/index.js'

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '12' }, 'old-seconds': { type: 'string', default: '114' }, json: { type: 'string' } } })
const ROUNDS = Number(args.rounds)
const OLD_SECONDS = Number(args['old-seconds'])

/** The demo as issue 13 found it (250 steps, 16,384 validation tokens, one seed; measured at 1 min 54 s). */
function oldDemo(): SweepSpec {
  const spec = paperGrid({ scale: 'tiny', groups: ['dense', 'gated'], depths: [2, 4, 6, 8], gatedDepth: 8, ends: [0.25, 0.5, 0.75], set: { 'training.train_steps': 250, 'training.val_every': 50 } })
  for (const g of spec.groups) if (g.name === 'gated') g.base = { ...g.base, controller: { ...(g.base.controller as Record<string, unknown>), coef_update_multiplier: 1e-2 } }
  return spec
}

const shapeOf = (c: RunConfig) => `${c.model.zero_init_masks ? 'dense' : 'gated'} L=${c.model.n_layers} d=${c.model.dim}`
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const validations = (c: RunConfig) => {
  const T = c.training.train_steps
  const every = c.training.val_every
  const at = new Set([0, T])
  if (every > 0) for (let s = every; s < T; s += every) at.add(s)
  return at.size
}
const batchesPerValidation = (c: RunConfig) => Math.ceil(Math.floor(c.training.val_tokens / c.model.max_seq_len) / (c.training.val_batch_size ?? c.training.batch_size))

const sweeps = { old: expandSweep(oldDemo()).points.map((p) => p.config), current: expandSweep(demoSweepSpec({ quick: false })).points.map((p) => p.config) }
const shapes = new Map<string, RunConfig>()
for (const c of [...sweeps.old, ...sweeps.current]) if (!shapes.has(shapeOf(c))) shapes.set(shapeOf(c), c)

interface Live {
  name: string
  engine: Awaited<ReturnType<typeof createEngine>>
  data: Awaited<ReturnType<typeof openTrainData>>
  lossCoef: ReturnType<ReturnType<typeof createController>['loss']>
  lr: number
  setup: number
  step: number[]
  evalBatch: number[]
  val: Iterator<unknown>
}
const live: Live[] = []
for (const [name, c] of shapes) {
  const t0 = performance.now()
  const data = await openTrainData(c, {})
  const engine = await createEngine(c.engine)
  await engine.init({ config: c.model, weights: initWeights(c.model, c.training.seed), optimizer: c.optimizer })
  const controller = createController(c.controller, c.model.n_layers)
  const lr = c.optimizer.lr * c.schedule.start_factor
  await engine.trainStep([data.next()], lr, controller.loss())
  const setup = (performance.now() - t0) / 1000
  live.push({ name, engine, data, lossCoef: controller.loss(), lr, setup, step: [], evalBatch: [], val: data.valBatches()[Symbol.iterator]() })
}
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...live].reverse() : live
  for (const x of order) {
    let s = performance.now()
    await x.engine.trainStep([x.data.next()], x.lr, x.lossCoef)
    x.step.push((performance.now() - s) / 1000)
    let b = x.val.next()
    if (b.done) {
      x.val = x.data.valBatches()[Symbol.iterator]()
      b = x.val.next()
    }
    s = performance.now()
    await x.engine.evalStep(b.value as Parameters<typeof x.engine.evalStep>[0])
    x.evalBatch.push((performance.now() - s) / 1000)
  }
}
const per = new Map(live.map((x) => [x.name, { step: median(x.step), evalBatch: median(x.evalBatch), setup: x.setup }]))
for (const x of live) {
  x.data.close()
  await x.engine.dispose()
}

const cost = (cs: RunConfig[]) =>
  cs.reduce((sum, c) => {
    const p = per.get(shapeOf(c))!
    return sum + c.training.train_steps * p.step + validations(c) * batchesPerValidation(c) * p.evalBatch + p.setup
  }, 0)
const oldCost = cost(sweeps.old)
const newCost = cost(sweeps.current)
const ratio = newCost / oldCost
const out = {
  rounds: ROUNDS,
  shapes: Object.fromEntries(per),
  old: { runs: sweeps.old.length, computeSecondsHere: oldCost, measuredSeconds: OLD_SECONDS },
  current: { runs: sweeps.current.length, computeSecondsHere: newCost, predictedSeconds: OLD_SECONDS * ratio },
  ratio,
}
console.log('shape                 s/step   s/val batch   setup s')
for (const [k, v] of per) console.log(`${k.padEnd(20)} ${v.step.toFixed(4).padStart(8)} ${v.evalBatch.toFixed(4).padStart(12)} ${v.setup.toFixed(2).padStart(9)}`)
console.log(`old demo (${sweeps.old.length} runs): ${oldCost.toFixed(0)} s of compute here; measured ${OLD_SECONDS} s on 2 cores (issue 13)`)
console.log(`current demo (${sweeps.current.length} runs): ${newCost.toFixed(0)} s of compute here; ratio ${ratio.toFixed(2)} → predicted ${(OLD_SECONDS * ratio / 60).toFixed(1)} min on that machine`)
if (args.json) writeFileSync(args.json, JSON.stringify(out, null, 1) + '\n')
