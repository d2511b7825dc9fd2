/**
 * The one API the renderer uses, shared by both transports (Electron IPC through the preload, and HTTP against
 * `skipbench serve`). Each method has a zod schema for its input and output; every boundary validates with them.
 * Types and schemas only: this folder is imported by the renderer and the preload (lint-enforced).
 */
import { z } from 'zod'

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

export const PresetSummary = z.object({
  name: z.string(),
  description: z.string(),
  kind: z.enum(['dense', 'gated']),
  n_layers: z.number().int(),
  dim: z.number().int(),
  params: z.number().int(),
  inference_flops_per_token: z.number().nullable(),
})
export type PresetSummary = z.infer<typeof PresetSummary>

const Empty = z.object({}).strict()

/** Method table: name → input/output schemas. Adding a method here without implementing it is a compile error. */
export const API = {
  getAppInfo: { input: Empty, output: AppInfo },
  listPresets: { input: Empty, output: z.array(PresetSummary) },
} as const

export type ApiMethod = keyof typeof API
export type ApiInput<K extends ApiMethod> = z.input<(typeof API)[K]['input']>
export type ApiOutput<K extends ApiMethod> = z.output<(typeof API)[K]['output']>

/** The service both transports expose. */
export type SkipbenchApi = { [K in ApiMethod]: (input: ApiInput<K>) => Promise<ApiOutput<K>> }

export const API_METHODS = Object.keys(API) as ApiMethod[]

/** IPC channel names: one prefix, validated by the preload and main (VS Code's validateIPC idea). */
export const CHANNEL_PREFIX = 'skipbench:'
export const channelOf = (m: ApiMethod) => `${CHANNEL_PREFIX}${m}`

/** Errors crossing a transport boundary. */
export const ApiError = z.object({ error: z.string(), code: z.enum(['bad_request', 'not_found', 'internal', 'unauthorized']) })
export type ApiError = z.infer<typeof ApiError>

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API, x)
}
