/**
 * The tfjs engine: `createTfjsEngine` selects the backend (backend.ts) and returns an Engine (core/engine/engine.ts);
 * its class adds `gradients()` for tests and diagnostics.
 */
import { acquireBackend, type BackendChoice } from './backend.js'
import { TfjsEngine } from './engine.js'

export interface TfjsEngineOptions {
  /** 'auto' (default): native TensorFlow if installed, else WASM, else the JS cpu backend */
  backend?: BackendChoice
}

export async function createTfjsEngine(opts: TfjsEngineOptions = {}): Promise<TfjsEngine> {
  return new TfjsEngine(await acquireBackend(opts.backend ?? 'auto'))
}

export { BackendUnavailableError, type BackendChoice, type BackendStatus } from './backend.js'
export { TfjsEngine } from './engine.js'
