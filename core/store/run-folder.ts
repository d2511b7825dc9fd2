/**
 * What the store reads from a trainer's run folder (core/trainer/trainer.ts writes it), in one place, so the live
 * path (trainer events forwarded by a worker) and ingest (reading the folder afterwards) produce the SAME rows.
 *
 *   run.json       { format: 'skipbench-run', id?, name, status, config, engine: {engine, backend, versions},
 *                    seed, data: {dataset, tokenizer, vocabSize, trainTokens, valTokens}, started_at, ended_at,
 *                    error, resumes, last_checkpoint, ... }
 *   metrics.jsonl  {"type":"step","step":s,"time":ms,"tokens":n,"step_seconds":x,"train/loss":...}
 *                  {"type":"validation","step":s,"time":ms,"val/loss":...,"val/tokens":...}
 *   checkpoints/step-XXXXXX/, final/   (core/checkpoint)
 *
 * Step numbering (the trainer's): a 'step' line s is the optimizer step taken after s completed steps; a
 * 'validation' line s is evaluated after s steps. A checkpoint at s therefore holds every validation ≤ s and every
 * step line < s — exactly what `resumeCutoff` keeps.
 */
import { createHash } from 'node:crypto'
import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { listCheckpoints, MODEL_FILE, OPTIMIZER_FILE, readCheckpointConfig, readSafetensorsHeader, readTrainerState, STATE_FILE } from '../checkpoint/index.js'
import type { MetricPoint, RunKind, RunStatus } from './types.js'

export const RUN_JSON = 'run.json'
export const METRICS_JSONL = 'metrics.jsonl'
/** metric keys of validation events start with this (reference names, spec B.6) */
const VALIDATION_PREFIX = 'val/'

export type MetricLineType = 'step' | 'validation'

/** Metric values of one metrics.jsonl line: every numeric field but type/step/time; bare names get train/ or val/. */
export function lineValues(line: Record<string, unknown>): { type: MetricLineType; step: number; values: Record<string, number> } | null {
  const type = line.type
  const step = line.step
  if ((type !== 'step' && type !== 'validation') || typeof step !== 'number' || !Number.isInteger(step)) return null
  const prefix = type === 'step' ? 'train/' : VALIDATION_PREFIX
  const values: Record<string, number> = {}
  for (const [k, v] of Object.entries(line)) {
    if (k === 'type' || k === 'step' || k === 'time') continue
    if (typeof v === 'number') values[k.includes('/') ? k : prefix + k] = v
    else if (v === null) values[k.includes('/') ? k : prefix + k] = NaN // JSON has no NaN: the trainer's NaN becomes null
  }
  return { type, step, values }
}

/** The same values from the trainer's step event (what a worker forwards): identical keys to lineValues. */
export function stepEventValues(e: { metrics: Record<string, number>; tokens: number; stepSeconds: number }): Record<string, number> {
  return { 'train/tokens': e.tokens, 'train/step_seconds': e.stepSeconds, ...e.metrics }
}

export function toPoints(step: number, values: Record<string, number>): MetricPoint[] {
  return Object.entries(values).map(([key, value]) => ({ step, key, value }))
}

/** Resuming from a checkpoint at `step` keeps validation keys at ≤ step and every other key at < step. */
export function keptOnResume(key: string, step: number, checkpointStep: number): boolean {
  return key.startsWith(VALIDATION_PREFIX) ? step <= checkpointStep : step < checkpointStep
}

/** Iterate the complete lines of a (possibly huge, possibly still growing) text file without reading it whole. */
export function* readLines(path: string, chunkBytes = 1 << 20): Generator<{ line: string; complete: boolean }> {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(chunkBytes)
    const decoder = new StringDecoder('utf8') // keeps a multi-byte character split across chunks whole
    let rest = ''
    let pos = 0
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos)
      if (n === 0) break
      pos += n
      const text = rest + decoder.write(buf.subarray(0, n))
      const parts = text.split('\n')
      rest = parts.pop()!
      for (const p of parts) yield { line: p, complete: true }
    }
    rest += decoder.end()
    // a last line without '\n' may be a write cut short by a crash: reported as incomplete
    if (rest) yield { line: rest, complete: false }
  } finally {
    closeSync(fd)
  }
}

export interface RunJson {
  format?: string
  id?: string
  name?: string | null
  status?: string
  config?: Record<string, unknown>
  engine?: { engine?: string; backend?: string; versions?: Record<string, unknown> }
  seed?: number
  data?: { dataset?: string; tokenizer?: string; vocabSize?: number; trainTokens?: number; valTokens?: number; trainShards?: string[] }
  started_at?: string | null
  ended_at?: string | null
  error?: string | null
  [k: string]: unknown
}

/**
 * The run's identity: run.json `id` (the job runner writes one), else a hash of what a resume cannot change — the
 * start time (kept across resumes), the model config and the seed — so a moved or resumed folder keeps its uid.
 */
export function runUid(run: RunJson): string {
  if (typeof run.id === 'string' && run.id) return run.id
  const c = (run.config ?? {}) as { model?: unknown; training?: { seed?: unknown } }
  const h = createHash('sha256').update(`${run.started_at ?? ''}\n${JSON.stringify(c.model ?? {})}\n${String(c.training?.seed ?? run.seed ?? '')}`).digest('hex')
  return `run-${h.slice(0, 24)}`
}

export function runKind(config: Record<string, unknown> | undefined): RunKind {
  const model = (config?.model ?? {}) as { zero_init_masks?: unknown; mask_zero_init?: unknown }
  const dense = model.zero_init_masks ?? model.mask_zero_init ?? true
  return dense === false ? 'gated' : 'dense'
}

export function runStatusOfFolder(s: unknown): RunStatus {
  return s === 'completed' || s === 'failed' || s === 'cancelled' || s === 'running' ? s : 'interrupted'
}

/**
 * Cheap structural check of a training checkpoint folder (no tensor data read): trainer_state.json parses,
 * config.json parses, both safetensors headers are consistent with their file sizes. Returns null when it looks
 * usable, else the problem. The worker's full load catches what this cannot (bit flips inside tensor data).
 */
export function checkpointProblem(dir: string): string | null {
  if (!existsSync(dir)) return `${dir}: missing (pruned or deleted)`
  try {
    readTrainerState(dir)
    readCheckpointConfig(dir)
    for (const f of [MODEL_FILE, OPTIMIZER_FILE]) {
      const p = join(dir, f)
      if (!existsSync(p)) return `${dir}: no ${f}`
      readSafetensorsHeader(p)
    }
    return null
  } catch (e) {
    return (e as Error).message
  }
}

export { listCheckpoints, STATE_FILE }
