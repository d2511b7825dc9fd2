/**
 * Export a checkpoint (a checkpoint folder or a run folder) as a standard model file:
 * - `onnx`: an inference model (core/engine/ort/export.ts): input_ids (batch, sequence) → logits (+ gates for gated
 *   models), dynamic batch and sequence axes, IR 8 / opset 17, standard ops; passes onnx.checker full_check.
 * - `safetensors`: the weights under the reference names (`model.` prefix, reference order) with config.json (the
 *   reference keys plus gated_attention) written beside it.
 * `dtype` bf16 stores the weights rounded to bfloat16 (nearest even); the ONNX model still computes in float32.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { CheckpointError, checkpointConfigJson, CONFIG_FILE, KEY_PREFIX, loadModelCheckpoint, MODEL_FILE, writeJsonAtomic, writeSafetensors } from '../checkpoint/index.js'
import { dims } from '../model/config.js'
import { paramSpecs } from '../model/params.js'
import { resolveCheckpointDir } from './evaluate.js'

export const EXPORT_FORMATS = ['onnx', 'safetensors'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export const EXPORT_DTYPES = ['f32', 'bf16'] as const
export type ExportDtype = (typeof EXPORT_DTYPES)[number]

export interface ExportModelOptions {
  checkpoint: string
  format: ExportFormat
  /** output file; for safetensors, config.json is written into the same folder */
  out: string
  dtype?: ExportDtype
}

export interface ExportModelResult {
  format: ExportFormat
  dtype: ExportDtype
  path: string
  bytes: number
  /** safetensors: the config.json written beside it */
  configPath: string | null
  checkpoint: string
  inputs: string[]
  outputs: string[]
}

export async function exportModel(o: ExportModelOptions): Promise<ExportModelResult> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) throw new CheckpointError(`unknown export format "${o.format}"; choose onnx or safetensors`)
  const dtype = o.dtype ?? 'f32'
  if (!(EXPORT_DTYPES as readonly string[]).includes(dtype)) throw new CheckpointError(`unknown export dtype "${dtype}"; choose f32 or bf16`)
  const checkpoint = resolveCheckpointDir(resolve(o.checkpoint))
  const out = resolve(o.out)
  const dir = dirname(out)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CheckpointError(`cannot export to ${out}: folder ${dir} does not exist (create it first)`)
  if (existsSync(out) && statSync(out).isDirectory()) throw new CheckpointError(`cannot export to ${out}: it is a folder; give a file name, e.g. ${join(out, o.format === 'onnx' ? 'model.onnx' : MODEL_FILE)}`)
  // never overwrite the checkpoint being exported (a bf16 export would silently lose its precision)
  if (resolve(dir) === resolve(checkpoint) && (o.format === 'safetensors' || out === join(checkpoint, MODEL_FILE) || out === join(checkpoint, CONFIG_FILE)))
    throw new CheckpointError(`cannot export into the checkpoint folder itself (${checkpoint}): it would overwrite the checkpoint; choose another folder`)
  const { config, weights } = loadModelCheckpoint(checkpoint)
  const gated = dims(config).gated
  if (o.format === 'onnx') {
    const { exportOnnxModel } = await import('../engine/ort/export.js')
    await exportOnnxModel(config, weights, out, { dtype })
    return { format: 'onnx', dtype, path: out, bytes: statSync(out).size, configPath: null, checkpoint, inputs: ['input_ids'], outputs: gated ? ['logits', 'gates'] : ['logits'] }
  }
  writeSafetensors(
    out,
    paramSpecs(config).map((p) => [KEY_PREFIX + p.name, { shape: [...p.shape], data: weights.get(p.name)! }]),
    { format: 'pt', producer: 'skipbench' },
    { dtype: dtype === 'bf16' ? 'BF16' : 'F32' },
  )
  const configPath = join(dir, CONFIG_FILE)
  writeJsonAtomic(configPath, { ...checkpointConfigJson(config), torch_dtype: dtype === 'bf16' ? 'bfloat16' : 'float32' })
  return { format: 'safetensors', dtype, path: out, bytes: statSync(out).size, configPath, checkpoint, inputs: [], outputs: [] }
}
