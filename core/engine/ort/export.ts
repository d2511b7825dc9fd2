/**
 * Export a trained model as a standard ONNX inference model (opset 17): input `input_ids` (B, T) int64,
 * output `logits` (B, T, V) float32 (+ `gates` (L, B, T) for gated models), weights as named initializers.
 * Shapes are static: choose batch and seqLen at export time (defaults 1 × max_seq_len).
 */
import { writeFile } from 'node:fs/promises'
import type { ModelConfig } from '../../model/config.js'
import type { Weights } from '../../model/params.js'
import { buildExportGraph } from './graphs.js'
import { serializeGraph } from './onnx-writer.js'

export interface ExportOptions {
  batch?: number
  seqLen?: number
}

export function exportOnnxBytes(config: ModelConfig, weights: Weights, o: ExportOptions = {}): Uint8Array {
  const g = buildExportGraph(config, weights, { batch: o.batch ?? 1, seqLen: o.seqLen ?? config.max_seq_len })
  return serializeGraph(g, {
    graphName: 'skip_middle_lm',
    docString: 'skip-middle transformer exported by skipbench (float32, static shapes)',
    metadata: { config: JSON.stringify(config) },
  })
}

export async function exportOnnxModel(config: ModelConfig, weights: Weights, path: string, o: ExportOptions = {}): Promise<void> {
  await writeFile(path, exportOnnxBytes(config, weights, o))
}
