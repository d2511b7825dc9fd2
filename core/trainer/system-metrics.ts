/**
 * System metrics of the training process, logged beside the training metrics on every step line:
 *   sys/cpu_percent      process CPU time over wall time since the previous sample (100 = one core busy; the
 *                        engine's threads run in this process, so 2 busy threads read 200)
 *   sys/rss_mb           resident set size, MiB
 *   sys/heap_mb          V8 heap in use, MiB (tensors of the native engines live outside it, in the RSS)
 * and, when the run uses a GPU backend (ort-cuda, ort-webgpu, tfjs-node-gpu) on a machine with `nvidia-smi`:
 *   sys/gpu_util_percent GPU utilisation over nvidia-smi's last sample period, %
 *   sys/gpu_mem_mb       GPU memory used (all processes on that GPU), MiB
 *   sys/gpu_mem_total_mb the GPU's memory, MiB
 * None of the engines exposes GPU figures itself, so they come from `nvidia-smi`, polled in the background (a
 * spawn per step would cost more than a tiny step). Where the binary is missing or fails, nothing is logged and
 * nothing is said: a run on an AMD or Intel WebGPU adapter simply has no GPU curves.
 */
import { execFile } from 'node:child_process'
import type { EngineInfo } from '../engine/engine.js'

const SYSTEM_PREFIX = 'sys/'

// ------------------------------------------------------------------------------------------------ GPU (nvidia-smi)

export const NVIDIA_SMI_QUERY = ['--query-gpu=utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'] as const

export interface GpuReading {
  utilizationPercent: number | null
  memoryUsedMb: number | null
  memoryTotalMb: number | null
}

/**
 * Parse `nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`: one
 * reading per GPU line, in nvidia-smi's order. A field nvidia-smi cannot report ("[N/A]", "[Not Supported]", …) is
 * null; a line that is not three such fields (a driver error message, "No devices were found") is skipped.
 */
export function parseNvidiaSmiCsv(text: string): GpuReading[] {
  const out: GpuReading[] = []
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',').map((f) => f.trim())
    if (fields.length !== 3) continue
    const values = fields.map((f) => (/^\d+(\.\d+)?$/.test(f) ? Number(f) : /^\[[^\]]*\]$|^N\/A$/.test(f) ? null : undefined))
    if (values.some((v) => v === undefined)) continue
    const [u, used, total] = values as (number | null)[]
    out.push({ utilizationPercent: u!, memoryUsedMb: used!, memoryTotalMb: total! })
  }
  return out
}

/** A reading as step metrics: only the fields nvidia-smi reported. */
export function gpuMetrics(r: GpuReading): Record<string, number> {
  const m: Record<string, number> = {}
  if (r.utilizationPercent !== null) m['sys/gpu_util_percent'] = r.utilizationPercent
  if (r.memoryUsedMb !== null) m['sys/gpu_mem_mb'] = r.memoryUsedMb
  if (r.memoryTotalMb !== null) m['sys/gpu_mem_total_mb'] = r.memoryTotalMb
  return m
}

/** Whether the engine computes on a GPU: onnxruntime's CUDA or WebGPU provider, or tfjs through tfjs-node-gpu. */
export function usesGpuBackend(info: Pick<EngineInfo, 'backend' | 'versions'>): boolean {
  return info.backend === 'ort-cuda' || info.backend === 'ort-webgpu' || (info.backend === 'tfjs-tensorflow' && info.versions['native'] === '@tensorflow/tfjs-node-gpu')
}

/**
 * The GPU this process computes on, as `nvidia-smi -i` takes it: the first entry of CUDA_VISIBLE_DEVICES (an index
 * or a GPU-… UUID, as Slurm and users set it), else 0; null when CUDA_VISIBLE_DEVICES hides every GPU ("" or -1).
 */
export function gpuIdOf(env: Record<string, string | undefined>): string | null {
  const v = env['CUDA_VISIBLE_DEVICES']
  if (v === undefined) return '0'
  const first = v.split(',')[0]!.trim()
  if (first === '' || first.startsWith('-')) return null
  return /^(\d+|GPU-[0-9A-Fa-f-]+)$/.test(first) ? first : '0'
}

/**
 * Polls nvidia-smi for one GPU every `intervalMs` and keeps the latest reading. A missing binary (ENOENT) stops it
 * at once, three failures in a row stop it too; it never logs. Timers are unref'd: they never keep a process alive.
 */
export class GpuSampler {
  private last: Record<string, number> = {}
  private timer: ReturnType<typeof setInterval> | null = null
  private failures = 0
  private busy = false
  private dead = false

  constructor(private readonly o: { id: string; command?: string; intervalMs?: number }) {}

  start(): void {
    if (this.timer || this.dead) return
    void this.poll()
    this.timer = setInterval(() => void this.poll(), this.o.intervalMs ?? 2000)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** whether it gave up (no nvidia-smi, or it kept failing) */
  get stopped(): boolean {
    return this.dead
  }

  latest(): Record<string, number> {
    return this.last
  }

  /** One query now (also what the timer runs); resolves when it has been read, never rejects. */
  poll(): Promise<void> {
    if (this.busy || this.dead) return Promise.resolve()
    this.busy = true
    return new Promise((resolve) => {
      const child = execFile(this.o.command ?? 'nvidia-smi', [...NVIDIA_SMI_QUERY, '-i', this.o.id], { timeout: 5000, windowsHide: true }, (err, stdout) => {
        this.busy = false
        const reading = err ? undefined : parseNvidiaSmiCsv(String(stdout))[0]
        if (reading) {
          this.failures = 0
          this.last = gpuMetrics(reading)
        } else if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT' || ++this.failures >= 3) {
          this.dead = true
          this.last = {}
          this.stop()
        }
        resolve()
      })
      child.on('error', () => {
        /* reported to the callback above */
      })
    })
  }
}

// ------------------------------------------------------------------------------------------------ the process

export class SystemSampler {
  private cpu = process.cpuUsage()
  private at = process.hrtime.bigint()
  private gpu: GpuSampler | null = null

  /** Start polling the GPU when the engine computes on one (and CUDA_VISIBLE_DEVICES leaves one visible). */
  startGpu(info: Pick<EngineInfo, 'backend' | 'versions'>, env: Record<string, string | undefined> = process.env, command?: string): void {
    if (this.gpu || !usesGpuBackend(info)) return
    const id = gpuIdOf(env)
    if (id === null) return
    this.gpu = new GpuSampler({ id, ...(command ? { command } : {}) })
    this.gpu.start()
  }

  stop(): void {
    this.gpu?.stop()
  }

  sample(): Record<string, number> {
    const now = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    const wallUs = Number(now - this.at) / 1000
    const usedUs = cpu.user - this.cpu.user + (cpu.system - this.cpu.system)
    this.cpu = cpu
    this.at = now
    const mem = process.memoryUsage()
    return {
      'sys/cpu_percent': wallUs > 0 ? (100 * usedUs) / wallUs : 0,
      'sys/rss_mb': mem.rss / 1048576,
      'sys/heap_mb': mem.heapUsed / 1048576,
      ...(this.gpu?.latest() ?? {}),
    }
  }
}

/** Metric keys whose values depend on the machine's load rather than on the computation (never compared by rerun). */
export function isTimingOrSystemKey(key: string): boolean {
  return key.startsWith(SYSTEM_PREFIX) || /(^|\/)(tokens_per_sec|step_seconds|seconds|time)$/.test(key)
}
