/**
 * onnxruntime-node sessions: execution-provider selection ('auto' | 'cpu' | 'cuda' | 'webgpu'), thread and
 * spinning settings, and the session options every graph of this engine needs.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { describeWebgpuAdapter, displayDevices, formatAdapter, type AdapterInfo } from './adapter.js'
import { Graph } from './ir.js'
import { serializeGraph } from './onnx-writer.js'
import { UserError } from '../../user-errors.js'

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

export class OrtProviderError extends UserError {
  override name = 'OrtProviderError'
}

function supportedBackends(): { name: string; bundled: boolean }[] {
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
function cudaLibraryPresent(): boolean {
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
function probeProvider(provider: ResolvedProvider): Promise<string | null> {
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

/** A calibration: the same matmul chain timed on the CPU provider and on a GPU candidate. */
export interface Calibration {
  provider: ResolvedProvider
  gflop: number
  /** median milliseconds per run */
  gpuMs: number
  cpuMs: number
  /** cpuMs / gpuMs */
  speedup: number
}

/** auto takes a GPU provider only when it ran the calibration at least this much faster than the CPU provider */
export const AUTO_MIN_SPEEDUP = 1.5

/**
 * x (256 × 1024) through four 1024 × 1024 Gemms (2.1 GFLOP, weights stored in the model so nothing but x and
 * the result cross the bus), one warm-up run and three timed ones per provider; medians.
 */
export async function calibrate(provider: ResolvedProvider, threads = defaultThreads()): Promise<Calibration> {
  const M = 256
  const K = 1024
  const g = new Graph('float32')
  let h = g.input('x', [M, K])
  let seed = 1
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.06
  for (let i = 0; i < 4; i++) h = g.gemm(h, g.constant(Float32Array.from({ length: K * K }, rnd), [K, K]))
  g.output(h, 'y')
  const model = serializeGraph(g)
  const x = new ort.Tensor('float32', Float32Array.from({ length: M * K }, rnd), [M, K])
  const time = async (p: ResolvedProvider) => {
    const s = await createSession(model, { provider: p, threads, allowSpinning: false, cpuArena: true })
    try {
      const ms: number[] = []
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now()
        await s.run({ x })
        if (i > 0) ms.push(performance.now() - t0)
      }
      return ms.sort((a, b) => a - b)[1]!
    } finally {
      await s.release()
    }
  }
  const gpuMs = await time(provider)
  const cpuMs = await time('cpu')
  return { provider, gflop: (2 * M * K * K * 4) / 1e9, gpuMs, cpuMs, speedup: cpuMs / gpuMs }
}

export interface ResolvedChoice {
  provider: ResolvedProvider
  /** why auto chose what it chose (recorded with the run) */
  notes: string[]
  /** the WebGPU adapter, when the provider is webgpu */
  adapter?: AdapterInfo
  calibration?: Calibration
}

/**
 * Resolve 'auto' and check an explicit provider, failing with a clear message.
 * auto: a GPU candidate (CUDA when its libraries load, else WebGPU on an adapter that is not a CPU, such as
 * lavapipe) is taken only after a short measured calibration shows it at least AUTO_MIN_SPEEDUP× faster than the
 * CPU provider; otherwise the CPU. The notes say why.
 */
export async function resolveProvider(
  want: OrtProvider,
  o: {
    calibrate?: typeof calibrate
    /** probe WebGPU even on a Linux machine without a display-class PCI device (tests) */
    probeWithoutGpu?: boolean
  } = {},
): Promise<ResolvedChoice> {
  const notes: string[] = []
  if (want !== 'auto') {
    const why = await probeProvider(want)
    if (why !== null) throw new OrtProviderError(why)
    return want === 'webgpu' ? { provider: want, notes, adapter: describeWebgpuAdapter() } : { provider: want, notes }
  }
  let candidate: ResolvedProvider | null = null
  let adapter: AdapterInfo | undefined
  if (!cudaLibraryPresent()) notes.push('cuda not used: onnxruntime-node CUDA provider libraries are not installed')
  else {
    const why = await probeProvider('cuda')
    if (why === null) candidate = 'cuda'
    else notes.push(`cuda not used: ${why}`)
  }
  if (!candidate) {
    // Without a GPU in the machine, WebGPU could only be a software adapter: not worth initialising Vulkan for
    const why =
      process.platform === 'linux' && !o.probeWithoutGpu && displayDevices().length === 0
        ? 'no GPU in this machine (no display-class PCI device; a software Vulkan device such as lavapipe runs on the CPU)'
        : await probeProvider('webgpu')
    if (why !== null) notes.push(`webgpu not used: ${why}`)
    else {
      adapter = describeWebgpuAdapter()
      if (adapter.type === 'cpu') notes.push(`webgpu not used: its adapter is a CPU device, ${formatAdapter(adapter)}`)
      else candidate = 'webgpu'
    }
  }
  if (!candidate) return { provider: 'cpu', notes }
  const c = await (o.calibrate ?? calibrate)(candidate)
  const d = decideAuto(c, adapter)
  notes.push(d.note)
  return d.provider === 'cpu' ? { provider: 'cpu', notes, calibration: c } : { provider: d.provider, notes, calibration: c, ...(adapter ? { adapter } : {}) }
}

/** auto's rule once a GPU candidate has been calibrated: faster by AUTO_MIN_SPEEDUP×, or the CPU. */
export function decideAuto(c: Calibration, adapter?: AdapterInfo): { provider: ResolvedProvider; note: string } {
  const measured = `calibration (${c.gflop.toFixed(1)} GFLOP matmul chain): ${c.provider} ${c.gpuMs.toFixed(1)} ms, cpu ${c.cpuMs.toFixed(1)} ms (${c.speedup.toFixed(2)}×)`
  const on = adapter ? ` on ${formatAdapter(adapter)}` : ''
  if (adapter?.type === 'cpu') return { provider: 'cpu', note: `${c.provider} not used${on}: a CPU device` }
  if (c.speedup >= AUTO_MIN_SPEEDUP) return { provider: c.provider, note: `auto chose ${c.provider}${on}: ${measured}` }
  return { provider: 'cpu', note: `${c.provider} not used${on}: ${measured}, below the ${AUTO_MIN_SPEEDUP}× auto needs` }
}

export const ortVersion = (): string => ort.env.versions.node ?? ort.env.versions.common ?? 'unknown'
export { ort }
