/** Preset summaries for the UI: the built-in presets (core/presets) with sizes and FLOPs per token. */
import type { PresetSummary, RunConfigDoc } from '../contract/api.js'
import { inferenceFlops } from '../flops/index.js'
import { parseModelConfig } from '../model/config.js'
import { paramCount } from '../model/params.js'
import { PRESETS } from '../config/index.js'

export async function listPresetSummaries(): Promise<PresetSummary[]> {
  return PRESETS.map((p) => {
    const m = parseModelConfig(p.config.model ?? {})
    let perToken: number | null = null
    try {
      perToken = inferenceFlops(m, { estimator: 'corrected' }).perToken
    } catch {
      perToken = null
    }
    return {
      name: p.name,
      description: p.description,
      kind: p.kind,
      n_layers: m.n_layers,
      dim: m.dim,
      params: paramCount(m),
      inference_flops_per_token: perToken,
      config: structuredClone(p.config) as RunConfigDoc,
    }
  })
}
