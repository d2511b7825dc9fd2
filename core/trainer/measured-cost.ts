/**
 * Measured evaluation cost (issue 15): the wall-clock time per token of evaluating a checkpoint on this machine, as an
 * x-axis beside FLOPs. Key-gated models are timed with hard skipping (spec H.13: blocks really skipped for zero-gate
 * tokens), every other model (dense baselines, "query"/"none" gating, which cannot skip) with the engine's dense
 * evaluation; the same engine, thread count, data windows and batch size for all, one untimed warm-up first.
 *
 * Cached per checkpoint and machine in `<checkpoint>/measured-cost.json` (one entry per machine, engine, backend,
 * threads, data and token budget), so a comparison re-measures nothing it has measured before.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { arch, cpus, hostname, platform } from 'node:os'
import { join, resolve } from 'node:path'
import { loadModelCheckpoint, writeJsonAtomic } from '../checkpoint/index.js'
import { evalWindows, planEval } from '../data/loader.js'
import { REFERENCE_OPTIMIZER, type Batch } from '../engine/engine.js'
import type { HardSkipResult } from '../engine/hard-skip.js'
import { createEngine, type CreateEngineOptions } from '../engine/index.js'
import type { Engine } from '../engine/engine.js'
import { resolveCheckpointDir } from './evaluate.js'

export const MEASURED_COST_FILE = 'measured-cost.json'

export interface MachineInfo {
  /** short hash of host name, CPU model, core count, platform and architecture */
  id: string
  /** e.g. "Intel(R) Xeon(R) … ×2, linux x64 (host)" */
  label: string
}

export function thisMachine(): MachineInfo {
  const c = cpus()
  const model = c[0]?.model?.trim() ?? 'unknown CPU'
  const parts = [hostname(), model, String(c.length), platform(), arch()]
  return { id: createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16), label: `${model} ×${c.length}, ${platform()} ${arch()} (${hostname()})` }
}

export interface MeasuredCost {
  /** seconds per evaluated token: hard-skip pass for key-gated models, dense evaluation otherwise */
  secondsPerToken: number
  /** seconds per token of the same engine's dense evaluation of the same windows */
  denseSecondsPerToken: number
  mode: 'hard-skip' | 'dense'
  /** fraction of (token, layer) pairs skipped (hard-skip mode), else 0 */
  zeroFraction: number
  tokens: number
  batchSize: number
  machine: MachineInfo
  engine: string
  backend: string
  threads: string
  /** the evaluated shard(s) and their sizes, part of the cache key */
  data: string
  measuredAt: string
}

export interface MeasureCostOptions {
  checkpoint: string
  data: string | string[]
  /** token budget (default 8192) */
  maxTokens?: number
  batchSize?: number
  engine?: CreateEngineOptions
  /** ignore a cached value and measure again */
  refresh?: boolean
  onProgress?: (done: number, total: number) => void
}

const dataKey = (shards: string[]) => shards.map((p) => `${resolve(p)}:${existsSync(p) ? statSync(p).size : 0}`).join(',')

function cacheKey(m: Pick<MeasuredCost, 'machine' | 'engine' | 'backend' | 'threads' | 'data' | 'tokens' | 'batchSize'>): string {
  return [m.machine.id, m.engine, m.backend, m.threads, m.data, m.tokens, m.batchSize].join('|')
}

/** The cached measurements of a checkpoint folder (any machine). */
function readMeasuredCosts(checkpoint: string): MeasuredCost[] {
  const p = join(resolveCheckpointDir(checkpoint), MEASURED_COST_FILE)
  if (!existsSync(p)) return []
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as { entries?: unknown }
    return Array.isArray(j.entries) ? (j.entries as MeasuredCost[]).filter((e) => typeof e?.secondsPerToken === 'number' && e.machine && typeof e.machine.id === 'string') : []
  } catch {
    return []
  }
}

/** The latest measurement of this checkpoint on this machine (optionally with one engine), or null. */
export function latestMeasuredCost(checkpoint: string, o: { machine?: MachineInfo; engine?: string } = {}): MeasuredCost | null {
  const id = (o.machine ?? thisMachine()).id
  const all = readMeasuredCosts(checkpoint).filter((e) => e.machine.id === id && (o.engine === undefined || e.engine === o.engine))
  return all.sort((a, b) => a.measuredAt.localeCompare(b.measuredAt)).at(-1) ?? null
}

async function hardSkipper(engine: Engine): Promise<(b: Batch) => Promise<HardSkipResult>> {
  if (engine.info.engine === 'ort') {
    const { evalHardSkipOrt } = await import('../engine/ort/hard-skip.js')
    return (b) => evalHardSkipOrt(engine as Parameters<typeof evalHardSkipOrt>[0], b, { repeats: 1 })
  }
  const { evalHardSkip } = await import('../engine/tfjs/hard-skip.js')
  return (b) => evalHardSkip(engine as Parameters<typeof evalHardSkip>[0], b, { repeats: 1 })
}

/** Measure (or read from the cache) the evaluation cost per token of a checkpoint on this machine. */
export async function measureCheckpointCost(o: MeasureCostOptions): Promise<MeasuredCost> {
  const checkpoint = resolveCheckpointDir(resolve(o.checkpoint))
  const { config, weights } = loadModelCheckpoint(checkpoint)
  const shards = typeof o.data === 'string' ? [o.data] : o.data
  const T = config.max_seq_len
  const B = o.batchSize ?? Math.max(1, Math.floor(4096 / T))
  const maxTokens = o.maxTokens ?? 8192
  const plan = planEval(shards, T, B, maxTokens)
  const machine = thisMachine()
  const hardSkip = !config.zero_init_masks && config.gated_attention === 'key'
  const engine = await createEngine(o.engine ?? {})
  try {
    const partial = { machine, engine: engine.info.engine, backend: engine.info.backend, threads: engine.info.versions.threads ?? '', data: dataKey(shards), tokens: plan.windows * T, batchSize: B }
    const file = join(checkpoint, MEASURED_COST_FILE)
    const cached = readMeasuredCosts(checkpoint)
    const hit = cached.find((e) => cacheKey(e) === cacheKey(partial))
    if (hit && !o.refresh) return hit
    await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
    const skip = hardSkip ? await hardSkipper(engine) : null
    let ms = 0
    let denseMs = 0
    let tokens = 0
    let zeros = 0
    let windows = 0
    let warm = false
    for (const b of evalWindows(shards, T, B, maxTokens, { vocabSize: config.vocab_size })) {
      if (skip) {
        const h = await skip(b) // warms both passes up, then one interleaved timed run of each
        ms += h.skipMs
        denseMs += h.denseMs
        zeros += h.zeroFraction * h.tokens
      } else {
        if (!warm) await engine.evalStep(b) // session creation and first-run allocation are not evaluation cost
        warm = true
        const t0 = performance.now()
        await engine.evalStep(b)
        const dt = performance.now() - t0
        ms += dt
        denseMs += dt
      }
      tokens += b.batchSize * b.seqLen
      windows += b.batchSize
      o.onProgress?.(windows, plan.windows)
    }
    const m: MeasuredCost = {
      ...partial,
      secondsPerToken: ms / 1000 / tokens,
      denseSecondsPerToken: denseMs / 1000 / tokens,
      mode: skip ? 'hard-skip' : 'dense',
      zeroFraction: skip ? zeros / tokens : 0,
      tokens,
      measuredAt: new Date().toISOString(),
    }
    writeJsonAtomic(file, { format: 1, entries: [...cached.filter((e) => cacheKey(e) !== cacheKey(m)), m] })
    return m
  } finally {
    await engine.dispose()
  }
}
