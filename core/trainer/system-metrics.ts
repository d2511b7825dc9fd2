/**
 * System metrics of the training process, logged beside the training metrics on every step line:
 *   sys/cpu_percent  process CPU time over wall time since the previous sample (100 = one core busy; the engine's
 *                    threads run in this process, so 2 busy threads read 200)
 *   sys/rss_mb       resident set size, MiB
 *   sys/heap_mb      V8 heap in use, MiB (tensors of the native engines live outside it, in the RSS)
 * GPU utilisation and memory: none of our backends exposes them (onnxruntime-node's CPU/CUDA providers and
 * tfjs-node report neither), so nothing is logged for them rather than a guess.
 */
export const SYSTEM_PREFIX = 'sys/'

export class SystemSampler {
  private cpu = process.cpuUsage()
  private at = process.hrtime.bigint()

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
    }
  }
}

/** Metric keys whose values depend on the machine's load rather than on the computation (never compared by rerun). */
export function isTimingOrSystemKey(key: string): boolean {
  return key.startsWith(SYSTEM_PREFIX) || /(^|\/)(tokens_per_sec|step_seconds|seconds|time)$/.test(key)
}
