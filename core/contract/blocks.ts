/** Building blocks of the API contract (ids, numbers on the wire, tags, app info, presets): types and schemas only. */
import { z } from 'zod'

// ------------------------------------------------------------------------------------------------ building blocks

export const Id = z.number().int().positive()
export const Empty = z.object({}).strict()
/** a metric value on the wire: JSON has no NaN/±∞, so those travel as null */
export const Num = z.number().nullable()
export const Tag = z.string().trim().min(1, { error: 'a tag cannot be empty' }).max(40, { error: 'tags are at most 40 characters' })

export const EngineAvailability = z.object({
  engine: z.enum(['ort', 'tfjs']),
  backend: z.string(),
  available: z.boolean(),
  detail: z.string(),
})
export type EngineAvailability = z.infer<typeof EngineAvailability>

export const AppInfo = z.object({
  name: z.literal('skipbench'),
  version: z.string(),
  transport: z.enum(['electron', 'http']),
  node: z.string(),
  platform: z.string(),
  engines: z.array(EngineAvailability),
})
export type AppInfo = z.infer<typeof AppInfo>

/** A run config document as the form edits it (RunConfig JSON, optionally `"extends": "<preset>"`). */
export const RunConfigDoc = z.record(z.string(), z.unknown())
export type RunConfigDoc = z.infer<typeof RunConfigDoc>

export const PresetSummary = z.object({
  name: z.string(),
  description: z.string(),
  kind: z.enum(['dense', 'gated']),
  n_layers: z.number().int(),
  dim: z.number().int(),
  params: z.number().int(),
  inference_flops_per_token: z.number().nullable(),
  /** the preset's config document (what the form starts from) */
  config: RunConfigDoc,
})
export type PresetSummary = z.infer<typeof PresetSummary>
