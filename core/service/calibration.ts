/**
 * Calibration on first start: a fresh install knows nothing about this machine's speed, and a fixed guess was 12×
 * too pessimistic for the tiny preset. So the first time the service opens a database folder whose calibration
 * cache (calibration.json, shared with `skipbench sweep`) has nothing for this machine and engine, it runs the
 * CLI's own short calibration (core/sweeps calibrate: a few real training steps and validation batches, timed) in
 * the background for two shapes that bracket the tiny scale: the tiny preset itself and a small dim-32 model. Until
 * it finishes, estimates say that it is running; afterwards they come from core/sweeps pointSeconds, like a sweep's.
 * Every start also times how long a training worker process takes to be ready (on a busy machine that is far more
 * than the 3 s a sweep's estimate assumes), and run estimates use that.
 *
 * Time estimates are shown as ranges: how far off they can be depends on where the rate came from.
 */
import type { CreateEngineOptions } from '../engine/index.js'
import type { WorkerLauncher } from '../jobs/process.js'
import { calibrate, CalibrationCache, calibrationKey, calibrationShape, type Calibration } from '../sweeps/calibrate.js'
import { getPreset, parseRunConfig, type RunConfig } from '../config/index.js'

export type CalibrationState = 'idle' | 'running' | 'done' | 'failed'

/** The shapes calibrated on first start: the tiny preset (dim 128, 4 layers) and a small model (dim 32, 2 layers). */
function startupShapes(engine: CreateEngineOptions = {}): RunConfig[] {
  const tiny = getPreset('tiny-gated')!.config as Record<string, unknown>
  // speed does not depend on the tokens: a small synthetic set needs no corpus preparation
  const data = { dataset: 'synthetic', synthetic: { train_tokens: 40_000, val_tokens: 8_192, successors: 4 } }
  const withEngine = (c: Record<string, unknown>) => ({ ...c, data, engine: { ...((c['engine'] as object) ?? {}), ...engine } })
  const small = { ...tiny, model: { ...(tiny['model'] as object), dim: 32, n_layers: 2, n_heads: 2 }, training: { ...(tiny['training'] as object), batch_size: 4 } }
  return [parseRunConfig(withEngine(tiny)), parseRunConfig(withEngine(small))]
}

/** Relative uncertainty of a time estimate by the source of its rate: [low, high] multipliers. */
const RANGE_BY_SOURCE = {
  calibrated: [0.7, 1.5],
  measured: [0.6, 1.7],
  default: [0.1, 2],
} as const satisfies Record<string, readonly [number, number]>

export function secondsRange(seconds: number, source: keyof typeof RANGE_BY_SOURCE): [number, number] {
  const [lo, hi] = RANGE_BY_SOURCE[source]
  return [seconds * lo, seconds * hi]
}

/** Background calibration of one database folder's cache. */
export class StartupCalibration {
  state: CalibrationState = 'idle'
  error: string | null = null
  /** settles when the background calibration ends (at once when none was needed) */
  done: Promise<void> = Promise.resolve()
  /** seconds from launching a training worker to its "ready" message, measured at start (null: not measured) */
  workerStartSeconds: number | null = null

  constructor(
    readonly cacheFile: string,
    readonly engine: CreateEngineOptions = {},
    readonly dataDir?: string,
    readonly launcher?: WorkerLauncher,
  ) {}

  /**
   * This machine's calibrations in the cache, of every engine (empty until the first one is written): the ones
   * this start wrote and any a `skipbench sweep` wrote there; an estimate takes those of its run's engine.
   */
  calibrations(): Calibration[] {
    return new CalibrationCache(this.cacheFile).thisMachine()
  }

  /** Start the background calibration: the training shapes unless this machine has them, and the worker start. */
  start(): Promise<void> {
    if (this.state === 'running') return this.done
    this.state = 'running'
    this.error = null
    this.done = (async () => {
      try {
        const cache = new CalibrationCache(this.cacheFile)
        for (const cfg of startupShapes(this.engine)) {
          if (cache.get(calibrationKey(calibrationShape(cfg)))) continue
          cache.set(await calibrate(cfg, this.dataDir ? { dataDir: this.dataDir } : {}))
        }
        if (this.launcher) {
          // twice: the first start may also fill the TypeScript loader's cache, which later runs find warm
          await timeWorkerStart(this.launcher)
          this.workerStartSeconds = await timeWorkerStart(this.launcher)
        }
        this.state = 'done'
      } catch (e) {
        this.state = 'failed'
        this.error = (e as Error).message
      }
    })()
    return this.done
  }
}

/** Seconds from launching a training worker (the job queue's launcher) to its "ready" message; the worker then exits. */
function timeWorkerStart(launcher: WorkerLauncher, timeoutMs = 180_000): Promise<number> {
  const t0 = performance.now()
  const w = launcher.launch()
  return new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => {
      w.kill()
      reject(new Error(`a training worker was not ready within ${timeoutMs / 1000} s`))
    }, timeoutMs)
    w.onMessage((m) => {
      if ((m as { type?: string }).type !== 'ready') return
      clearTimeout(t)
      const s = (performance.now() - t0) / 1000
      w.kill()
      resolve(s)
    })
    w.onExit((code) => {
      clearTimeout(t)
      reject(new Error(`a training worker exited (${code}) before it was ready`))
    })
  })
}
