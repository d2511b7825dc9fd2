/**
 * onnxruntime-node sessions: execution-provider selection ('auto' | 'cpu' | 'cuda' | 'webgpu'), thread and
 * spinning settings, and the session options every graph of this engine needs.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { Graph } from './ir.js'
import { serializeGraph } from './onnx-writer.js'

export type OrtProvider = 'auto' | 'cpu' | 'cuda' | 'webgpu'
export type ResolvedProvider = Exclude<OrtProvider, 'auto'>

export interface SessionSettings {
  provider: ResolvedProvider
  /** intra-op threads (default: the machine's available parallelism) */
  threads: number
  /** let idle worker threads spin (faster on an otherwise idle machine; 0 is kinder to shared machines) */
  allowSpinning: boolean
  /** the CPU arena keeps freed blocks for reuse; off returns them to the OS (lower peak RSS between graphs) */
  cpuArena: boolean
  /** onnxruntime profiling: each session writes <prefix>_<time>.json when released (benchmarks only) */
  profilePrefix?: string
}

export class OrtProviderError extends Error {
  override name = 'OrtProviderError'
}

export function supportedBackends(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends()
}

export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)
}

export function sessionOptions(s: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [s.provider],
    intraOpNumThreads: s.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: s.cpuArena,
    // The memory pattern allocates one planned block for all intermediates from the second run on, while the
    // arena still holds the first run's blocks: peak RSS on M training went from 2.8 GB to 4.6 GB with it.
    enableMemPattern: false,
    logSeverityLevel: 3,
    ...(s.profilePrefix ? { enableProfiling: true, profileFilePrefix: s.profilePrefix } : {}),
    // `extra` = session config entries; onnxruntime-node 1.30 applies them (its typings say WebAssembly only:
    // checked, an invalid session.intra_op_thread_affinities is rejected).
    extra: {
      // Constant folding would turn runtime zeros (Shape → ConstantOfShape, e.g. the embedding gradient's
      // scatter target) into stored initializers as large as the parameter: disable exactly that optimizer.
      optimization: { disable_specified_optimizers: 'ConstantFolding' },
      session: { intra_op: { allow_spinning: s.allowSpinning ? '1' : '0' } },
    },
  }
}

/**
 * Where outputs go: by default host memory. With the WebGPU provider, outputs named in `deviceOutputs` stay in
 * GPU buffers (onnxruntime-node 1.30's `preferredOutputLocation: 'gpu-buffer'`, WebGPU only in its Node binding)
 * and can be fed back as inputs without a copy.
 */
export async function createSession(model: Uint8Array, s: SessionSettings, deviceOutputs: readonly string[] = []): Promise<ort.InferenceSession> {
  const opts = sessionOptions(s)
  if (deviceOutputs.length && s.provider === 'webgpu')
    opts.preferredOutputLocation = Object.fromEntries(deviceOutputs.map((n) => [n, 'gpu-buffer' as const]))
  try {
    return await ort.InferenceSession.create(model, opts)
  } catch (e) {
    throw explainProviderError(s.provider, e)
  }
}

function explainProviderError(provider: ResolvedProvider, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e)
  if (provider === 'cuda' && /shared library|libonnxruntime_providers|cuda/i.test(msg))
    return new OrtProviderError(
      `onnxruntime CUDA execution provider unavailable: ${msg.split('\n')[0]}. onnxruntime-node downloads its CUDA 12 ` +
        `provider libraries at install time, which this project's allowScripts denies by default. On a CUDA 12 + cuDNN 9 ` +
        `machine run (cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js), ` +
        `or use provider 'cpu'.`,
    )
  if (provider === 'webgpu')
    return new OrtProviderError(`onnxruntime WebGPU execution provider failed: ${msg.split('\n')[0]}. Use provider 'cpu'.`)
  return e instanceof Error ? e : new Error(msg)
}

/**
 * Whether onnxruntime-node's CUDA provider library was installed next to its binding (it is downloaded by the
 * package's install script). 'auto' only probes CUDA when it is, so machines without it see no load error.
 */
export function cudaLibraryPresent(): boolean {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json')
    const dir = join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch)
    return ['libonnxruntime_providers_cuda.so', 'onnxruntime_providers_cuda.dll'].some((f) => existsSync(join(dir, f)))
  } catch {
    return false
  }
}

const probeCache = new Map<ResolvedProvider, Promise<string | null>>()

/** x (4) → x + 1: a model that makes the provider compile and run one kernel. */
function probeModel(): Uint8Array {
  const g = new Graph('float32')
  g.output(g.add(g.input('x', [4]), 1), 'y')
  return serializeGraph(g)
}

/** null when the provider loads and computes x + 1 correctly, else the reason it does not. */
export function probeProvider(provider: ResolvedProvider): Promise<string | null> {
  let p = probeCache.get(provider)
  if (!p) {
    p = (async () => {
      if (provider === 'cpu') return null
      if (!supportedBackends().some((b) => b.name === provider)) return `this onnxruntime-node build has no ${provider} provider`
      try {
        const s = await createSession(probeModel(), { provider, threads: 1, allowSpinning: false, cpuArena: true })
        try {
          const y = (await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]) })).y
          const got = Array.from((y?.data ?? []) as Float32Array)
          if (got.join() !== '2,3,4,5') return `${provider} provider computed [${got}] for [1,2,3,4] + 1`
        } finally {
          await s.release()
        }
        return null
      } catch (e) {
        return e instanceof Error ? e.message.split('\n')[0]! : String(e)
      }
    })()
    probeCache.set(provider, p)
  }
  return p
}

/** null when onnxruntime's WebGPU provider works on this machine, else why not. */
export const probeWebgpu = () => probeProvider('webgpu')

/** Resolve 'auto' (CUDA when it loads, else CPU) and check an explicit provider, failing with a clear message. */
export async function resolveProvider(want: OrtProvider): Promise<{ provider: ResolvedProvider; notes: string[] }> {
  const notes: string[] = []
  if (want === 'auto') {
    if (!cudaLibraryPresent()) {
      notes.push('cuda not used: onnxruntime-node CUDA provider libraries are not installed')
      return { provider: 'cpu', notes }
    }
    const why = await probeProvider('cuda')
    if (why === null) return { provider: 'cuda', notes }
    notes.push(`cuda not used: ${why}`)
    return { provider: 'cpu', notes }
  }
  const why = await probeProvider(want)
  if (why !== null) throw new OrtProviderError(why)
  return { provider: want, notes }
}

export const ortVersion = (): string => ort.env.versions.node ?? ort.env.versions.common ?? 'unknown'
export { ort }
