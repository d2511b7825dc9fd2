/**
 * Calibration: how fast does THIS machine train and evaluate a given config shape on a given engine? A few real
 * training steps (and validation batches) are run in this process and timed; the result is expressed as FLOPs per
 * second (corrected estimator, s = 0: training computes every block whatever the gates) so it can be carried over
 * to other sizes (estimate.ts interpolates between calibrated shapes in log FLOPs).
 *
 * Results are cached in a JSON file per engine / requested backend / threads / config shape / host, so a second
 * `skipbench sweep --dry-run` is instant. Configs too large to time here are calibrated with fewer sequences per
 * micro-batch (a conservative rate: small batches use the hardware less well), or not at all.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { cpus, hostname } from 'node:os'
import { dirname } from 'node:path'
import { canonicalJson } from '../analysis/records.js'
import { createController } from '../controllers/index.js'
import { createEngine, type CreateEngineOptions } from '../engine/index.js'
import { inferenceFlops, trainingFlops } from '../flops/index.js'
import { initWeights } from '../model/init.js'
import { openTrainData } from '../trainer/data.js'
import type { RunConfig } from '../config/index.js'

/** What a calibration is keyed by: everything that changes the speed of one micro-batch. */
export interface CalibrationShape {
  engine: string
  /** the requested backend ("auto" when none) */
  backend: string
  threads: number | null
  dim: number
  n_layers: number
  n_heads: number
  n_kv_heads: number
  vocab_size: number
  max_seq_len: number
  gated: boolean
  gated_attention: string
  /** sequences per micro-batch actually timed */
  batch_size: number
}

export interface Calibration {
  key: string
  shape: CalibrationShape
  /** the backend actually used (engine.info.backend) */
  backendUsed: string
  host: { name: string; cpu: string; cpus: number }
  measuredAt: string
  /** timed training micro-batch steps (after the warm-up one) */
  steps: number
  /** median seconds of one training step of one micro-batch */
  microStepSeconds: number
  /** corrected training FLOPs (3 × forward, s = 0) of one micro-batch */
  microStepFlops: number
  trainFlopsPerSecond: number
  /** corrected forward FLOPs per token (s = 0) */
  evalFlopsPerToken: number
  evalTokens: number
  evalSeconds: number
  evalFlopsPerSecond: number
  /** engine creation + model init + the first (graph-building) step */
  setupSeconds: number
  /** the config asked for more sequences per micro-batch than were timed (too slow here) */
  reducedFrom: number | null
}

export interface CalibrateOptions {
  dataDir?: string
  /** engine overrides (default: the config's engine section) */
  engine?: CreateEngineOptions
  /** timed steps after one warm-up step (default 3) */
  steps?: number
  /** validation batches timed after one warm-up batch (default 2) */
  evalBatches?: number
  /** time at most this many sequences per micro-batch (default: the config's batch_size) */
  batchSize?: number
}

export function hostInfo(): Calibration['host'] {
  const c = cpus()
  return { name: hostname(), cpu: c[0]?.model?.trim() ?? 'unknown', cpus: c.length }
}

export function calibrationShape(config: RunConfig, engine: CreateEngineOptions = {}, batchSize?: number): CalibrationShape {
  const e = { ...config.engine, ...engine }
  const m = config.model
  return {
    engine: e.engine ?? 'ort',
    backend: e.backend ?? 'auto',
    threads: e.threads ?? null,
    dim: m.dim,
    n_layers: m.n_layers,
    n_heads: m.n_heads,
    n_kv_heads: m.n_kv_heads,
    vocab_size: m.vocab_size,
    max_seq_len: m.max_seq_len,
    gated: !m.zero_init_masks,
    gated_attention: m.zero_init_masks ? 'none' : m.gated_attention,
    batch_size: batchSize ?? config.training.batch_size,
  }
}

export function calibrationKey(shape: CalibrationShape, host = hostInfo()): string {
  return canonicalJson({ shape, host: { cpu: host.cpu, cpus: host.cpus, name: host.name } })
}

/** Corrected training FLOPs of one micro-batch of `batchSize` sequences at s = 0 (what the hardware computes). */
export function microStepFlops(config: RunConfig, batchSize = config.training.batch_size): number {
  return trainingFlops(config.model, { estimator: 'corrected', batchSize, zeroFractions: [0] })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

/** Train a few steps of `config` (one micro-batch each) and a few validation batches in this process; time them. */
export async function calibrate(config: RunConfig, o: CalibrateOptions = {}): Promise<Calibration> {
  const steps = o.steps ?? 3
  const evalBatches = o.evalBatches ?? 2
  const B = Math.max(1, Math.min(o.batchSize ?? config.training.batch_size, config.training.batch_size))
  const cfg: RunConfig = {
    ...config,
    training: { ...config.training, batch_size: B, grad_acc_steps: 1, val_batch_size: B, val_tokens: Math.max(1, evalBatches + 1) * B * config.model.max_seq_len },
  }
  const engineOpts = { ...config.engine, ...(o.engine ?? {}) }
  const data = await openTrainData(cfg, o.dataDir ? { dataDir: o.dataDir } : {})
  const t0 = performance.now()
  let engine: Awaited<ReturnType<typeof createEngine>> | null = null
  try {
    engine = await createEngine(engineOpts)
    await engine.init({ config: cfg.model, weights: initWeights(cfg.model, cfg.training.seed), optimizer: cfg.optimizer })
    const controller = createController(cfg.controller, cfg.model.n_layers)
    const lr = cfg.optimizer.lr * cfg.schedule.start_factor
    await engine.trainStep([data.next()], lr, controller.loss())
    const setupSeconds = (performance.now() - t0) / 1000
    const times: number[] = []
    for (let i = 0; i < steps; i++) {
      const b = data.next()
      const s = performance.now()
      await engine.trainStep([b], lr, controller.loss())
      times.push((performance.now() - s) / 1000)
    }
    let evalTokens = 0
    let evalSeconds = 0
    let k = 0
    for (const b of data.valBatches()) {
      const s = performance.now()
      const r = await engine.evalStep(b)
      const sec = (performance.now() - s) / 1000
      if (k++ > 0 || evalBatches === 0) {
        evalSeconds += sec
        evalTokens += r.tokens
      }
      if (k > evalBatches) break
    }
    if (evalTokens === 0) {
      // one batch only (a small validation split): use the warm-up batch's time, an overestimate
      const b = data.valBatches()[Symbol.iterator]().next().value
      if (b) {
        const s = performance.now()
        const r = await engine.evalStep(b)
        evalSeconds = (performance.now() - s) / 1000
        evalTokens = r.tokens
      }
    }
    const shape = calibrationShape(config, o.engine ?? {}, B)
    const host = hostInfo()
    const microStepSeconds = median(times)
    const flops = microStepFlops(cfg, B)
    const evalFlopsPerToken = inferenceFlops(cfg.model, { estimator: 'corrected', sparsity: 0 }).perToken
    return {
      key: calibrationKey(shape, host),
      shape,
      backendUsed: engine.info.backend,
      host,
      measuredAt: new Date().toISOString(),
      steps,
      microStepSeconds,
      microStepFlops: flops,
      trainFlopsPerSecond: flops / microStepSeconds,
      evalFlopsPerToken,
      evalTokens,
      evalSeconds,
      evalFlopsPerSecond: evalTokens > 0 && evalSeconds > 0 ? (evalFlopsPerToken * evalTokens) / evalSeconds : (flops / microStepSeconds) * 3,
      setupSeconds,
      reducedFrom: B < config.training.batch_size ? config.training.batch_size : null,
    }
  } finally {
    data.close()
    await engine?.dispose().catch(() => {})
  }
}

// ------------------------------------------------------------------ the cache

interface CacheFile {
  format: 'skipbench-calibration'
  version: 1
  entries: Record<string, Calibration>
}

export class CalibrationCache {
  private entries: Record<string, Calibration> = {}
  constructor(readonly path: string | null) {
    if (path && existsSync(path)) {
      try {
        const f = JSON.parse(readFileSync(path, 'utf8')) as CacheFile
        if (f.format === 'skipbench-calibration' && f.version === 1 && f.entries && typeof f.entries === 'object') this.entries = f.entries
      } catch {
        /* a corrupt cache is just empty */
      }
    }
  }

  /** A cached calibration for this key, unless older than maxAgeMs. */
  get(key: string, maxAgeMs = Number.POSITIVE_INFINITY): Calibration | null {
    const c = this.entries[key]
    if (!c) return null
    if (Date.now() - Date.parse(c.measuredAt) > maxAgeMs) return null
    return c
  }

  /** Every cached calibration of this engine/backend/threads on this host (to predict what timing a new one costs). */
  sameMachine(engine: string, backend: string, threads: number | null, host = hostInfo()): Calibration[] {
    return this.thisMachine(host).filter((c) => c.shape.engine === engine && c.shape.backend === backend && c.shape.threads === threads)
  }

  /** Every calibration of this machine, whatever its engine. */
  thisMachine(host = hostInfo()): Calibration[] {
    return Object.values(this.entries).filter((c) => c.host.cpu === host.cpu && c.host.cpus === host.cpus && c.host.name === host.name)
  }

  set(c: Calibration): void {
    this.entries[c.key] = c
    if (!this.path) return
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.${process.pid}.tmp`
    const f: CacheFile = { format: 'skipbench-calibration', version: 1, entries: this.entries }
    writeFileSync(tmp, JSON.stringify(f, null, 1))
    renameSync(tmp, this.path)
  }

  all(): Calibration[] {
    return Object.values(this.entries)
  }
}
