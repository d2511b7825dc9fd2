/**
 * Engine benchmark: training and evaluation tokens/s and peak RSS of the onnxruntime engine against a PyTorch
 * CPU baseline (scripts/bench/torch_baseline.py), and the tfjs engine when core/engine/tfjs exists.
 *
 *   npx tsx scripts/bench/engines.ts [--rounds 3] [--cases S-dense-train,M-dense-eval,...] [--engines ort,torch,tfjs]
 *                                    [--threads 2] [--polite] [--json reports/bench-engines.json]
 *   npx tsx scripts/bench/engines.ts --from-json reports/bench-engines.json   (re-render a saved run)
 *
 * Every measurement runs in its own process (clean peak RSS); contenders are interleaved within each round,
 * in a rotating order, and the table reports medians over rounds. --polite disables thread spinning in both
 * onnxruntime (allow_spinning 0) and PyTorch's OpenMP (OMP_WAIT_POLICY=PASSIVE), which is fairer on a machine
 * that other processes share.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { BENCH_CONFIGS, type BenchConfigName } from './configs.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')

interface Case {
  name: string
  config: BenchConfigName
  mode: 'train' | 'eval'
  gated: boolean
  warmup: number
  steps: number
}

const ALL_CASES: Case[] = [
  { name: 'S-dense-train', config: 'S', mode: 'train', gated: false, warmup: 3, steps: 20 },
  { name: 'S-gated-train', config: 'S', mode: 'train', gated: true, warmup: 3, steps: 20 },
  { name: 'S-dense-eval', config: 'S', mode: 'eval', gated: false, warmup: 3, steps: 30 },
  { name: 'S-gated-eval', config: 'S', mode: 'eval', gated: true, warmup: 3, steps: 30 },
  { name: 'M-dense-train', config: 'M', mode: 'train', gated: false, warmup: 1, steps: 4 },
  { name: 'M-dense-eval', config: 'M', mode: 'eval', gated: false, warmup: 1, steps: 6 },
]

/** Engines that may be benchmarked; tfjs only when its module exists (another contributor's engine). */
const TFJS_AVAILABLE = existsSync(join(ROOT, 'core', 'engine', 'tfjs', 'index.ts'))

interface Result {
  engine: string
  backend?: string
  tokens_per_s: number
  peak_rss_mb: number
  /** median CPU seconds (user + system, all threads) per step */
  cpu_s_per_step?: number
  blas?: string
  error?: string
}

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    cases: { type: 'string' },
    engines: { type: 'string' },
    threads: { type: 'string', default: '2' },
    polite: { type: 'boolean', default: false },
    json: { type: 'string' },
    /** re-render the table of a saved --json file without running anything */
    'from-json': { type: 'string' },
    'tfjs-cases': { type: 'string', default: 'S-dense-train,S-dense-eval' },
  },
})

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('close', (code) => {
      clearTimeout(timer)
      const line = out.trim().split('\n').pop() ?? ''
      try {
        if (code !== 0) throw new Error(`exit ${code}`)
        resolve(JSON.parse(line) as Result)
      } catch (e) {
        resolve({ engine: args.join(' '), tokens_per_s: NaN, peak_rss_mb: NaN, error: `${String(e)}: ${err.trim().split('\n').slice(-3).join(' | ')}` })
      }
    })
  })
}

function measure(engine: string, c: Case, threads: number, polite: boolean): Promise<Result> {
  const timeout = c.config === 'M' ? 600_000 : 180_000
  if (engine === 'torch') {
    const args = [join(HERE, 'torch_baseline.py'), '--config', c.config, '--mode', c.mode, '--steps', String(c.steps), '--warmup', String(c.warmup), '--threads', String(threads)]
    if (c.gated) args.push('--gated')
    const env: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'SkylakeX', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) }
    if (polite) env.OMP_WAIT_POLICY = 'PASSIVE'
    return run('/usr/bin/python3', args, env, timeout)
  }
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx')
  const args = [join(HERE, 'engine_worker.ts'), '--engine', engine, '--config', c.config, '--mode', c.mode, '--steps', String(c.steps), '--warmup', String(c.warmup), '--threads', String(threads)]
  if (c.gated) args.push('--gated')
  if (polite) args.push('--spinning', '0')
  return run(tsx, args, {}, timeout)
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y)
  if (!s.length) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

interface Saved {
  date: string
  threads: number
  polite: boolean
  rounds: number
  blas?: string
  summary: { case: string; engine: string; runs: Result[] }[]
}

/**
 * The table. Ratios to PyTorch are medians of per-round ratios: contenders of one round ran back to back under
 * the same load, so their ratio is far steadier on a shared machine than a ratio of medians.
 */
function render(cases: Case[], engines: string[], results: Map<string, Result[]>, threads: number, rounds: number): string {
  const rows: string[] = []
  rows.push('| case | engine | backend | tokens/s (median) | × PyTorch | tokens per CPU-s | × PyTorch | peak RSS MB | × PyTorch |')
  rows.push('|---|---|---|---:|---:|---:|---:|---:|---:|')
  const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–')
  for (const c of cases) {
    const tokens = BENCH_CONFIGS[c.config].batch * BENCH_CONFIGS[c.config].seq
    const torch = results.get(`${c.name}|torch`) ?? []
    for (const e of engines) {
      const rs = results.get(`${c.name}|${e}`)
      if (!rs) continue
      const perRound = (f: (x: Result) => number) => median(rs.map((x, i) => (torch[i] ? f(x) / f(torch[i]!) : NaN)))
      const cpuTok = (x: Result) => tokens / (x.cpu_s_per_step ?? NaN)
      const backend = rs.find((x) => x.backend)?.backend ?? e
      rows.push(
        `| ${c.name} | ${e} | ${backend} | ${fmt(median(rs.map((x) => x.tokens_per_s)))} | ${fmt(perRound((x) => x.tokens_per_s), 2)} ` +
          `| ${fmt(median(rs.map(cpuTok)))} | ${fmt(perRound(cpuTok), 2)} | ${fmt(median(rs.map((x) => x.peak_rss_mb)))} | ${fmt(perRound((x) => x.peak_rss_mb), 2)} |`,
      )
    }
  }
  const blas = [...results.values()].flat().find((x) => x.blas)?.blas
  rows.push('')
  rows.push(`PyTorch BLAS: ${blas ?? 'unknown'} (OPENBLAS_CORETYPE=SkylakeX). ${threads} threads each; ${rounds} interleaved rounds.`)
  return rows.join('\n')
}

async function main() {
  if (a['from-json']) {
    const saved = JSON.parse(readFileSync(a['from-json'], 'utf8')) as Saved
    const results = new Map(saved.summary.map((s) => [`${s.case}|${s.engine}`, s.runs]))
    const cases = ALL_CASES.filter((c) => saved.summary.some((s) => s.case === c.name))
    const engines = [...new Set(saved.summary.map((s) => s.engine))]
    console.log(render(cases, engines, results, saved.threads, saved.rounds))
    return
  }
  const rounds = Number(a.rounds)
  const threads = Number(a.threads)
  const cases = a.cases ? ALL_CASES.filter((c) => a.cases!.split(',').includes(c.name)) : ALL_CASES
  const engines = a.engines ? a.engines.split(',') : ['ort', 'torch', ...(TFJS_AVAILABLE ? ['tfjs'] : [])]
  const tfjsCases = new Set(a['tfjs-cases']!.split(','))
  const results = new Map<string, Result[]>() // `${case}|${engine}`, one entry per round
  console.error(`engines: ${engines.join(', ')}; cases: ${cases.map((c) => c.name).join(', ')}; ${rounds} rounds; ${threads} threads${a.polite ? '; polite' : ''}`)
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const order = engines.filter((e) => e !== 'tfjs' || tfjsCases.has(c.name))
      const rotated = order.map((_, i) => order[(i + r) % order.length]!)
      for (const e of rotated) {
        const res = await measure(e, c, threads, !!a.polite)
        const key = `${c.name}|${e}`
        results.set(key, [...(results.get(key) ?? []), res])
        console.error(
          `round ${r + 1} ${c.name.padEnd(14)} ${e.padEnd(6)} ` +
            (res.error
              ? `ERROR ${res.error}`
              : `${res.tokens_per_s.toFixed(0).padStart(7)} tok/s  ${(res.cpu_s_per_step ?? NaN).toFixed(3)} cpu-s/step  peak ${res.peak_rss_mb.toFixed(0)} MB`),
        )
      }
    }
  }
  console.log(render(cases, engines, results, threads, rounds))
  if (a.json) {
    const blas = [...results.values()].flat().find((x) => x.blas)?.blas
    const summary = [...results].map(([k, runs]) => ({ case: k.split('|')[0]!, engine: k.split('|')[1]!, runs }))
    const saved: Saved = { date: new Date().toISOString(), threads, polite: !!a.polite, rounds, blas, summary }
    mkdirSync(dirname(a.json), { recursive: true })
    writeFileSync(a.json, JSON.stringify(saved, null, 2))
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
