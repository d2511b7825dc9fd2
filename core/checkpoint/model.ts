/**
 * Model checkpoints (spec F, H.15): a folder holding `model.safetensors` (reference tensor names, written with the
 * `model.` prefix of the released checkpoints, accepted with or without it) and `config.json` (the reference model
 * keys plus ours: gated_attention, controller, data, optimizer, schedule, seed). The paper's released folders (HF
 * keys such as architectures / torch_dtype, a BF16 embedding, no gated_attention → "query") load unchanged.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, modelConfigToJson, parseModelConfig, type ModelConfig } from '../model/config.js'
import { numel, paramSpecs, type Weights } from '../model/params.js'
import { CheckpointError, readSafetensors, writeSafetensors, type SafetensorsDtype } from './safetensors.js'
import { jsonProblem } from '../util/json-problem.js'

export const MODEL_FILE = 'model.safetensors'
export const CONFIG_FILE = 'config.json'
export const KEY_PREFIX = 'model.'

/** Extra keys written into config.json beside the model keys (spec H.15). */
export interface CheckpointExtras {
  controller?: unknown
  data?: unknown
  optimizer?: unknown
  schedule?: unknown
  seed?: number
  [k: string]: unknown
}

export interface LoadedModel {
  config: ModelConfig
  weights: Weights
  /** the raw config.json */
  configJson: Record<string, unknown>
  /** dtypes found on disk, e.g. { BF16: 1, F32: 40 } */
  dtypes: Partial<Record<SafetensorsDtype, number>>
  /** whether the file used the `model.` prefix */
  prefixed: boolean
}

/** Names, missing/unexpected tensors and shape mismatches against the config; [] when they agree. */
function weightProblems(config: ModelConfig, shapes: Map<string, readonly number[]>): string[] {
  const problems: string[] = []
  const expected = new Map(paramSpecs(config).map((p) => [p.name, p.shape]))
  for (const [name, shape] of expected) {
    const got = shapes.get(name)
    if (!got) problems.push(`missing tensor "${name}" (expected shape [${shape.join(', ')}])`)
    else if (got.length !== shape.length || got.some((d, i) => d !== shape[i]))
      problems.push(`tensor "${name}" has shape [${got.join(', ')}], expected [${shape.join(', ')}]`)
  }
  for (const [name, shape] of shapes) if (!expected.has(name)) problems.push(`unexpected tensor "${name}" (shape [${shape.join(', ')}])`)
  return problems
}

function summarise(what: string, problems: string[]): string {
  const shown = problems.slice(0, 8)
  const more = problems.length > shown.length ? `; … and ${problems.length - shown.length} more` : ''
  return `${what}: ${shown.join('; ')}${more}`
}

/** Read and parse config.json (also accepts a nested training config `{ model: {...} }`). */
export function readCheckpointConfig(dir: string): { config: ModelConfig; configJson: Record<string, unknown> } {
  const path = join(dir, CONFIG_FILE)
  if (!existsSync(path)) throw new CheckpointError(`${dir}: not a checkpoint folder (no ${CONFIG_FILE})`)
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new CheckpointError(`${path}: ${jsonProblem(e)}`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError(`${path}: expected a JSON object`)
  const obj = json as Record<string, unknown>
  const modelPart = !('dim' in obj) && obj.model && typeof obj.model === 'object' ? (obj.model as Record<string, unknown>) : obj
  try {
    return { config: parseModelConfig(modelPart), configJson: obj }
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${path}: ${e.message}`)
    throw e
  }
}

/** Load a checkpoint folder; validates every tensor's presence and shape against config.json. */
export function loadModelCheckpoint(dir: string): LoadedModel {
  const { config, configJson } = readCheckpointConfig(dir)
  const file = join(dir, MODEL_FILE)
  if (!existsSync(file)) throw new CheckpointError(`${dir}: no ${MODEL_FILE} beside ${CONFIG_FILE}`)
  const { tensors } = readSafetensors(file)
  const weights: Weights = new Map()
  const shapes = new Map<string, readonly number[]>()
  const dtypes: Partial<Record<SafetensorsDtype, number>> = {}
  let prefixed = false
  for (const [raw, t] of tensors) {
    const name = raw.startsWith(KEY_PREFIX) ? raw.slice(KEY_PREFIX.length) : raw
    if (name !== raw) prefixed = true
    if (shapes.has(name)) throw new CheckpointError(`${file}: tensor "${name}" appears twice (with and without the "${KEY_PREFIX}" prefix)`)
    shapes.set(name, t.shape)
    weights.set(name, t.data)
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1
  }
  const problems = weightProblems(config, shapes)
  if (problems.length) throw new CheckpointError(summarise(`${file} does not match ${join(dir, CONFIG_FILE)}`, problems))
  return { config, weights, configJson, dtypes, prefixed }
}

/** config.json content: the reference keys + gated_attention (modelConfigToJson) + our extras. */
export function checkpointConfigJson(config: ModelConfig, extras: CheckpointExtras = {}): Record<string, unknown> {
  return { ...modelConfigToJson(config), ...extras }
}

/**
 * Write model.safetensors (F32, `model.` prefix, reference parameter order) and config.json into `dir` (which must
 * exist). Weights are validated first.
 */
export function saveModelCheckpoint(dir: string, config: ModelConfig, weights: Weights, extras: CheckpointExtras = {}): void {
  const shapes = new Map<string, readonly number[]>()
  for (const p of paramSpecs(config)) {
    const w = weights.get(p.name)
    if (w) shapes.set(p.name, w.length === numel(p.shape) ? p.shape : [w.length])
  }
  for (const name of weights.keys()) if (!shapes.has(name)) shapes.set(name, [weights.get(name)!.length])
  const problems = weightProblems(config, shapes)
  if (problems.length) throw new CheckpointError(summarise('cannot save checkpoint: weights do not match the config', problems))
  writeSafetensors(
    join(dir, MODEL_FILE),
    paramSpecs(config).map((p) => [KEY_PREFIX + p.name, { shape: p.shape, data: weights.get(p.name)! }]),
    { format: 'pt', producer: 'skipbench' },
  )
  writeJsonAtomic(join(dir, CONFIG_FILE), checkpointConfigJson(config, extras))
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n')
  renameSync(tmp, path)
}
