/**
 * Hard-skip evaluation on onnxruntime (spec H.13): measured speed-up against the FLOPs-predicted one.
 *
 *   npm run bench:hard-skip -- [--configs S,M,paper-12l] [--fractions 0.1,0.2,0.3,0.4,0.5,0.6] [--repeats 3]
 *                              [--attention auto|padded|packed|padded,packed] [--threads 2] [--batch N] [--json PATH]
 *                              [--profile DIR]   (one config and one fraction: onnxruntime profiles of both passes)
 *
 * Models: S and M of scripts/bench/configs.ts, paper-12l (dim 768, 12 layers, 12 heads, GPT-2 vocab, seq 1024), each
 * key-gated with random weights. The masks are set so that a chosen fraction of the (token, layer) pairs has a gate of
 * exactly 0, graded like a trained model (more zeros towards the middle layers): mask 0 is a random direction with
 * bias β, masks 1.. add a constant γ = 0.5 / (L/2), and β is bisected on the host so that the expected zero fraction
 * of the batch hits the target. The fraction reported is the one the evaluator measured on the real gates.
 *
 * For every (config, fraction, attention layout) the dense pass (the engine's own evaluation graph) and the hard-skip
 * pass run interleaved, side by side (one warm-up each, then `repeats` rounds of dense, skip); each reports the minimum.
 * Measured = dense ms / skip ms; predicted = corrected-estimator forward FLOPs, dense / skipped, from the batch's real
 * per-sequence live counts; ratio = measured / predicted. "host" is the share of the hard-skip pass spent outside
 * onnxruntime (gathers, scatters, masks, gate bookkeeping).
 *
 * Threads spin-free (allow_spinning 0) by default: on a shared machine a spinning pool distorts both passes.
 *
 * --profile DIR turns on onnxruntime's profiler for every session and then sums its kernel times per op type for the
 * dense evaluation graph and for the hard-skip graphs (head, block, tail), so a shortfall against the prediction can be
 * attributed: kernel time that does not shrink with the live tokens, or time outside the kernels (host, session calls).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { REFERENCE_OPTIMIZER, type Batch } from '../../core/engine/engine.js'
import { evalHardSkipOrt, type HardSkipAttention } from '../../core/engine/ort/hard-skip.js'
import { createOrtEngine } from '../../core/engine/ort/index.js'
import { dims, parseModelConfig, type ModelConfig } from '../../core/model/config.js'
import { initWeights } from '../../core/model/init.js'
import type { Weights } from '../../core/model/params.js'
import { Rng } from '../../core/util/rng.js'
import { BENCH_CONFIGS } from './configs.js'

const CONFIGS: Record<string, { dim: number; n_layers: number; n_heads: number; seq: number; batch: number; vocab: number }> = {
  S: BENCH_CONFIGS.S,
  M: BENCH_CONFIGS.M,
  'paper-12l': { dim: 768, n_layers: 12, n_heads: 12, seq: 1024, batch: 1, vocab: 50257 },
}

const { values: a } = parseArgs({
  options: {
    configs: { type: 'string', default: 'S,M,paper-12l' },
    fractions: { type: 'string', default: '0.1,0.2,0.3,0.4,0.5,0.6' },
    repeats: { type: 'string', default: '3' },
    attention: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string' },
    spin: { type: 'boolean', default: false },
    json: { type: 'string' },
    profile: { type: 'string' },
  },
})

const fail = (msg: string): never => {
  process.stderr.write(`bench:hard-skip: ${msg}\n`)
  process.exit(2)
}
const configNames = a.configs.split(',').map((s) => s.trim())
for (const c of configNames) if (!CONFIGS[c]) fail(`unknown config "${c}"; choose from ${Object.keys(CONFIGS).join(', ')}`)
const fractions = a.fractions.split(',').map(Number)
if (fractions.some((f) => !(f >= 0 && f < 1))) fail(`--fractions must be numbers in [0, 1), got ${a.fractions}`)
const layouts = a.attention.split(',').map((s) => s.trim()) as HardSkipAttention[]
if (layouts.some((l) => !['auto', 'padded', 'packed'].includes(l))) fail(`--attention takes auto, padded, packed (comma-separated), got ${a.attention}`)
const repeats = Number(a.repeats)
const threads = Number(a.threads)
if (!(Number.isInteger(repeats) && repeats >= 1)) fail('--repeats must be a positive integer')
if (!(Number.isInteger(threads) && threads >= 1)) fail('--threads must be a positive integer')
if (a.profile !== undefined && (configNames.length !== 1 || fractions.length !== 1 || layouts.length !== 1)) fail('--profile takes one config, one fraction and one layout')
if (a.profile !== undefined) mkdirSync(a.profile, { recursive: true })

function batchOf(B: number, T: number, V: number, seed: number): Batch {
  const rng = new Rng(seed)
  const ids = Int32Array.from({ length: B * T + 1 }, () => Math.floor(rng.uniform() * V))
  return { inputs: ids.slice(0, B * T), targets: ids.slice(1), batchSize: B, seqLen: T }
}

/** u_t = input_norm(embedding(token_t)) · w₀ for every token of the batch (what mask 0 sees, before its bias). */
function maskInputs(cfg: ModelConfig, w: Weights, batch: Batch): Float64Array {
  const { D } = dims(cfg)
  const E = w.get('tok_embeddings.weight')!
  const g = w.get('input_norm.weight')!
  const w0 = w.get('masks.0.linear.weight')!
  return Float64Array.from(batch.inputs, (tok) => {
    let ss = 0
    for (let i = 0; i < D; i++) ss += E[tok * D + i]! ** 2
    const inv = 1 / Math.sqrt(ss / D + cfg.norm_eps)
    let u = 0
    for (let i = 0; i < D; i++) u += E[tok * D + i]! * inv * g[i]! * w0[i]!
    return u
  })
}

/** Expected zero fraction when S_j = relu(u + β) + j·γ (masks 1.. have zero weights and bias γ). */
function zeroFraction(u: Float64Array, beta: number, gamma: number, L: number): number {
  const nMasks = L / 2
  let z = 0
  for (const ut of u) {
    const s0 = Math.max(ut + beta, 0)
    for (let l = 0; l < L; l++) if (s0 + Math.min(l, L - 1 - l) * gamma >= 1) z++
    void nMasks
  }
  return z / (u.length * L)
}

function setMasks(cfg: ModelConfig, w: Weights, batch: Batch, target: number): void {
  const { D, nMasks, L } = dims(cfg)
  const rng = new Rng(3)
  const w0 = w.get('masks.0.linear.weight')!
  for (let i = 0; i < D; i++) w0[i] = (rng.normal() * 0.5) / Math.sqrt(D)
  const gamma = 0.5 / nMasks
  for (let j = 1; j < nMasks; j++) {
    w.get(`masks.${j}.linear.weight`)!.fill(0)
    w.get(`masks.${j}.linear.bias`)!.fill(gamma)
  }
  const u = maskInputs(cfg, w, batch)
  let lo = -5
  let hi = 5
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (zeroFraction(u, mid, gamma, L) < target) lo = mid
    else hi = mid
  }
  w.get('masks.0.linear.bias')!.fill(hi)
}

interface Row {
  config: string
  attention: HardSkipAttention
  target: number
  zero_fraction: number
  dense_ms: number
  skip_ms: number
  measured: number
  predicted: number
  ratio: number
  host_share: number
  ce_diff_per_token: number
}

const engine = await createOrtEngine({ provider: 'cpu', threads, allowSpinning: a.spin, ...(a.profile ? { profilePrefix: join(a.profile, 'ort') } : {}) })
console.log(`onnxruntime ${engine.info.versions['onnxruntime-node']} ${engine.info.backend}, ${threads} threads, spinning ${a.spin ? 'on' : 'off'}; min of ${repeats} interleaved runs`)
const rows: Row[] = []
for (const name of configNames) {
  const c = CONFIGS[name]!
  const B = a.batch ? Number(a.batch) : c.batch
  const config = parseModelConfig({ dim: c.dim, n_layers: c.n_layers, n_heads: c.n_heads, vocab_size: c.vocab, max_seq_len: c.seq, zero_init_masks: false, gated_attention: 'key' })
  const batch = batchOf(B, c.seq, c.vocab, 1)
  const base = initWeights(config, 0)
  console.log(`\n${name}: dim ${c.dim}, ${c.n_layers} layers, ${c.n_heads} heads, seq ${c.seq}, batch ${B}, vocab ${c.vocab}`)
  console.log('target  zeros  layout   dense ms   skip ms  measured  predicted  ratio  host  |ΔCE|/tok')
  for (const target of fractions) {
    const weights: Weights = new Map([...base].map(([k, v]) => [k, Float32Array.from(v)]))
    setMasks(config, weights, batch, target)
    await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
    for (const attention of layouts) {
      let hostShare = 0
      const r = await evalHardSkipOrt(engine, batch, { repeats, attention, onTiming: (t) => (hostShare = Math.max(hostShare, t.hostMs / (t.hostMs + t.runMs))) })
      const row: Row = {
        config: name,
        attention,
        target,
        zero_fraction: r.zeroFraction,
        dense_ms: r.denseMs,
        skip_ms: r.skipMs,
        measured: r.measuredSpeedup,
        predicted: r.predictedSpeedup,
        ratio: r.measuredSpeedup / r.predictedSpeedup,
        host_share: hostShare,
        ce_diff_per_token: Math.abs(r.ceSum - r.denseCeSum) / r.tokens,
      }
      rows.push(row)
      console.log(
        `${target.toFixed(2).padStart(6)}  ${row.zero_fraction.toFixed(3)}  ${attention.padEnd(7)} ${row.dense_ms.toFixed(1).padStart(9)} ${row.skip_ms.toFixed(1).padStart(9)}` +
          `  ×${row.measured.toFixed(2).padEnd(7)} ×${row.predicted.toFixed(2).padEnd(8)} ${row.ratio.toFixed(2).padStart(5)}  ${(row.host_share * 100).toFixed(0).padStart(3)}%  ${row.ce_diff_per_token.toExponential(1)}`,
      )
    }
  }
}
await engine.dispose()
const big = rows.filter((r) => CONFIGS[r.config]!.dim >= 512)
if (big.length) {
  const worst = Math.min(...big.map((r) => r.ratio))
  console.log(`\ndim ≥ 512: measured / predicted between ${worst.toFixed(2)} and ${Math.max(...big.map((r) => r.ratio)).toFixed(2)} (target ≥ 0.85)`)
}
if (a.json) writeFileSync(a.json, JSON.stringify({ threads, repeats, engine: engine.info, rows }, null, 2) + '\n')

if (a.profile) {
  // onnxruntime profiles: one file per session. The dense evaluation graph is the one with the gate moments
  // (ReduceSumSquare); every other session belongs to the hard-skip pass.
  interface Ev { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }
  const sum = { dense: new Map<string, number>(), skip: new Map<string, number>() }
  for (const f of readdirSync(a.profile).filter((x) => x.startsWith('ort') && x.endsWith('.json'))) {
    const evs = JSON.parse(readFileSync(join(a.profile, f), 'utf8')) as Ev[]
    const kernels = evs.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'))
    const side = kernels.some((e) => e.args?.op_name === 'ReduceSumSquare') ? sum.dense : sum.skip
    for (const e of kernels) side.set(e.args!.op_name!, (side.get(e.args!.op_name!) ?? 0) + (e.dur ?? 0))
  }
  const runs = repeats + 1 // warm-up + timed runs of each pass were profiled
  const total = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0)
  const r = rows[0]!
  console.log(`\nonnxruntime profile (${a.profile}), kernel time per pass (mean of ${runs} runs):`)
  console.log(`  dense     ${(total(sum.dense) / runs / 1000).toFixed(1)} ms of ${r.dense_ms.toFixed(1)} ms wall`)
  console.log(`  hard-skip ${(total(sum.skip) / runs / 1000).toFixed(1)} ms of ${r.skip_ms.toFixed(1)} ms wall`)
  const ops = [...new Set([...sum.dense.keys(), ...sum.skip.keys()])].sort((x, y) => (sum.dense.get(y) ?? 0) - (sum.dense.get(x) ?? 0))
  console.log('  op type            dense ms   skip ms   skip/dense')
  for (const op of ops.slice(0, 14)) {
    const d = (sum.dense.get(op) ?? 0) / runs / 1000
    const k = (sum.skip.get(op) ?? 0) / runs / 1000
    console.log(`  ${op.padEnd(18)} ${d.toFixed(1).padStart(8)}  ${k.toFixed(1).padStart(8)}   ${d > 0 ? (k / d).toFixed(2) : '—'}`)
  }
}
