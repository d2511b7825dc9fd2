/**
 * Which engines and backends can run on this machine, detected without loading heavy native code where possible.
 * Missing optional pieces are reported with what a user must install, never thrown at start-up.
 */
import { createRequire } from 'node:module'
import type { EngineAvailability } from '../contract/api.js'

const require = createRequire(import.meta.url)

function resolvable(id: string): boolean {
  try {
    require.resolve(id)
    return true
  } catch {
    return false
  }
}

export async function detectEngines(): Promise<EngineAvailability[]> {
  const out: EngineAvailability[] = []
  let ortBackends: string[] = []
  let ortError = ''
  try {
    const ort = (await import('onnxruntime-node')) as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }
    ortBackends = (ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }]).map((b) => `${b.name}${b.bundled ? '' : ' (needs libraries)'}`)
  } catch (e) {
    ortError = (e as Error).message
  }
  out.push({
    engine: 'ort',
    backend: 'cpu',
    available: ortError === '',
    detail: ortError === '' ? `onnxruntime-node providers: ${ortBackends.join(', ')}` : `onnxruntime-node failed to load: ${ortError}`,
  })
  const cudaListed = ortBackends.some((b) => b.startsWith('cuda'))
  out.push({
    engine: 'ort',
    backend: 'cuda',
    available: false,
    detail: cudaListed
      ? 'CUDA provider libraries are downloaded by onnxruntime-node at install time on CUDA machines (skipped here by allowScripts); checked when a run asks for it'
      : 'not offered by this onnxruntime-node build',
  })
  const tfNative = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].find(resolvable)
  out.push({
    engine: 'tfjs',
    backend: 'tensorflow',
    available: tfNative !== undefined,
    detail: tfNative
      ? `${tfNative} is installed`
      : 'not installed: on a CUDA machine run `npm i @tensorflow/tfjs-node-gpu` (needs CUDA 11.2 + cuDNN 8.1), on CPU `npm i @tensorflow/tfjs-node`',
  })
  out.push({ engine: 'tfjs', backend: 'wasm', available: resolvable('@tensorflow/tfjs-backend-wasm'), detail: 'WebAssembly (SIMD) backend' })
  out.push({ engine: 'tfjs', backend: 'cpu', available: resolvable('@tensorflow/tfjs-backend-cpu'), detail: 'plain JavaScript backend (slow; tests only)' })
  return out
}
