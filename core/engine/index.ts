/**
 * Engine selection: the one place that picks a tensor runtime. Engines are imported lazily, so choosing one never
 * loads the other's native code. The chosen engine and the backend it actually uses (`engine.info`) are recorded
 * with every run by the trainer.
 *
 * - `ort`: onnxruntime-node (training graphs from our own autodiff); backends/providers auto | cpu | cuda | webgpu.
 * - `tfjs`: TensorFlow.js; backends auto | tensorflow | wasm | cpu.
 * Default: `ort` when its module is present, else `tfjs`.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Engine } from './engine.js'

export type { Engine } from './engine.js'
export const ENGINE_NAMES = ['ort', 'tfjs'] as const
export type EngineName = (typeof ENGINE_NAMES)[number]
export const TFJS_BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const
export const ORT_BACKENDS = ['auto', 'cpu', 'cuda', 'webgpu'] as const

export interface CreateEngineOptions {
  /** which runtime; default: ort if available, else tfjs */
  engine?: EngineName
  /** tfjs: auto | tensorflow | wasm | cpu; ort: auto | cpu | cuda | webgpu (default auto) */
  backend?: string
  /** ort only: intra-op threads */
  threads?: number
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EngineError'
  }
}

// Specifiers kept in variables so that type checking does not depend on which engine folders exist yet.
const ORT_MODULE = './ort/index.js'
const TFJS_MODULE = './tfjs/index.js'

type OrtModule = { createOrtEngine(opts?: { provider?: string; threads?: number }): Promise<Engine> }
type TfjsModule = { createTfjsEngine(opts?: { backend?: string }): Promise<Engine> }

function moduleExists(spec: string): boolean {
  const at = (ext: string) => fileURLToPath(new URL(spec.replace(/\.js$/, ext), import.meta.url))
  return existsSync(at('.ts')) || existsSync(at('.js'))
}

async function tryImport<T>(spec: string): Promise<T | null> {
  if (!moduleExists(spec)) return null
  return (await import(/* @vite-ignore */ spec)) as T
}

/** Which engine implementations exist in this build (nothing is loaded). */
export function availableEngines(): EngineName[] {
  const out: EngineName[] = []
  if (moduleExists(ORT_MODULE)) out.push('ort')
  if (moduleExists(TFJS_MODULE)) out.push('tfjs')
  return out
}

export function defaultEngineName(): EngineName {
  const a = availableEngines()
  if (!a.length) throw new EngineError('no engine is available in this build (neither core/engine/ort nor core/engine/tfjs)')
  return a[0]!
}

function checkBackend(engine: EngineName, backend: string | undefined): void {
  if (backend === undefined) return
  const allowed: readonly string[] = engine === 'ort' ? ORT_BACKENDS : TFJS_BACKENDS
  if (!allowed.includes(backend)) throw new EngineError(`unknown backend "${backend}" for engine ${engine}; choose one of ${allowed.join(', ')}`)
}

/** Create an engine (not yet initialised with a model: call `engine.init(...)`). */
export async function createEngine(opts: CreateEngineOptions = {}): Promise<Engine> {
  const name = opts.engine ?? defaultEngineName()
  if (!(ENGINE_NAMES as readonly string[]).includes(name)) throw new EngineError(`unknown engine "${name}"; choose ort or tfjs`)
  checkBackend(name, opts.backend)
  if (name === 'ort') {
    const m = await tryImport<OrtModule>(ORT_MODULE)
    if (!m) throw new EngineError('the onnxruntime engine is not available in this build; use --engine tfjs')
    return m.createOrtEngine({
      ...(opts.backend !== undefined ? { provider: opts.backend } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    })
  }
  const m = await tryImport<TfjsModule>(TFJS_MODULE)
  if (!m) throw new EngineError('the TensorFlow.js engine is not available in this build; use --engine ort')
  return m.createTfjsEngine(opts.backend !== undefined ? { backend: opts.backend } : {})
}
