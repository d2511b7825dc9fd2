/**
 * The one evaluation loop (`evaluateBatches`: mean cross-entropy over every predicted token, gate statistics as B.7,
 * zero_eps 1e-8, per layer, weighted by tokens), used by the trainer's validation, the app's "evaluate run" (the eval
 * job, worker-entry.ts) and the CLI's `eval`; and `evaluateCheckpoint`, which the last two share: a checkpoint folder
 * (config.json + model.safetensors; e.g. one of the paper's released models) on `.bin` token shards — every full
 * window of max_seq_len + 1 tokens, in order, stride max_seq_len (the last partial batch included) — or on windows
 * the caller made (a synthetic dataset), with the corrected-estimator inference FLOPs at the measured sparsity.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_FILE, loadModelCheckpoint } from '../checkpoint/index.js'
import { FINAL_DIR } from '../paths.js'
import { evalWindows, planEval } from '../data/loader.js'
import { REFERENCE_OPTIMIZER, type Batch, type Engine, type EngineInfo } from '../engine/engine.js'
import { assertHardSkippable, type HardSkipResult } from '../engine/hard-skip.js'
import { createEngine, type CreateEngineOptions } from '../engine/index.js'
import { inferenceFlops } from '../flops/index.js'
import type { ModelConfig } from '../model/config.js'
import { GateMetricsAccumulator, type GateMetrics } from './gate-metrics.js'

export interface EvalLoopResult {
  /** mean cross-entropy (nats) over every predicted token; NaN with no tokens */
  loss: number
  ceSum: number
  tokens: number
  /** windows (sequences) evaluated */
  windows: number
  batches: number
  /** per-layer gate statistics weighted by tokens; null for a dense model */
  gates: GateMetrics | null
}

/**
 * THE evaluation loop: every batch through `engine.evalStep`, cross-entropy summed over tokens, gate moments
 * accumulated per token (gated models only). `onBatch` sees each batch after its step (progress, hard skip).
 */
export async function evaluateBatches(
  engine: Engine,
  batches: Iterable<Batch>,
  o: { gated: boolean; signal?: AbortSignal; onBatch?: (b: Batch) => Promise<void> | void },
): Promise<EvalLoopResult> {
  let ceSum = 0
  let tokens = 0
  let windows = 0
  let n = 0
  const acc = new GateMetricsAccumulator()
  for (const b of batches) {
    if (o.signal?.aborted) throw new Error('evaluation cancelled')
    const r = await engine.evalStep(b)
    ceSum += r.ceSum
    tokens += r.tokens
    windows += b.batchSize
    n++
    if (o.gated && r.gates) acc.add(r.gates, r.tokens)
    await o.onBatch?.(b)
  }
  return { loss: tokens ? ceSum / tokens : NaN, ceSum, tokens, windows, batches: n, gates: o.gated ? acc.compute() : null }
}

/** Windows the caller made (a synthetic dataset's validation split), named for the result. */
export interface EvalBatches {
  dataset: string
  windows: number
  batches: Iterable<Batch>
}

export interface EvaluateOptions {
  checkpoint: string
  /** one shard path or several, evaluated in order; or windows the caller made */
  data: string | string[] | EvalBatches
  /** token budget: at most ⌊maxTokens / T⌋ windows (≥ 1) */
  maxTokens?: number
  /** windows per batch (default: ⌊4096 / T⌋, at least 1) */
  batchSize?: number
  engine?: CreateEngineOptions
  /** an engine to use instead of creating one (not disposed) */
  engineInstance?: Engine
  /**
   * Also evaluate with real block skipping (spec H.13; `gated_attention: "key"` only; either engine, default ort):
   * tokens whose gate is exactly 0 skip the block, and the result reports the hard-skip loss next to the dense one with
   * the measured (same engine, interleaved) and the FLOPs-predicted speed-up.
   */
  hardSkip?: boolean
  /** progress: windows done / total */
  onProgress?: (done: number, total: number) => void
  signal?: AbortSignal
}

export interface EvaluateResult {
  /** mean cross-entropy (nats) over every predicted token */
  loss: number
  tokens: number
  windows: number
  batches: number
  /** per layer (L values); all 1 for a dense model */
  gates_mean: number[]
  /** per layer fraction of gates with |g| < 1e-8; all 0 for a dense model */
  zeros_mean: number[]
  /** per first-half layer mean of the accumulated masks S (L/2 values); null for a dense model */
  masks_mean: number[] | null
  /** zeros_mean averaged over layers (the paper's val/zeros/mean, the sparsity in its FLOPs estimate) */
  sparsity: number
  engine: EngineInfo['engine']
  backend: string
  versions: Record<string, string>
  checkpoint: string
  /** the shards evaluated ([] for windows the caller made) */
  data: string[]
  /** the dataset's name: the caller's, else "shards" */
  dataset: string
  /** forward FLOPs per token, corrected estimator (core/flops), at the measured per-layer sparsity */
  flops_per_token: number
  /** the full per-layer gate statistics (mean, std, …); null for a dense model */
  gate_stats: GateMetrics | null
  model: Pick<ModelConfig, 'dim' | 'n_layers' | 'n_heads' | 'n_kv_heads' | 'vocab_size' | 'max_seq_len' | 'zero_init_masks' | 'gated_attention'>
  seconds: number
  tokens_per_sec: number
  /** with `hardSkip`: the same windows evaluated with blocks really skipped */
  hard_skip: HardSkipSummary | null
}

export interface HardSkipSummary {
  /** mean CE with blocks skipped for zero-gate tokens (skipped keys excluded from attention) */
  loss: number
  /** mean CE of the dense pass of the same engine (differs only by the ~1e-6 attention leak to skipped keys) */
  loss_dense: number
  /** fraction of (token, layer) pairs skipped */
  zero_fraction: number
  /** Σ dense forward time / Σ hard-skip forward time (min over one timed repeat per batch, after a warm-up) */
  measured_speedup: number
  /** corrected-estimator forward FLOPs, dense / hard-skip, from each sequence's live counts */
  predicted_speedup: number
}

/** A checkpoint folder, or a run folder (its final/ checkpoint). */
export function resolveCheckpointDir(dir: string): string {
  if (!existsSync(join(dir, CONFIG_FILE)) && existsSync(join(dir, FINAL_DIR, CONFIG_FILE))) return join(dir, FINAL_DIR)
  return dir
}

export async function evaluateCheckpoint(o: EvaluateOptions): Promise<EvaluateResult> {
  const checkpoint = resolveCheckpointDir(o.checkpoint)
  const { config, weights } = loadModelCheckpoint(checkpoint)
  const T = config.max_seq_len
  const given = typeof o.data === 'object' && !Array.isArray(o.data) ? o.data : null
  const shards = given ? [] : typeof o.data === 'string' ? [o.data] : (o.data as string[])
  const B = o.batchSize ?? Math.max(1, Math.floor(4096 / T))
  const total = given ? given.windows : planEval(shards, T, B, o.maxTokens).windows // validates shards (too short → clear error) before the engine starts
  if (o.hardSkip) assertHardSkippable(config) // before an engine starts
  const engine = o.engineInstance ?? (await createEngine(o.engine ?? {}))
  // the engine's own evaluator, loaded only when asked
  let hardSkip: ((b: Batch) => Promise<HardSkipResult>) | null = null
  if (o.hardSkip) {
    if (engine.info.engine === 'ort') {
      const { evalHardSkipOrt } = await import('../engine/ort/hard-skip.js')
      hardSkip = (b) => evalHardSkipOrt(engine as Parameters<typeof evalHardSkipOrt>[0], b, { repeats: 1 })
    } else {
      const { evalHardSkip } = await import('../engine/tfjs/hard-skip.js')
      hardSkip = (b) => evalHardSkip(engine as Parameters<typeof evalHardSkip>[0], b, { repeats: 1 })
    }
  }
  const hs = { ceSum: 0, denseCeSum: 0, denseMs: 0, skipMs: 0, denseFlops: 0, skipFlops: 0, zeros: 0 }
  try {
    await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
    const t0 = performance.now()
    let windows = 0
    const r = await evaluateBatches(engine, given ? given.batches : evalWindows(shards, T, B, o.maxTokens, { vocabSize: config.vocab_size }), {
      gated: !config.zero_init_masks,
      ...(o.signal ? { signal: o.signal } : {}),
      onBatch: async (b) => {
        windows += b.batchSize
        if (hardSkip) {
          const h = await hardSkip(b)
          hs.ceSum += h.ceSum
          hs.denseCeSum += h.denseCeSum
          hs.denseMs += h.denseMs
          hs.skipMs += h.skipMs
          hs.denseFlops += h.denseFlops
          hs.skipFlops += h.skipFlops
          hs.zeros += h.zeroFraction * h.tokens
        }
        o.onProgress?.(windows, total)
      },
    })
    const seconds = (performance.now() - t0) / 1000
    const g = r.gates
    const tokens = r.tokens
    const L = config.n_layers
    const gates_mean = g ? g.gates.mean : new Array<number>(L).fill(1)
    const zeros_mean = g ? g.zeros.mean : new Array<number>(L).fill(0)
    const fl = inferenceFlops(config, { estimator: 'corrected', sparsity: g ? zeros_mean.map((z) => Math.min(1, Math.max(0, z))) : 0 })
    return {
      loss: r.loss,
      tokens,
      windows: r.windows,
      batches: r.batches,
      gates_mean,
      zeros_mean,
      masks_mean: g ? g.masks.mean : null,
      sparsity: zeros_mean.reduce((a, b) => a + b, 0) / L,
      engine: engine.info.engine,
      backend: engine.info.backend,
      versions: engine.info.versions,
      checkpoint,
      data: shards,
      dataset: given ? given.dataset : 'shards',
      flops_per_token: fl.perToken,
      gate_stats: g,
      model: {
        dim: config.dim,
        n_layers: config.n_layers,
        n_heads: config.n_heads,
        n_kv_heads: config.n_kv_heads,
        vocab_size: config.vocab_size,
        max_seq_len: config.max_seq_len,
        zero_init_masks: config.zero_init_masks,
        gated_attention: config.gated_attention,
      },
      seconds,
      hard_skip: hardSkip
        ? {
            loss: hs.ceSum / tokens,
            loss_dense: hs.denseCeSum / tokens,
            zero_fraction: hs.zeros / tokens,
            measured_speedup: hs.denseMs / hs.skipMs,
            predicted_speedup: hs.denseFlops / hs.skipFlops,
          }
        : null,
      tokens_per_sec: tokens / seconds,
    }
  } finally {
    if (!o.engineInstance) await engine.dispose()
  }
}
