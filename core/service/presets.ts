/** Preset summaries for the UI. (Wired to core/presets once it lands.) */
import type { PresetSummary } from '../contract/api.js'

export async function listPresetSummaries(): Promise<PresetSummary[]> {
  return []
}
