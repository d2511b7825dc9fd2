/**
 * One benchmark measurement in a fresh process (so peak RSS belongs to this engine, config and mode alone):
 * build the model, warm up, time `steps` train or eval steps on fixed random tokens, print one JSON line.
 *
 *   npx tsx scripts/bench/engine_worker.ts --engine ort|tfjs --config S|M --mode train|eval [--gated] [--steps n]
 *
 * The tfjs engine is loaded dynamically from core/engine/tfjs when present (another contributor's engine).
 */
import { parseArgs } from 'node:util'
import { parseModelConfig } from '../../core/model/config.js'
import { initWeights } from '../../core/model/init.js'
import { REFERENCE_OPTIMIZER, type Batch, type Engine } from '../../core/engine/engine.js'
import { BENCH_CONFIGS, type BenchConfigName } from './configs.js'

const { values: a } = parseArgs({
  options: {
    engine: { type: 'string', default: 'ort' },
    config: { type: 'string', default: 'S' },
    mode: { type: 'string', default: 'train' },
    gated: { type: 'boolean', default: false },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    spinning: { type: 'string', default: '1' },
    arena: { type: 'string', default: '1' },
    'ce-chunk': { type: 'string' },
  },
})

async function makeEngine(name: string, threads: number): Promise<Engine> {
  if (name === 'ort') {
    const { createOrtEngine } = await import('../../core/engine/ort/index.js')
    return createOrtEngine({
      provider: 'cpu',
      threads,
      allowSpinning: a.spinning !== '0',
      cpuArena: a.arena !== '0',
      ceChunkElements: a['ce-chunk'] ? Number(a['ce-chunk']) : undefined,
    })
  }
  if (name === 'tfjs') {
    const path = '../../core/engine/tfjs/index.js'
    const mod = (await import(path)) as { createTfjsEngine: () => Promise<Engine> }
    return mod.createTfjsEngine()
  }
  throw new Error(`unknown engine ${name}`)
}

function randomBatch(B: number, T: number, V: number, seed: number): Batch {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s % V
  }
  const data = Int32Array.from({ length: B * (T + 1) }, next)
  const inputs = new Int32Array(B * T)
  const targets = new Int32Array(B * T)
  for (let b = 0; b < B; b++) {
    inputs.set(data.subarray(b * (T + 1), b * (T + 1) + T), b * T)
    targets.set(data.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T)
  }
  return { inputs, targets, batchSize: B, seqLen: T }
}

async function main() {
  const c = BENCH_CONFIGS[a.config as BenchConfigName]
  if (!c) throw new Error(`unknown config ${a.config}`)
  const cfg = parseModelConfig({
    dim: c.dim,
    n_layers: c.n_layers,
    n_heads: c.n_heads,
    vocab_size: c.vocab,
    max_seq_len: c.seq,
    zero_init_masks: !a.gated,
    gated_attention: 'key',
  })
  const engine = await makeEngine(a.engine!, Number(a.threads))
  await engine.init({ config: cfg, weights: initWeights(cfg, 0), optimizer: REFERENCE_OPTIMIZER })
  const batch = randomBatch(c.batch, c.seq, c.vocab, 1)
  const step = async () => {
    if (a.mode === 'train') await engine.trainStep([batch], REFERENCE_OPTIMIZER.lr, { kind: 'none' })
    else await engine.evalStep(batch)
  }
  const t0 = performance.now()
  for (let i = 0; i < Number(a.warmup); i++) await step()
  const warmupS = (performance.now() - t0) / 1000
  const times: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < Number(a.steps); i++) {
    const t = performance.now()
    const c0 = process.cpuUsage()
    await step()
    const c1 = process.cpuUsage(c0)
    times.push((performance.now() - t) / 1000)
    cpu.push((c1.user + c1.system) / 1e6)
  }
  times.sort((x, y) => x - y)
  cpu.sort((x, y) => x - y)
  const median = times[Math.floor(times.length / 2)]!
  console.log(
    JSON.stringify({
      engine: a.engine,
      backend: engine.info.backend,
      tokens_per_s: (c.batch * c.seq) / median,
      step_s: times,
      cpu_s_per_step: cpu[Math.floor(cpu.length / 2)],
      warmup_s: warmupS,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    }),
  )
  await engine.dispose()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
