/**
 * Evaluate a checkpoint folder (config.json + model.safetensors; e.g. one of the paper's released models) on a
 * `.bin` token shard: every full window of max_seq_len + 1 tokens, in order, stride max_seq_len (the last partial
 * batch included); the loss is the mean cross-entropy over every predicted token. Gate statistics as B.7
 * (zero_eps 1e-8), per layer, weighted by tokens.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_FILE, FINAL_DIR, loadModelCheckpoint } from '../checkpoint/index.js'
import { evalWindows, planEval } from '../data/loader.js'
import { REFERENCE_OPTIMIZER, type Engine, type EngineInfo } from '../engine/engine.js'
import { createEngine, type CreateEngineOptions } from '../engine/index.js'
import type { ModelConfig } from '../model/config.js'
import { GateMetricsAccumulator } from './gate-metrics.js'

export interface EvaluateOptions {
  checkpoint: string
  /** one shard path or several, evaluated in order */
  data: string | string[]
  /** token budget: at most ⌊maxTokens / T⌋ windows (≥ 1) */
  maxTokens?: number
  /** windows per batch (default: ⌊4096 / T⌋, at least 1) */
  batchSize?: number
  engine?: CreateEngineOptions
  /** an engine to use instead of creating one (not disposed) */
  engineInstance?: Engine
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
  data: string[]
  model: Pick<ModelConfig, 'dim' | 'n_layers' | 'n_heads' | 'n_kv_heads' | 'vocab_size' | 'max_seq_len' | 'zero_init_masks' | 'gated_attention'>
  seconds: number
  tokens_per_sec: number
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
  const shards = typeof o.data === 'string' ? [o.data] : o.data
  const B = o.batchSize ?? Math.max(1, Math.floor(4096 / T))
  const plan = planEval(shards, T, B, o.maxTokens) // validates shards (too short → clear error) before the engine starts
  const engine = o.engineInstance ?? (await createEngine(o.engine ?? {}))
  try {
    await engine.init({ config, weights, optimizer: REFERENCE_OPTIMIZER })
    const t0 = performance.now()
    let ceSum = 0
    let tokens = 0
    let windows = 0
    let batches = 0
    const acc = new GateMetricsAccumulator()
    for (const b of evalWindows(shards, T, B, o.maxTokens, { vocabSize: config.vocab_size })) {
      if (o.signal?.aborted) throw new Error('evaluation cancelled')
      const r = await engine.evalStep(b)
      ceSum += r.ceSum
      tokens += r.tokens
      windows += b.batchSize
      batches++
      if (r.gates) acc.add(r.gates, r.tokens)
      o.onProgress?.(windows, plan.windows)
    }
    const seconds = (performance.now() - t0) / 1000
    const g = acc.compute()
    const L = config.n_layers
    const gates_mean = g ? g.gates.mean : new Array<number>(L).fill(1)
    const zeros_mean = g ? g.zeros.mean : new Array<number>(L).fill(0)
    return {
      loss: ceSum / tokens,
      tokens,
      windows,
      batches,
      gates_mean,
      zeros_mean,
      masks_mean: g ? g.masks.mean : null,
      sparsity: zeros_mean.reduce((a, b) => a + b, 0) / L,
      engine: engine.info.engine,
      backend: engine.info.backend,
      versions: engine.info.versions,
      checkpoint,
      data: shards,
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
      tokens_per_sec: tokens / seconds,
    }
  } finally {
    if (!o.engineInstance) await engine.dispose()
  }
}
