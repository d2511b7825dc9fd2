/**
 * Training-state checkpoints: everything a run needs to continue exactly where it stopped (spec H.15).
 *
 *   <dir>/model.safetensors      weights (a plain model checkpoint: `skipbench eval` reads it)
 *   <dir>/config.json            model keys + controller, data, optimizer, schedule, seed
 *   <dir>/optimizer.safetensors  AdamW moments `m.<name>`, `v.<name>` (F32), metadata { step }
 *   <dir>/trainer_state.json     step, controller state, data-loader position, RNG state, metrics so far
 *
 * A checkpoint is written into a temporary sibling folder and renamed into place, so a crash never leaves a
 * half-written checkpoint under its final name. keep-last-N pruning removes older `step-XXXXXX` folders.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { OptimizerState } from '../engine/engine.js'
import type { ModelConfig } from '../model/config.js'
import { paramSpecs, type Weights } from '../model/params.js'
import type { RngState } from '../util/rng.js'
import { loadModelCheckpoint, saveModelCheckpoint, writeJsonAtomic, type CheckpointExtras, type LoadedModel } from './model.js'
import { CheckpointError, readSafetensors, writeSafetensors } from './safetensors.js'
import { jsonProblem } from '../util/json-problem.js'
import { CHECKPOINTS_DIR, FINAL_DIR } from '../paths.js'

export const OPTIMIZER_FILE = 'optimizer.safetensors'
export const STATE_FILE = 'trainer_state.json'

/** Metrics a resumed run needs to carry on (cumulative counters and the validation history). */
export interface MetricsSoFar {
  /** training tokens processed */
  tokens: number
  /** wall-clock seconds spent in training steps (excludes validation and checkpointing) */
  train_seconds: number
  last_loss: number | null
  val_history: { step: number; loss: number; tokens: number }[]
}

export interface TrainerState {
  format: 'skipbench-trainer-state'
  version: 1
  /** optimizer steps completed */
  step: number
  total_steps: number
  controller: unknown
  /** data-loader position (opaque to the checkpoint code) */
  data: unknown
  rng: RngState
  metrics: MetricsSoFar
  saved_at: string
}

export interface TrainingCheckpoint {
  config: ModelConfig
  weights: Weights
  extras: CheckpointExtras
  optimizer: OptimizerState
  state: TrainerState
}

/** Write a complete training checkpoint to `dir` atomically (temp folder, then rename over any old one). */
export function saveTrainingCheckpoint(dir: string, ck: TrainingCheckpoint): void {
  const parent = dirname(dir)
  mkdirSync(parent, { recursive: true })
  const tmp = join(parent, `.tmp-${basename(dir)}-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp)
  try {
    saveModelCheckpoint(tmp, ck.config, ck.weights, ck.extras)
    const tensors: [string, { shape: number[]; data: Float32Array }][] = []
    for (const p of paramSpecs(ck.config)) {
      const m = ck.optimizer.m.get(p.name)
      const v = ck.optimizer.v.get(p.name)
      if (!m || !v) throw new CheckpointError(`cannot save optimizer state: no moments for "${p.name}"`)
      tensors.push([`m.${p.name}`, { shape: p.shape, data: m }], [`v.${p.name}`, { shape: p.shape, data: v }])
    }
    writeSafetensors(join(tmp, OPTIMIZER_FILE), tensors, { step: String(ck.optimizer.step), format: 'skipbench-adamw' })
    writeJsonAtomic(join(tmp, STATE_FILE), ck.state)
    if (existsSync(dir)) {
      const old = join(parent, `.old-${basename(dir)}-${process.pid}`)
      renameSync(dir, old)
      renameSync(tmp, dir)
      rmSync(old, { recursive: true, force: true })
    } else renameSync(tmp, dir)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}

function isTrainingCheckpoint(dir: string): boolean {
  return existsSync(join(dir, STATE_FILE))
}

export function readTrainerState(dir: string): TrainerState {
  const path = join(dir, STATE_FILE)
  if (!existsSync(path)) throw new CheckpointError(`${dir}: not a training checkpoint (no ${STATE_FILE})`)
  let s: TrainerState
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as TrainerState
  } catch (e) {
    throw new CheckpointError(`${path}: ${jsonProblem(e)}`)
  }
  if (s?.format !== 'skipbench-trainer-state' || s.version !== 1 || !Number.isInteger(s.step))
    throw new CheckpointError(`${path}: not a skipbench trainer state (format/version/step missing or unknown)`)
  return s
}

/** Load a training checkpoint: weights, optimizer moments, trainer state (all validated). */
export function loadTrainingCheckpoint(dir: string): { model: LoadedModel; optimizer: OptimizerState; state: TrainerState } {
  const state = readTrainerState(dir)
  const model = loadModelCheckpoint(dir)
  const file = join(dir, OPTIMIZER_FILE)
  if (!existsSync(file)) throw new CheckpointError(`${dir}: no ${OPTIMIZER_FILE}`)
  const { tensors, metadata } = readSafetensors(file)
  const m: Weights = new Map()
  const v: Weights = new Map()
  for (const p of paramSpecs(model.config)) {
    for (const [kind, into] of [['m', m], ['v', v]] as const) {
      const t = tensors.get(`${kind}.${p.name}`)
      if (!t) throw new CheckpointError(`${file}: missing optimizer moment "${kind}.${p.name}"`)
      if (t.data.length !== model.weights.get(p.name)!.length)
        throw new CheckpointError(`${file}: optimizer moment "${kind}.${p.name}" has shape [${t.shape.join(', ')}], expected [${p.shape.join(', ')}]`)
      into.set(p.name, t.data)
    }
  }
  const step = Number(metadata.step)
  if (!Number.isInteger(step) || step < 0) throw new CheckpointError(`${file}: metadata has no valid optimizer step`)
  return { model, optimizer: { step, m, v }, state }
}

export interface CheckpointRef {
  step: number
  dir: string
  final: boolean
}

/** Training checkpoints of a run folder (checkpoints/step-* and final/), by step; final after a step-* of equal step. */
export function listCheckpoints(runDir: string): CheckpointRef[] {
  const out: CheckpointRef[] = []
  const cdir = join(runDir, CHECKPOINTS_DIR)
  if (existsSync(cdir))
    for (const name of readdirSync(cdir)) {
      const mm = /^step-(\d+)$/.exec(name)
      if (mm && isTrainingCheckpoint(join(cdir, name))) out.push({ step: Number(mm[1]), dir: join(cdir, name), final: false })
    }
  const fdir = join(runDir, FINAL_DIR)
  if (isTrainingCheckpoint(fdir)) out.push({ step: readTrainerState(fdir).step, dir: fdir, final: true })
  return out.sort((a, b) => a.step - b.step || Number(a.final) - Number(b.final))
}

/** Delete all but the newest `keep` step-* checkpoints (keep ≤ 0 keeps everything). */
export function pruneCheckpoints(runDir: string, keep: number): string[] {
  if (keep <= 0) return []
  const steps = listCheckpoints(runDir).filter((c) => !c.final)
  const removed = steps.slice(0, Math.max(0, steps.length - keep)).map((c) => c.dir)
  for (const d of removed) rmSync(d, { recursive: true, force: true })
  return removed
}

/**
 * Where to resume from: a training-checkpoint folder itself, or a run folder (its newest checkpoint). Returns the
 * checkpoint folder and the run folder that owns it.
 */
export function resolveResume(path: string): { checkpoint: string; runDir: string } {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new CheckpointError(`${path}: no such folder to resume from`)
  if (isTrainingCheckpoint(path)) {
    const parent = dirname(path)
    const runDir = basename(parent) === CHECKPOINTS_DIR ? dirname(parent) : parent
    return { checkpoint: path, runDir }
  }
  const all = listCheckpoints(path)
  if (!all.length) throw new CheckpointError(`${path}: no training checkpoint found (expected ${CHECKPOINTS_DIR}/step-XXXXXX/ or ${FINAL_DIR}/ with ${STATE_FILE})`)
  return { checkpoint: all[all.length - 1]!.dir, runDir: path }
}
