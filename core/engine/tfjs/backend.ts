/**
 * The ONE place that chooses the tfjs backend (engine.md: setBackend can fail quietly and leave the slow JS `cpu`
 * backend active, so every choice is verified with tf.getBackend()).
 *
 * Order for 'auto': 'tensorflow' (native libtensorflow through @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node;
 * optional, not installed by default) → 'wasm' (@tensorflow/tfjs-backend-wasm, SIMD, single-threaded) → 'cpu'.
 * A forced backend that is unavailable is an error that says what to install.
 *
 * tfjs keeps one global backend per process: engines of one process share it (see acquire/release).
 */
import * as tf from '@tensorflow/tfjs-core'
import { UserError } from '../../user-errors.js'

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu'
export type BackendName = 'tensorflow' | 'wasm' | 'cpu'

export interface BackendStatus {
  name: BackendName
  /** EngineInfo.backend: 'tfjs-tensorflow' | 'tfjs-wasm' | 'tfjs-cpu' */
  label: string
  /** package versions and backend facts (SIMD, the native package used), all strings */
  versions: Record<string, string>
  /** why 'auto' did not pick an earlier backend (empty when forced or first choice worked) */
  fallbacks: string[]
}

export class BackendUnavailableError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'BackendUnavailableError'
  }
}

/** What a user must do to get the native TensorFlow backend. */
const TENSORFLOW_INSTALL_HINT =
  'install the native TensorFlow backend matching @tensorflow/tfjs-core ' +
  tf.version_core +
  ': on an NVIDIA GPU machine `npm i @tensorflow/tfjs-node-gpu@' +
  tf.version_core +
  '` (libtensorflow 2.9.1 needs CUDA 11.2 and cuDNN 8.1 on the library path), on CPU `npm i @tensorflow/tfjs-node@' +
  tf.version_core +
  '`. Both download libtensorflow at install time, so the machine needs internet access then'

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const

/** Import by a computed specifier so TypeScript and bundlers do not require the optional package. */
async function importOptional(specifier: string): Promise<Record<string, unknown>> {
  return (await import(specifier)) as Record<string, unknown>
}

function isModuleNotFound(e: unknown, specifier: string): boolean {
  const err = e as { code?: string; message?: string }
  return (
    (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && (err.message ?? '').includes(specifier)
  )
}

async function verify(name: BackendName): Promise<void> {
  let ok = false
  let cause = ''
  try {
    ok = await tf.setBackend(name)
  } catch (e) {
    cause = `: ${(e as Error).message}`
  }
  await tf.ready()
  const active = tf.getBackend()
  if (!ok || active !== name)
    throw new BackendUnavailableError(
      `tfjs backend '${name}' failed to initialise${cause}; tf.getBackend() is '${active ?? 'none'}'. ` +
        `Refusing to continue on another backend silently`,
    )
}

async function useTensorflow(): Promise<BackendStatus> {
  const tried: string[] = []
  for (const pkg of NATIVE_PACKAGES) {
    let mod: Record<string, unknown>
    try {
      mod = await importOptional(pkg)
    } catch (e) {
      if (isModuleNotFound(e, pkg)) {
        tried.push(`${pkg} is not installed`)
        continue
      }
      // installed but broken: missing libtensorflow / CUDA libraries, ABI mismatch, ...
      throw new BackendUnavailableError(`${pkg} is installed but failed to load: ${(e as Error).message}. ${TENSORFLOW_INSTALL_HINT}`)
    }
    if (!tf.findBackendFactory('tensorflow'))
      throw new BackendUnavailableError(
        `${pkg} loaded but registered no 'tensorflow' backend with this process's @tensorflow/tfjs-core ${tf.version_core}: ` +
          `it probably brought its own copy of tfjs-core (version mismatch). ${TENSORFLOW_INSTALL_HINT}`,
      )
    await verify('tensorflow')
    const v = (mod['version'] ?? {}) as Record<string, string>
    return {
      name: 'tensorflow',
      label: 'tfjs-tensorflow',
      versions: { 'tfjs-core': tf.version_core, native: pkg, ...stringValues(v) },
      fallbacks: [],
    }
  }
  throw new BackendUnavailableError(`tfjs backend 'tensorflow' is unavailable (${tried.join('; ')}). To use it, ${TENSORFLOW_INSTALL_HINT}`)
}

async function useWasm(): Promise<BackendStatus> {
  let mod: typeof import('@tensorflow/tfjs-backend-wasm')
  try {
    mod = await import('@tensorflow/tfjs-backend-wasm')
  } catch (e) {
    throw new BackendUnavailableError(
      `tfjs backend 'wasm' is unavailable: @tensorflow/tfjs-backend-wasm failed to load (${(e as Error).message}); ` +
        `reinstall dependencies (npm ci)`,
    )
  }
  // The threaded build needs a worker-capable loader and fails in Node (ERR_WORKER_PATH); it gave no speed-up anyway.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
  await verify('wasm')
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
  return {
    name: 'wasm',
    label: 'tfjs-wasm',
    versions: { 'tfjs-core': tf.version_core, 'tfjs-backend-wasm': mod.version_wasm, simd: String(simd), threads: 'false' },
    fallbacks: [],
  }
}

async function useCpu(): Promise<BackendStatus> {
  const mod = await import('@tensorflow/tfjs-backend-cpu')
  await verify('cpu')
  // silence its one-time "install our node backend" banner: the advice is in TENSORFLOW_INSTALL_HINT / fallbacks
  ;(tf.backend() as unknown as { firstUse?: boolean }).firstUse = false
  return {
    name: 'cpu',
    label: 'tfjs-cpu',
    versions: { 'tfjs-core': tf.version_core, 'tfjs-backend-cpu': mod.version_cpu },
    fallbacks: [],
  }
}

function stringValues(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v
  return out
}

const USE: Record<BackendName, () => Promise<BackendStatus>> = { tensorflow: useTensorflow, wasm: useWasm, cpu: useCpu }

let active: BackendStatus | null = null
let users = 0

/**
 * Select (or reuse) the process's tfjs backend and count one user. A different backend than the one in use by live
 * engines is refused: tfjs would silently move their tensors between backends.
 */
export async function acquireBackend(choice: BackendChoice = 'auto'): Promise<BackendStatus> {
  if (active && users > 0) {
    if (choice === 'auto' || choice === active.name) {
      users++
      return active
    }
    throw new BackendUnavailableError(
      `tfjs backend '${choice}' requested while ${users} engine(s) use '${active.name}' in this process; ` +
        `dispose them first (tfjs has one global backend per process)`,
    )
  }
  let status: BackendStatus
  if (choice === 'auto') {
    const fallbacks: string[] = []
    let chosen: BackendStatus | null = null
    for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
      try {
        chosen = await USE[name]()
        break
      } catch (e) {
        fallbacks.push((e as Error).message)
      }
    }
    if (!chosen) throw new BackendUnavailableError(`no tfjs backend could be initialised: ${fallbacks.join(' | ')}`)
    status = { ...chosen, fallbacks }
  } else {
    if (!(choice in USE)) throw new BackendUnavailableError(`unknown tfjs backend '${String(choice)}'; use auto, tensorflow, wasm or cpu`)
    status = await USE[choice]()
  }
  active = status
  users = 1
  return status
}

/** Called by an engine's dispose(). */
export function releaseBackend(): void {
  if (users > 0) users--
}
