/**
 * Hard-skip evaluation speed (spec H.13), not a test; run by hand:
 *   npm run bench:tfjs-hard-skip -- [wasm|cpu] [repeats]
 * Model: dim 128, 8 layers, 4 heads, seq 128, batch 4, vocab 512, key gating; mask biases chosen so that a low,
 * medium and high fraction of the gates is exactly 0. Prints measured vs corrected-FLOPs-predicted speed-ups.
 */
import { parseModelConfig } from '../../core/model/config.js'
import { initWeights } from '../../core/model/init.js'
import { REFERENCE_OPTIMIZER, type Batch } from '../../core/engine/engine.js'
import type { BackendChoice } from '../../core/engine/tfjs/backend.js'
import { evalHardSkip } from '../../core/engine/tfjs/hard-skip.js'
import { createTfjsEngine } from '../../core/engine/tfjs/index.js'

const backend = (process.argv[2] ?? 'wasm') as BackendChoice
const repeats = Number(process.argv[3] ?? 5)
const B = 4
const T = 128
const V = 512

function batch(seed: number): Batch {
  let s = seed
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % V)
  const ids = Int32Array.from({ length: B * T + 1 }, next)
  return { inputs: ids.slice(0, B * T), targets: ids.slice(1), batchSize: B, seqLen: T }
}

const engine = await createTfjsEngine({ backend })
console.log(`backend ${engine.info.backend}; dim 128, 8 layers, seq ${T}, batch ${B}, vocab ${V}; min of ${repeats} runs`)
const config = parseModelConfig({ dim: 128, n_layers: 8, n_heads: 4, vocab_size: V, max_seq_len: T, zero_init_masks: false, gated_attention: 'key' })
for (const bias of [0.1, 0.3, 0.5]) {
  const weights = initWeights(config, 0)
  for (const [k, v] of weights) {
    if (k.startsWith('masks.') && k.endsWith('weight')) v.forEach((x, i) => (v[i] = x * 3))
    if (k.startsWith('masks.') && k.endsWith('bias')) v.fill(bias)
  }
  await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
  const r = await evalHardSkip(engine, batch(1), { repeats })
  console.log(
    `mask bias ${bias}: zero fraction ${r.zeroFraction.toFixed(3)} [${r.layerZeroFractions.map((z) => z.toFixed(2)).join(' ')}], ` +
      `|ΔCE|/token ${(Math.abs(r.ceSum - r.denseCeSum) / r.tokens).toExponential(1)}, dense ${r.denseMs.toFixed(1)} ms, ` +
      `skip ${r.skipMs.toFixed(1)} ms, measured ×${r.measuredSpeedup.toFixed(2)}, predicted ×${r.predictedSpeedup.toFixed(2)} ` +
      `(from mean fractions ×${r.predictedSpeedupMean.toFixed(2)})`,
  )
}
await engine.dispose()
