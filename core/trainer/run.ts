/**
 * Wiring for a whole run: resolve a config (preset, file, overrides), open engine and data, build the Trainer,
 * and clean up. Shared by the CLI and the app's training process; the Trainer itself stays free of it.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { resolveResume, CheckpointError } from '../checkpoint/index.js'
import { createEngine, type CreateEngineOptions } from '../engine/index.js'
import type { Engine } from '../engine/engine.js'
import { collectProvenance, type Provenance } from '../provenance/index.js'
import { openTrainData, type TrainData } from './data.js'
import { mergeConfig, parseRunConfigWithWarnings, RunConfigError, runConfigToJson, type ResolvedRunConfig } from '../config/index.js'
import { RUN_FILE, Trainer, type TrainerOptions } from './trainer.js'
import { jsonProblem } from '../util/json-problem.js'

export function readConfigFile(path: string): unknown {
  if (!existsSync(path)) throw new RunConfigError([`${path}: file not found`])
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new RunConfigError([`${path}: ${jsonProblem(e)}`])
  }
}

/** The run config and run folder of a resume target (a run folder or one of its checkpoints). */
export function loadResumeTarget(path: string, overrides: unknown = undefined): { config: ResolvedRunConfig; warnings: string[]; runDir: string; checkpoint: string } {
  const { checkpoint, runDir } = resolveResume(path)
  const runFile = join(runDir, RUN_FILE)
  let doc: unknown
  if (existsSync(runFile)) doc = (JSON.parse(readFileSync(runFile, 'utf8')) as { config?: unknown }).config
  if (!doc) throw new CheckpointError(`${runDir}: no ${RUN_FILE} with the run's config; cannot resume`)
  const { config, warnings } = parseRunConfigWithWarnings(mergeConfig(doc, overrides))
  return { config, warnings, runDir, checkpoint }
}

export interface PreparedRun {
  trainer: Trainer
  engine: Engine
  data: TrainData
  /** what the run is made from (also written to run.json) */
  provenance: Provenance
  /** dispose engine and data (idempotent) */
  close(): Promise<void>
}

export interface PrepareOptions extends Omit<TrainerOptions, 'resumeFrom'> {
  /** parsed once by the caller (parseRunConfig at its boundary, or assertResolved for a job's row); used as it is */
  config: ResolvedRunConfig
  resumeFrom?: string
  dataDir?: string
  /** engine choice; defaults to config.engine */
  engine?: CreateEngineOptions
}

export async function prepareRun(o: PrepareOptions): Promise<PreparedRun> {
  const ec = { ...o.config.engine, ...(o.engine ?? {}) }
  const data = await openTrainData(o.config, o.dataDir ? { dataDir: o.dataDir } : {})
  let engine: Engine
  try {
    engine = await createEngine(ec)
  } catch (e) {
    data.close()
    throw e
  }
  const provenance = collectProvenance({
    config: runConfigToJson(o.config) as Record<string, unknown>,
    seed: o.config.training.seed,
    data: data.info,
    engine: engine.info,
  })
  const trainer = new Trainer(o.config, engine, data, {
    runDir: o.runDir,
    ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    runInfo: { ...(o.runInfo ?? {}), provenance },
  })
  let closed = false
  return {
    trainer,
    engine,
    data,
    provenance,
    async close() {
      if (closed) return
      closed = true
      data.close()
      await engine.dispose()
    },
  }
}

