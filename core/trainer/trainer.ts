/**
 * The training loop (spec B.3, B.5, C; H.7–H.9, H.15). Model-agnostic: it drives an Engine, a GateController and a
 * TrainData, writes a self-contained run folder and emits typed events. It knows nothing of SQLite, IPC or Vue.
 *
 * Loop, for step = 0..T (the reference's train.py order):
 *   1. validation when step = 0, step % val_every = 0, or step = T     → 'validation'
 *   2. step = T: final checkpoint (final/), done. Else a checkpoint when step % checkpoint_every = 0 (step > 0)
 *   3. cancellation requested → checkpoint at this step, done (status "cancelled")
 *   4. training step `step`: grad_acc micro-batches, lr = schedule(step), one engine.trainStep (gradients averaged,
 *      one AdamW update), then — gated runs only — gate metrics of the step and controller.update(μ, σ²) → 'step'
 * Validation/checkpoint "at step s" happen after s optimizer steps. A run resumed from a checkpoint at step s skips
 * 1–2 at s (already done before the save) and continues exactly.
 *
 * Run folder: run.json (resolved config, engine/backend/versions, seed, times, status), metrics.jsonl (one JSON
 * object per step/validation event), checkpoints/step-XXXXXX/ and final/ (model.safetensors + config.json +
 * optimizer.safetensors + trainer_state.json).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  loadTrainingCheckpoint,
  pruneCheckpoints,
  saveTrainingCheckpoint,
  writeJsonAtomic,
  type MetricsSoFar,
  type TrainerState,
} from '../checkpoint/index.js'
import { CHECKPOINTS_DIR, FINAL_DIR, stepDirName } from '../paths.js'
import { createController, type GateController } from '../controllers/index.js'
import type { Batch, Engine, EngineInfo } from '../engine/engine.js'
import { modelConfigToJson } from '../model/config.js'
import { initWeights } from '../model/init.js'
import { paramCount } from '../model/params.js'
import { Rng } from '../util/rng.js'
import type { DataInfo, TrainData } from './data.js'
import { evaluateBatches } from './evaluate.js'
import { computeGateMetrics, gateMetricsToDict, type GateMetrics } from './gate-metrics.js'
import { runConfigToJson, tokensPerStep, type ResolvedRunConfig } from '../config/index.js'
import { lrAt } from './schedule.js'
import { SystemSampler } from './system-metrics.js'
import { UserError } from '../user-errors.js'
import { TypedEmitter } from '../util/emitter.js'

export const RUN_FILE = 'run.json'
const METRICS_FILE = 'metrics.jsonl'

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed'

export interface StartEvent {
  runDir: string
  step: number
  totalSteps: number
  resumedFrom: string | null
  engine: EngineInfo
  data: DataInfo
  params: number
}

export interface StepEvent {
  /** the 0-indexed optimizer step just taken */
  step: number
  totalSteps: number
  /** CE + controller loss, mean over micro-batches (the reference's train/loss) */
  loss: number
  ce: number
  controllerLoss: number
  lr: number
  /** training tokens processed so far, this step included */
  tokens: number
  stepSeconds: number
  tokensPerSec: number
  /** seconds of training so far (excluding validation and checkpoints) */
  elapsedSeconds: number
  /** estimated seconds to the end of training (excluding validation) */
  etaSeconds: number
  /** null for dense runs (zero_init_masks) */
  gates: GateMetrics | null
  /** flat metrics with the reference names (train/loss, train/gates/mean/layer_00, train/controller/...) */
  metrics: Record<string, number>
}

export interface ValidationEvent {
  /** optimizer steps completed */
  step: number
  totalSteps: number
  /** mean CE over every predicted validation token */
  loss: number
  /** predicted tokens evaluated */
  tokens: number
  seconds: number
  gates: GateMetrics | null
  metrics: Record<string, number>
}

export interface CheckpointEvent {
  step: number
  dir: string
  final: boolean
  reason: 'periodic' | 'final' | 'cancel'
  pruned: string[]
}

export interface DoneEvent {
  status: 'completed' | 'cancelled'
  step: number
  totalSteps: number
  runDir: string
  checkpoint: string | null
  lastValidation: { step: number; loss: number; tokens: number } | null
  tokens: number
  trainSeconds: number
}

export interface ErrorEvent {
  error: Error
  message: string
  step: number
}

export interface TrainerEvents {
  start: StartEvent
  step: StepEvent
  validation: ValidationEvent
  checkpoint: CheckpointEvent
  done: DoneEvent
  error: ErrorEvent
}

export interface TrainerOptions {
  /** the run folder (created if missing) */
  runDir: string
  /** a training-checkpoint folder to continue from */
  resumeFrom?: string
  /** abort → checkpoint, then finish with status "cancelled" */
  signal?: AbortSignal
  /** extra facts for run.json (e.g. CLI version) */
  runInfo?: Record<string, unknown>
}

export class TrainingError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'TrainingError'
  }
}

export class Trainer extends TypedEmitter<TrainerEvents> {
  readonly controller: GateController
  private rng: Rng
  private readonly system = new SystemSampler()
  private metricsSoFar: MetricsSoFar = { tokens: 0, train_seconds: 0, last_loss: null, val_history: [] }
  private runJson: Record<string, unknown> = {}
  private _step = 0
  private lastSaved = -1
  private lastSavedDir: string | null = null
  private started = false
  /** set once this trainer has written run.json: only then may a failure be recorded there */
  private ownsRun = false

  constructor(
    readonly config: ResolvedRunConfig,
    readonly engine: Engine,
    readonly data: TrainData,
    readonly opts: TrainerOptions,
  ) {
    super()
    this.controller = createController(config.controller, config.model.n_layers)
    this.rng = new Rng(config.training.seed)
  }

  /** optimizer steps completed so far */
  get step(): number {
    return this._step
  }

  get runDir(): string {
    return this.opts.runDir
  }

  private get gated(): boolean {
    return !this.config.model.zero_init_masks
  }

  private checkpointExtras() {
    const c = this.config
    return { controller: c.controller, data: c.data, optimizer: c.optimizer, schedule: c.schedule, seed: c.training.seed, training: c.training }
  }

  private writeRunJson(patch: Record<string, unknown>): void {
    this.runJson = { ...this.runJson, ...patch }
    writeJsonAtomic(join(this.runDir, RUN_FILE), this.runJson)
  }

  private appendMetrics(row: Record<string, unknown>): void {
    appendFileSync(join(this.runDir, METRICS_FILE), JSON.stringify(row) + '\n')
  }

  /** On resume: keep the metrics logged up to the checkpoint (steps < s, validations ≤ s), drop the rest. */
  private truncateMetrics(step: number): void {
    const path = join(this.runDir, METRICS_FILE)
    if (!existsSync(path)) return
    const keep = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => {
        if (!l.trim()) return false
        try {
          const r = JSON.parse(l) as { type?: string; step?: number }
          return r.type === 'validation' ? (r.step ?? 0) <= step : (r.step ?? 0) < step
        } catch {
          return false
        }
      })
    writeFileSync(path, keep.map((l) => l + '\n').join(''))
  }

  private async saveCheckpoint(step: number, reason: CheckpointEvent['reason']): Promise<void> {
    const final = reason === 'final'
    const dir = final ? join(this.runDir, FINAL_DIR) : join(this.runDir, CHECKPOINTS_DIR, stepDirName(step))
    const weights = await this.engine.getWeights()
    const optimizer = await this.engine.getOptimizerState()
    const state: TrainerState = {
      format: 'skipbench-trainer-state',
      version: 1,
      step,
      total_steps: this.config.training.train_steps,
      controller: this.controller.state(),
      data: this.data.state(),
      rng: this.rng.state(),
      metrics: structuredClone(this.metricsSoFar),
      saved_at: new Date().toISOString(),
    }
    saveTrainingCheckpoint(dir, { config: this.config.model, weights, extras: this.checkpointExtras(), optimizer, state })
    const pruned = final ? [] : pruneCheckpoints(this.runDir, this.config.training.keep_checkpoints)
    this.lastSaved = step
    this.lastSavedDir = dir
    this.writeRunJson({ last_checkpoint: { step, dir, at: state.saved_at } })
    this.emit('checkpoint', { step, dir, final, reason, pruned })
  }

  /** Mean CE over every validation token, and the validation gate metrics (weighted by tokens). */
  async validate(step: number): Promise<ValidationEvent> {
    const t0 = performance.now()
    const { loss, tokens, gates } = await evaluateBatches(this.engine, this.data.valBatches(), { gated: this.gated })
    if (tokens === 0) throw new TrainingError('validation produced no tokens')
    const metrics: Record<string, number> = { 'val/loss': loss, 'val/tokens': tokens, ...(gates ? gateMetricsToDict(gates, 'val/') : {}) }
    const ev: ValidationEvent = { step, totalSteps: this.config.training.train_steps, loss, tokens, seconds: (performance.now() - t0) / 1000, gates, metrics }
    this.metricsSoFar.val_history.push({ step, loss, tokens })
    this.appendMetrics({ type: 'validation', step, time: Date.now(), ...metrics })
    this.emit('validation', ev)
    return ev
  }

  /** Run to the end (or cancellation). Resolves with the done event; rejects (after an 'error' event) on failure. */
  async run(): Promise<DoneEvent> {
    if (this.started) throw new TrainingError('a Trainer runs once; create a new one')
    this.started = true
    try {
      return await this.loop()
    } catch (e) {
      const error = this.explainStorageError(e instanceof Error ? e : new Error(String(e)))
      if (this.ownsRun)
        try {
          this.writeRunJson({ status: 'failed' satisfies RunStatus, ended_at: new Date().toISOString(), error: error.message })
        } catch {
          /* the run folder itself may be the problem */
        }
      this.emit('error', { error, message: error.message, step: this._step })
      throw error
    } finally {
      this.system.stop()
    }
  }

  /**
   * A full disk (ENOSPC, EDQUOT) while writing metrics or a checkpoint: one message naming the run folder, the step,
   * and the last good checkpoint to resume from once there is room (checkpoints are written atomically, so a failed
   * one never replaces a good one; the steps after it are lost).
   */
  private explainStorageError(error: Error): Error {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOSPC' && code !== 'EDQUOT') return error
    const kept = this.lastSavedDir
      ? `the last good checkpoint is step ${this.lastSaved} at ${this.lastSavedDir} (steps after it are lost): free space, then resume from it`
      : 'no checkpoint was written yet: free space, then start the run again'
    return new TrainingError(`no space left on the device of ${this.runDir} (${code}) at step ${this._step}; ${kept}`)
  }

  private async loop(): Promise<DoneEvent> {
    const cfg = this.config
    const T = cfg.training.train_steps
    const runDir = this.runDir
    if (existsSync(runDir) && !statSync(runDir).isDirectory()) throw new TrainingError(`${runDir} is a file, not a folder: give the run a folder (--out DIR)`)
    mkdirSync(runDir, { recursive: true })

    // ---- initial state: fresh or from a checkpoint
    let start = 0
    let resumedFrom: string | null = null
    if (this.opts.resumeFrom) {
      const ck = loadTrainingCheckpoint(this.opts.resumeFrom)
      const a = JSON.stringify(modelConfigToJson(ck.model.config))
      const b = JSON.stringify(modelConfigToJson(cfg.model))
      if (a !== b) throw new TrainingError(`${this.opts.resumeFrom}: the checkpoint's model config differs from the run config; cannot resume`)
      start = ck.state.step
      if (start >= T) throw new TrainingError(`${this.opts.resumeFrom}: the run already finished ${start} of ${T} steps; nothing to resume (raise train_steps to continue)`)
      await this.engine.init({ config: cfg.model, weights: ck.model.weights, optimizer: cfg.optimizer, optimizerState: ck.optimizer })
      this.controller.restore(ck.state.controller as never)
      this.data.restore(ck.state.data)
      this.rng = new Rng(ck.state.rng)
      this.metricsSoFar = structuredClone(ck.state.metrics)
      resumedFrom = this.opts.resumeFrom
      this.lastSaved = start
      this.lastSavedDir = this.opts.resumeFrom
      this.truncateMetrics(start)
      const prev = existsSync(join(runDir, RUN_FILE)) ? (JSON.parse(readFileSync(join(runDir, RUN_FILE), 'utf8')) as Record<string, unknown>) : {}
      this.runJson = prev
    } else {
      if (existsSync(join(runDir, METRICS_FILE)) || existsSync(join(runDir, RUN_FILE)))
        throw new TrainingError(`${runDir} already holds a run; choose another --out folder, or --resume it`)
      await this.engine.init({ config: cfg.model, weights: initWeights(cfg.model, cfg.training.seed), optimizer: cfg.optimizer })
      writeFileSync(join(runDir, METRICS_FILE), '')
    }
    this._step = start
    this.ownsRun = true
    const now = new Date().toISOString()
    const resumes = ((this.runJson.resumes as unknown[]) ?? []).concat(resumedFrom ? [{ at: now, from_step: start, checkpoint: resumedFrom }] : [])
    this.writeRunJson({
      format: 'skipbench-run',
      version: 1,
      name: cfg.name ?? null,
      status: 'running' satisfies RunStatus,
      config: runConfigToJson(cfg),
      engine: this.engine.info,
      seed: cfg.training.seed,
      params: paramCount(cfg.model),
      tokens_per_step: tokensPerStep(cfg),
      data: this.data.info,
      started_at: (this.runJson.started_at as string | undefined) ?? now,
      ended_at: null,
      error: null,
      resumes,
      host: { node: process.version, platform: process.platform, arch: process.arch },
      ...(this.opts.runInfo ?? {}),
    })
    this.emit('start', { runDir, step: start, totalSteps: T, resumedFrom, engine: this.engine.info, data: this.data.info, params: paramCount(cfg.model) })
    // GPU utilisation and memory beside the step metrics, when the engine computes on a GPU and nvidia-smi is there
    this.system.startGpu(this.engine.info)

    const perStep = tokensPerStep(cfg)
    const valEvery = cfg.training.val_every
    const ckEvery = cfg.training.checkpoint_every
    let recentStepSec = 0 // EMA of step seconds, for the ETA
    let status: DoneEvent['status'] = 'completed'
    let checkpointDir: string | null = null

    for (let step = start; ; step++) {
      this._step = step
      const isLast = step === T
      if (!(resumedFrom && step === start)) {
        if (step === 0 || isLast || (valEvery > 0 && step % valEvery === 0)) await this.validate(step)
        if (isLast) {
          await this.saveCheckpoint(step, 'final')
          checkpointDir = join(runDir, FINAL_DIR)
          break
        }
        if (step > 0 && ckEvery > 0 && step % ckEvery === 0) await this.saveCheckpoint(step, 'periodic')
      }
      if (this.opts.signal?.aborted) {
        if (this.lastSaved !== step) await this.saveCheckpoint(step, 'cancel')
        checkpointDir = join(runDir, CHECKPOINTS_DIR, stepDirName(step))
        status = 'cancelled'
        break
      }

      // ---- one optimizer step
      const t0 = performance.now()
      const micro: Batch[] = []
      for (let i = 0; i < cfg.training.grad_acc_steps; i++) micro.push(this.data.next())
      const lr = lrAt(step, T, cfg.optimizer.lr, cfg.schedule)
      const r = await this.engine.trainStep(micro, lr, this.controller.loss())
      if (!Number.isFinite(r.loss)) throw new TrainingError(`the training loss became ${r.loss} at step ${step} (lr ${lr.toExponential(3)}); lower optimizer.lr or check the data`)
      let gates: GateMetrics | null = null
      if (this.gated) {
        if (!r.gates) throw new TrainingError('the engine returned no gate statistics for a gated model')
        gates = computeGateMetrics(r.gates)
        this.controller.update(gates.gates.mean, gates.gates.var)
      }
      const sec = (performance.now() - t0) / 1000
      // the first steps include one-off costs (graph building, warm-up): take the second as the ETA's starting point
      recentStepSec = step <= start + 1 ? sec : 0.9 * recentStepSec + 0.1 * sec
      this.metricsSoFar.tokens += perStep
      this.metricsSoFar.train_seconds += sec
      this.metricsSoFar.last_loss = r.loss
      this._step = step + 1

      const metrics: Record<string, number> = {
        'train/loss': r.loss,
        'train/ce': r.ce,
        'train/controller_loss': r.controllerLoss,
        'train/lr': lr,
        'train/tokens_per_sec': perStep / sec,
        ...(gates ? gateMetricsToDict(gates, 'train/') : {}),
        ...(gates ? this.controller.metrics('train/controller/') : {}),
        ...this.system.sample(),
      }
      const ev: StepEvent = {
        step,
        totalSteps: T,
        loss: r.loss,
        ce: r.ce,
        controllerLoss: r.controllerLoss,
        lr,
        tokens: this.metricsSoFar.tokens,
        stepSeconds: sec,
        tokensPerSec: perStep / sec,
        elapsedSeconds: this.metricsSoFar.train_seconds,
        etaSeconds: recentStepSec * (T - step - 1),
        gates,
        metrics,
      }
      this.appendMetrics({ type: 'step', step, time: Date.now(), tokens: ev.tokens, step_seconds: sec, ...metrics })
      this.emit('step', ev)
    }

    const last = this.metricsSoFar.val_history.at(-1) ?? null
    this.writeRunJson({ status: status satisfies RunStatus, ended_at: new Date().toISOString(), steps_done: this._step, last_validation: last })
    const done: DoneEvent = {
      status,
      step: this._step,
      totalSteps: T,
      runDir,
      checkpoint: checkpointDir,
      lastValidation: last,
      tokens: this.metricsSoFar.tokens,
      trainSeconds: this.metricsSoFar.train_seconds,
    }
    this.emit('done', done)
    return done
  }
}
