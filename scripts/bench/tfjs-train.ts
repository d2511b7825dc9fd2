/**
 * Training/eval throughput of the tfjs engine on a tiny model (not a test; run by hand):
 *   npm run bench:tfjs -- [wasm|cpu|tensorflow] [steps]
 * Model: dim 64, 4 layers, 4 heads, seq 64, batch 8, vocab 257; dense (zero_init_masks) and gated (key gating).
 */
import { parseModelConfig } from '../../core/model/config.js'
import { initWeights } from '../../core/model/init.js'
import { REFERENCE_OPTIMIZER, type Batch, type ControllerLoss } from '../../core/engine/engine.js'
import { createTfjsEngine } from '../../core/engine/tfjs/index.js'
import type { BackendChoice } from '../../core/engine/tfjs/backend.js'

const backend = (process.argv[2] ?? 'wasm') as BackendChoice
const steps = Number(process.argv[3] ?? 10)
const B = 8
const T = 64

function batch(V: number, seed: number): Batch {
  let s = seed
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % V)
  const ids = Int32Array.from({ length: B * T + 1 }, next)
  return { inputs: ids.slice(0, B * T), targets: ids.slice(1), batchSize: B, seqLen: T }
}

const engine = await createTfjsEngine({ backend })
console.log(`backend ${engine.info.backend} ${JSON.stringify(engine.info.versions)}`)
for (const gated of [false, true]) {
  const config = parseModelConfig({ dim: 64, n_layers: 4, n_heads: 4, vocab_size: 257, max_seq_len: T, zero_init_masks: !gated, gated_attention: 'key' })
  await engine.init({ config, weights: initWeights(config, 0), optimizer: REFERENCE_OPTIMIZER })
  const ctrl: ControllerLoss = gated ? { kind: 'linear', meanCoefs: [0.01, 0.01, 0.01, 0.01], varCoefs: [-0.01, -0.01, -0.01, -0.01] } : { kind: 'none' }
  const b = batch(257, 1)
  for (let i = 0; i < 2; i++) await engine.trainStep([b], 1e-3, ctrl) // warm-up
  let t0 = performance.now()
  for (let i = 0; i < steps; i++) await engine.trainStep([b], 1e-3, ctrl)
  const train = (steps * B * T) / ((performance.now() - t0) / 1000)
  t0 = performance.now()
  for (let i = 0; i < steps; i++) await engine.evalStep(b)
  const evalRate = (steps * B * T) / ((performance.now() - t0) / 1000)
  console.log(`${gated ? 'gated' : 'dense'}: train ${train.toFixed(0)} tokens/s, eval ${evalRate.toFixed(0)} tokens/s`)
}
await engine.dispose()
