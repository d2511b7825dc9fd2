/**
 * GPU device check: onnxruntime's WebGPU provider against its CPU provider, side by side in one process.
 *
 *   npm run bench:gpu [-- --sizes S,M,paper-12l] [--steps 5] [--eval-steps 5] [--agree-steps 20]
 *                        [--batch paper-12l=4,M=8] [--gpu-provider webgpu|cuda] [--peak-tflops 67]
 *                        [--cpu-steps 2] [--tiny] [--json reports/bench-gpu.json]
 *
 * For each size: train and eval tokens/s on both providers (medians of the timed steps after one warm-up), the
 * achieved FLOP/s (corrected estimator: training = 3 × forward, core/flops) and, for the GPU, the fraction of its
 * fp32 peak (from --peak-tflops, or a table of known cards by the name nvidia-smi reports), host↔device bytes
 * per training step, where onnxruntime placed the nodes, and a 20-step agreement check (per-step |Δloss| of the
 * same training run on both providers from the same initialisation and batches).
 * --tiny swaps the sizes for micro ones (dim 32) so the script can prove it works on a software Vulkan device
 * (lavapipe), where real sizes would take hours. Ratios are measured in the same run; absolute numbers drift.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { calibrate, createOrtEngine, formatAdapter, formatPlacement, type OrtEngine } from '../../core/engine/ort/index.js'
import type { Batch } from '../../core/engine/engine.js'
import { inferenceFlops } from '../../core/flops/index.js'
import { parseModelConfig, type ModelConfig } from '../../core/model/config.js'
import { initWeights } from '../../core/model/init.js'
import { paramCount } from '../../core/model/params.js'
import { BENCH_CONFIGS } from './configs.js'

interface Size {
  name: string
  config: ModelConfig
  batch: number
  seq: number
}

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'S,M,paper-12l' },
    steps: { type: 'string', default: '5' },
    'eval-steps': { type: 'string', default: '5' },
    'cpu-steps': { type: 'string', default: '2' },
    'agree-steps': { type: 'string', default: '20' },
    batch: { type: 'string', default: '' },
    'gpu-provider': { type: 'string', default: 'webgpu' },
    'peak-tflops': { type: 'string' },
    tiny: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
})

/** fp32 (non-tensor-core) peaks in TFLOP/s of cards a lent machine may have, by nvidia-smi name. */
const FP32_PEAK: [RegExp, number][] = [
  [/H200/, 67],
  [/H100.*(SXM|HBM3)/, 67],
  [/H100.*PCIe/, 51],
  [/H100/, 51],
  [/A100/, 19.5],
  [/L40S/, 91.6],
  [/L4\b/, 30.3],
  [/RTX 4090/, 82.6],
  [/A10\b/, 31.2],
  [/V100/, 15.7],
]

const model = (dim: number, layers: number, heads: number, vocab: number, seq: number) =>
  parseModelConfig({ dim, n_layers: layers, n_heads: heads, vocab_size: vocab, max_seq_len: seq, zero_init_masks: false, gated_attention: 'key' })

function sizes(): Size[] {
  const batchOverride = new Map(
    args.batch
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  )
  const all: Size[] = args.tiny
    ? [
        { name: 'tiny-S', config: model(32, 4, 2, 257, 16), batch: 2, seq: 16 },
        { name: 'tiny-M', config: model(64, 4, 4, 1024, 32), batch: 2, seq: 32 },
      ]
    : [
        { name: 'S', config: model(BENCH_CONFIGS.S.dim, BENCH_CONFIGS.S.n_layers, BENCH_CONFIGS.S.n_heads, BENCH_CONFIGS.S.vocab, BENCH_CONFIGS.S.seq), batch: BENCH_CONFIGS.S.batch, seq: BENCH_CONFIGS.S.seq },
        { name: 'M', config: model(BENCH_CONFIGS.M.dim, BENCH_CONFIGS.M.n_layers, BENCH_CONFIGS.M.n_heads, BENCH_CONFIGS.M.vocab, BENCH_CONFIGS.M.seq), batch: BENCH_CONFIGS.M.batch, seq: BENCH_CONFIGS.M.seq },
        // the paper's model (spec A.1); batch 8 × 1024 tokens fits an 80 GB card with room for the chunked LM head
        { name: 'paper-12l', config: model(768, 12, 12, 50257, 1024), batch: 8, seq: 1024 },
      ]
  const want = args.tiny ? all.map((s) => s.name) : args.sizes.split(',')
  return all.filter((s) => want.includes(s.name)).map((s) => ({ ...s, batch: Number(batchOverride.get(s.name) ?? s.batch) }))
}

function batchOf(s: Size, k: number): Batch {
  const n = s.batch * s.seq
  const V = s.config.vocab_size
  let x = 12345 + k * 7919
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648)
  const inputs = Int32Array.from({ length: n }, () => next() % V)
  const targets = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? inputs[i + 1]! : next() % V))
  return { batchSize: s.batch, seqLen: s.seq, inputs, targets }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const optimizer = { lr: 6e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1 }

interface Measured {
  provider: string
  trainTokS: number
  evalTokS: number
  trainFlopS: number
  evalFlopS: number
  bytesPerStep: { hostToDevice: number; deviceToHost: number } | null
  losses: number[]
}

async function measure(s: Size, provider: 'cpu' | 'webgpu' | 'cuda', steps: number, evalSteps: number): Promise<Measured> {
  const e: OrtEngine = await createOrtEngine({ provider })
  try {
    await e.init({ config: s.config, weights: initWeights(s.config, 0), optimizer })
    const tokens = s.batch * s.seq
    const fwdPerToken = inferenceFlops({ ...s.config, max_seq_len: s.seq }, { estimator: 'corrected' }).perToken
    const train: number[] = []
    const losses: number[] = []
    for (let i = 0; i <= steps; i++) {
      const t0 = performance.now()
      losses.push((await e.trainStep([batchOf(s, i)], optimizer.lr, { kind: 'none' })).loss)
      if (i > 0) train.push((performance.now() - t0) / 1000)
    }
    const bytes = e.lastTransfer
    const ev: number[] = []
    for (let i = 0; i <= evalSteps; i++) {
      const t0 = performance.now()
      await e.evalStep(batchOf(s, 1000 + i))
      if (i > 0) ev.push((performance.now() - t0) / 1000)
    }
    const trainTokS = tokens / median(train)
    const evalTokS = tokens / median(ev)
    return { provider, trainTokS, evalTokS, trainFlopS: trainTokS * 3 * fwdPerToken, evalFlopS: evalTokS * fwdPerToken, bytesPerStep: bytes, losses }
  } finally {
    await e.dispose()
  }
}

/** The agreement check runs at batch 1 × ≤ 256 tokens for sizes above S, so the CPU side stays minutes, not hours. */
async function agreement(full: Size, gpu: 'webgpu' | 'cuda', steps: number): Promise<number[]> {
  const s = full.batch * full.seq <= 1024 ? full : { ...full, batch: 1, seq: Math.min(full.seq, 256) }
  const run = async (provider: 'cpu' | 'webgpu' | 'cuda') => {
    const e = await createOrtEngine({ provider })
    try {
      await e.init({ config: s.config, weights: initWeights(s.config, 0), optimizer })
      const out: number[] = []
      for (let i = 0; i < steps; i++) out.push((await e.trainStep([batchOf(s, i)], optimizer.lr, { kind: 'none' })).loss)
      return out
    } finally {
      await e.dispose()
    }
  }
  const a = await run('cpu')
  const b = await run(gpu)
  return a.map((x, i) => Math.abs(x - b[i]!))
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const gflops = (x: number) => fmt(x / 1e9, 1)

async function main() {
  const gpu = args['gpu-provider'] as 'webgpu' | 'cuda'
  const probe = await createOrtEngine({ provider: gpu })
  const adapter = probe.adapter
  await probe.dispose()
  const deviceName = adapter ? formatAdapter(adapter) : gpu
  const peak = args['peak-tflops'] ? Number(args['peak-tflops']) : (FP32_PEAK.find(([re]) => re.test(adapter?.name ?? ''))?.[1] ?? null)
  console.log(`GPU provider: ${gpu} on ${deviceName}${adapter?.type === 'cpu' ? ' (a CPU device: a correctness run, not a speed measurement)' : ''}`)
  console.log(`fp32 peak: ${peak === null ? 'unknown (pass --peak-tflops)' : `${peak} TFLOP/s`}`)
  const cal = await calibrate(gpu)
  console.log(`calibration (${cal.gflop.toFixed(1)} GFLOP matmul chain): ${gpu} ${cal.gpuMs.toFixed(1)} ms, cpu ${cal.cpuMs.toFixed(1)} ms (${cal.speedup.toFixed(2)}×)`)

  const rows: Record<string, unknown>[] = []
  for (const s of sizes()) {
    const params = paramCount(s.config)
    console.log(`\n== ${s.name}: dim ${s.config.dim}, ${s.config.n_layers} layers, vocab ${s.config.vocab_size}, batch ${s.batch} × ${s.seq} tokens, ${fmt(params)} parameters`)
    const placementEngine = await createOrtEngine({ provider: gpu })
    await placementEngine.init({ config: s.config, weights: initWeights(s.config, 0), optimizer })
    const placement = await placementEngine.placement(batchOf(s, 0))
    await placementEngine.dispose()
    for (const p of placement) console.log(`placement ${formatPlacement(p)}`)
    const g = await measure(s, gpu, Number(args.steps), Number(args['eval-steps']))
    const c = await measure(s, 'cpu', Number(args['cpu-steps']), Number(args['cpu-steps']))
    const diffs = await agreement(s, gpu, Number(args['agree-steps']))
    const agreeShape = s.batch * s.seq <= 1024 ? `${s.batch} × ${s.seq}` : `1 × ${Math.min(s.seq, 256)}`
    const maxDiff = Math.max(...diffs)
    const row = {
      size: s.name,
      params,
      batch: s.batch,
      seq: s.seq,
      gpu: { ...g, peakFraction: peak ? g.trainFlopS / (peak * 1e12) : null },
      cpu: c,
      trainSpeedup: g.trainTokS / c.trainTokS,
      evalSpeedup: g.evalTokS / c.evalTokS,
      agreement: { steps: diffs.length, maxAbsLossDiff: maxDiff },
      placement,
    }
    rows.push(row)
    console.log(
      [
        `| provider | train tok/s | eval tok/s | train GFLOP/s | eval GFLOP/s | train % fp32 peak | host→dev B/step | dev→host B/step |`,
        `|---|---|---|---|---|---|---|---|`,
        `| ${gpu} | ${fmt(g.trainTokS, 1)} | ${fmt(g.evalTokS, 1)} | ${gflops(g.trainFlopS)} | ${gflops(g.evalFlopS)} | ${row.gpu.peakFraction === null ? '—' : `${(row.gpu.peakFraction * 100).toFixed(1)}%`} | ${g.bytesPerStep?.hostToDevice ?? '—'} | ${g.bytesPerStep?.deviceToHost ?? '—'} |`,
        `| cpu | ${fmt(c.trainTokS, 1)} | ${fmt(c.evalTokS, 1)} | ${gflops(c.trainFlopS)} | ${gflops(c.evalFlopS)} | — | — | — |`,
        `${gpu}/cpu: train ${row.trainSpeedup.toFixed(2)}×, eval ${row.evalSpeedup.toFixed(2)}×`,
        `agreement over ${diffs.length} steps (batch ${agreeShape}): max |Δloss| = ${maxDiff.toExponential(2)} ${maxDiff < 1e-4 ? '(ok, < 1e-4)' : '(FAIL: ≥ 1e-4)'}`,
      ].join('\n'),
    )
  }
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true })
    writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), gpu, adapter, peakTflops: peak, calibration: cal, rows }, null, 2))
    console.log(`\nwrote ${args.json}`)
  }
  const bad = rows.filter((r) => !((r.agreement as { maxAbsLossDiff: number }).maxAbsLossDiff < 1e-4))
  if (bad.length) process.exitCode = 1
}

await main()
