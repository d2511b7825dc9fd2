/**
 * Export a trained model as a standard ONNX inference model (IR 8, opset 17, standard ops only): input `input_ids`
 * (batch, sequence) int64, output `logits` (batch, sequence, V) float32 (+ `gates` (L, batch, sequence) for gated
 * models), weights as initializers with the reference parameter names. Batch and sequence are dynamic axes
 * (sequence ≤ max_seq_len). dtype 'bf16' stores the weights as bfloat16 and computes in float32.
 */
import { writeFile } from 'node:fs/promises'
import type { ModelConfig } from '../../model/config.js'
import type { Weights } from '../../model/params.js'
import { buildExportGraph } from './graphs.js'
import { serializeGraph } from './onnx-writer.js'

export interface ExportOptions {
  /** stored weight precision (default f32) */
  dtype?: 'f32' | 'bf16'
}

export function exportOnnxBytes(config: ModelConfig, weights: Weights, o: ExportOptions = {}): Uint8Array {
  const g = buildExportGraph(config, weights, { dtype: o.dtype ?? 'f32' })
  return serializeGraph(g, {
    graphName: 'skip_middle_lm',
    docString: `skip-middle transformer exported by skipbench (${o.dtype === 'bf16' ? 'bfloat16 weights, float32 compute' : 'float32'}; dynamic batch and sequence, sequence ≤ ${config.max_seq_len})`,
    metadata: { config: JSON.stringify(config) },
  })
}

export async function exportOnnxModel(config: ModelConfig, weights: Weights, path: string, o: ExportOptions = {}): Promise<void> {
  await writeFile(path, exportOnnxBytes(config, weights, o))
}
