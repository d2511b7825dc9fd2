/**
 * Engine selection: the one place that picks a tensor runtime. Engines are imported lazily, so choosing one never
 * loads the other's native code. The chosen engine and the backend it actually uses (`engine.info`) are recorded
 * with every run by the trainer.
 *
 * - `ort`: onnxruntime-node (training graphs from our own autodiff); backends/providers auto | cpu | cuda | webgpu.
 * - `tfjs`: TensorFlow.js; backends auto | tensorflow | wasm | cpu.
 * Default: `ort`.
 */
import type { Engine } from './engine.js'

export type { Engine } from './engine.js'
import { ENGINE_NAMES, type EngineName } from '../config/run.js'
import { UserError } from '../user-errors.js'

export { ENGINE_NAMES, type EngineName }
const TFJS_BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const
const ORT_BACKENDS = ['auto', 'cpu', 'cuda', 'webgpu'] as const

export interface CreateEngineOptions {
  /** which runtime; default ort */
  engine?: EngineName
  /** tfjs: auto | tensorflow | wasm | cpu; ort: auto | cpu | cuda | webgpu (default auto) */
  backend?: string
  /** ort only: intra-op threads */
  threads?: number
}

export class EngineError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'EngineError'
  }
}

/** The default engine: onnxruntime (faster training and evaluation on CPUs, CUDA via its provider). */
function defaultEngineName(): EngineName {
  return 'ort'
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
    const { createOrtEngine } = await import('./ort/index.js')
    return createOrtEngine({
      ...(opts.backend !== undefined ? { provider: opts.backend as (typeof ORT_BACKENDS)[number] } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    })
  }
  const { createTfjsEngine } = await import('./tfjs/index.js')
  return createTfjsEngine(opts.backend !== undefined ? { backend: opts.backend as (typeof TFJS_BACKENDS)[number] } : {})
}
