// System metrics: the process sampler measured on real child processes (one spinning, one asleep), its values
// through a real store file and back, and the GPU part: nvidia-smi's CSV parsed from captured outputs, the poller
// against a stand-in nvidia-smi script and against a missing binary (silent).
import { execFile } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openStore } from '../store/store.js'
import { tempDir, type TempDir } from '../store/test-helpers.js'
import { GpuSampler, NVIDIA_SMI_QUERY, SystemSampler, gpuIdOf, gpuMetrics, parseNvidiaSmiCsv, usesGpuBackend } from './system-metrics.js'

const CHILD = join(import.meta.dirname, 'testing', 'sample-child.ts')
function sampleChild(mode: 'busy' | 'idle', ms: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', CHILD, mode, String(ms)], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(String(stdout)) as Record<string, number>))),
  )
}

let dir: TempDir | null = null
afterEach(() => {
  dir?.cleanup()
  dir = null
  vi.restoreAllMocks()
})

describe('SystemSampler (CPU %, RSS, heap) on real processes', () => {
  it('a spinning child reads far more CPU and ~96 MiB more RSS than a sleeping one; values are in range and survive the store', async () => {
    const [busy, idle] = await Promise.all([sampleChild('busy', 800), sampleChild('idle', 800)])
    for (const s of [busy, idle]) {
      expect(Object.keys(s).filter((k) => k.startsWith('sys/')).sort()).toEqual(['sys/cpu_percent', 'sys/heap_mb', 'sys/rss_mb'])
      expect(s['sys/rss_mb']).toBeGreaterThan(10)
      expect(s['sys/rss_mb']).toBeLessThan(8192)
      expect(s['sys/heap_mb']).toBeGreaterThan(0)
      expect(s['sys/heap_mb']).toBeLessThan(s['sys/rss_mb']!)
      expect(s['sys/cpu_percent']).toBeGreaterThanOrEqual(0)
    }
    // one thread spinning: at most one core (a little slack for the clock), and clearly above the sleeper even when
    // the machine is shared; the sleeper uses almost nothing
    expect(busy['sys/cpu_percent']).toBeLessThanOrEqual(110)
    expect(busy['sys/cpu_percent']).toBeGreaterThan(Math.max(10, 3 * idle['sys/cpu_percent']!))
    expect(idle['sys/cpu_percent']).toBeLessThan(25)
    expect(busy['sys/rss_mb']! - idle['sys/rss_mb']!).toBeGreaterThan(70)

    // the store round trip: step metrics in a real SQLite file, read back exactly
    dir = tempDir('skipbench-sys-')
    const store = openStore(dir.file('skipbench.db'))
    try {
      const run = store.runs.create({ name: 'sys', kind: 'dense', config: {} })
      const points = [busy, idle].flatMap((s, step) => Object.entries(s).filter(([k]) => k.startsWith('sys/')).map(([key, value]) => ({ step, key, value })))
      expect(store.metrics.insert(run.id, points)).toBe(6)
      expect(store.metrics.keys(run.id).sort()).toEqual(['sys/cpu_percent', 'sys/heap_mb', 'sys/rss_mb'])
      for (const key of ['sys/cpu_percent', 'sys/heap_mb', 'sys/rss_mb']) {
        const s = store.metrics.series(run.id, key, { maxPoints: 0 })
        expect(s.steps).toEqual([0, 1])
        expect(s.values).toEqual([busy[key], idle[key]])
      }
    } finally {
      store.close()
    }
  })

  it('CPU percent is process CPU time over wall time between two samples', () => {
    const s = new SystemSampler()
    const end = performance.now() + 150
    while (performance.now() < end) Math.sqrt(Math.random())
    const first = s.sample()['sys/cpu_percent']!
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThanOrEqual(400)
  })
})

// Captured `nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits` outputs
const MULTI = '0, 1, 81559\n87, 40213, 81559\n100, 79800, 81559\n'
const NA = '[N/A], 512, 16384\n[Not Supported], [N/A], [N/A]\n'
const GARBAGE = [
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
  'No devices were found\n',
  'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.183\n',
  'utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n',
  '12, abc, 4096\n',
  '',
]

describe('nvidia-smi output', () => {
  it('parses one reading per GPU (multi-GPU), in order', () => {
    expect(parseNvidiaSmiCsv(MULTI)).toEqual([
      { utilizationPercent: 0, memoryUsedMb: 1, memoryTotalMb: 81559 },
      { utilizationPercent: 87, memoryUsedMb: 40213, memoryTotalMb: 81559 },
      { utilizationPercent: 100, memoryUsedMb: 79800, memoryTotalMb: 81559 },
    ])
    expect(parseNvidiaSmiCsv(MULTI.replace(/\n/g, '\r\n'))).toHaveLength(3)
  })
  it('fields it cannot report are null and are not logged', () => {
    const r = parseNvidiaSmiCsv(NA)
    expect(r).toEqual([
      { utilizationPercent: null, memoryUsedMb: 512, memoryTotalMb: 16384 },
      { utilizationPercent: null, memoryUsedMb: null, memoryTotalMb: null },
    ])
    expect(gpuMetrics(r[0]!)).toEqual({ 'sys/gpu_mem_mb': 512, 'sys/gpu_mem_total_mb': 16384 })
    expect(gpuMetrics(r[1]!)).toEqual({})
    expect(gpuMetrics(parseNvidiaSmiCsv(MULTI)[1]!)).toEqual({ 'sys/gpu_util_percent': 87, 'sys/gpu_mem_mb': 40213, 'sys/gpu_mem_total_mb': 81559 })
  })
  it('driver errors, headers and garbage give no reading', () => {
    for (const g of GARBAGE) expect(parseNvidiaSmiCsv(g)).toEqual([])
    expect(parseNvidiaSmiCsv(`${GARBAGE[0]}3, 100, 200\n`)).toEqual([{ utilizationPercent: 3, memoryUsedMb: 100, memoryTotalMb: 200 }])
  })
  it('GPU backends and the GPU id', () => {
    expect(usesGpuBackend({ backend: 'ort-cuda', versions: {} })).toBe(true)
    expect(usesGpuBackend({ backend: 'ort-webgpu', versions: {} })).toBe(true)
    expect(usesGpuBackend({ backend: 'tfjs-tensorflow', versions: { native: '@tensorflow/tfjs-node-gpu' } })).toBe(true)
    expect(usesGpuBackend({ backend: 'tfjs-tensorflow', versions: { native: '@tensorflow/tfjs-node' } })).toBe(false)
    expect(usesGpuBackend({ backend: 'ort-cpu', versions: {} })).toBe(false)
    expect(usesGpuBackend({ backend: 'tfjs-wasm', versions: {} })).toBe(false)
    expect(gpuIdOf({})).toBe('0')
    expect(gpuIdOf({ CUDA_VISIBLE_DEVICES: '2,3' })).toBe('2')
    expect(gpuIdOf({ CUDA_VISIBLE_DEVICES: 'GPU-8f2a1c3e-1b2d-4e5f-9a0b-123456789abc' })).toBe('GPU-8f2a1c3e-1b2d-4e5f-9a0b-123456789abc')
    expect(gpuIdOf({ CUDA_VISIBLE_DEVICES: '' })).toBeNull()
    expect(gpuIdOf({ CUDA_VISIBLE_DEVICES: '-1' })).toBeNull()
  })
})

describe('GpuSampler', () => {
  /** a stand-in nvidia-smi: records its arguments, prints `out`, exits with `code` */
  function fakeSmi(out: string, code = 0): { command: string; args: () => string[] } {
    dir ??= tempDir('skipbench-smi-')
    const command = join(dir.path, `nvidia-smi-${Math.random().toString(36).slice(2)}`)
    const argsFile = `${command}.args`
    writeFileSync(command, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nprintf '%s' '${out}'\nexit ${code}\n`)
    chmodSync(command, 0o755)
    return { command, args: () => readFileSync(argsFile, 'utf8').trim().split('\n') }
  }

  it("queries the worker's GPU and keeps its latest reading", async () => {
    const smi = fakeSmi('87, 40213, 81559\n')
    const g = new GpuSampler({ id: '1', command: smi.command })
    await g.poll()
    expect(smi.args()).toEqual([...NVIDIA_SMI_QUERY, '-i', '1'])
    expect(g.latest()).toEqual({ 'sys/gpu_util_percent': 87, 'sys/gpu_mem_mb': 40213, 'sys/gpu_mem_total_mb': 81559 })
    expect(g.stopped).toBe(false)
  })

  it('no nvidia-smi: stops at once, logs nothing, the step metrics carry no GPU keys', async () => {
    const said = [vi.spyOn(console, 'error'), vi.spyOn(console, 'warn'), vi.spyOn(console, 'log')]
    const g = new GpuSampler({ id: '0', command: '/nonexistent/nvidia-smi' })
    await g.poll()
    expect(g.stopped).toBe(true)
    expect(g.latest()).toEqual({})
    const s = new SystemSampler()
    s.startGpu({ backend: 'ort-cuda', versions: {} }, {}, '/nonexistent/nvidia-smi')
    await new Promise((r) => setTimeout(r, 300))
    expect(Object.keys(s.sample()).some((k) => k.includes('gpu'))).toBe(false)
    s.stop()
    for (const spy of said) expect(spy).not.toHaveBeenCalled()
  })

  it('a failing nvidia-smi (driver error, exit 9) is given up after three tries', async () => {
    const g = new GpuSampler({ id: '0', command: fakeSmi(GARBAGE[0]!.replace(/'/g, ''), 9).command })
    for (let i = 0; i < 3; i++) await g.poll()
    expect(g.stopped).toBe(true)
    expect(g.latest()).toEqual({})
  })

  it('SystemSampler adds GPU metrics only for a GPU backend', async () => {
    const smi = fakeSmi('42, 1000, 24576\n')
    const cpu = new SystemSampler()
    cpu.startGpu({ backend: 'ort-cpu', versions: {} }, {}, smi.command)
    const gpu = new SystemSampler()
    gpu.startGpu({ backend: 'ort-cuda', versions: {} }, { CUDA_VISIBLE_DEVICES: '3' }, smi.command)
    await vi.waitFor(() => expect(gpu.sample()['sys/gpu_util_percent']).toBe(42), { timeout: 10_000 })
    expect(gpu.sample()).toMatchObject({ 'sys/gpu_mem_mb': 1000, 'sys/gpu_mem_total_mb': 24576 })
    expect(smi.args().slice(-2)).toEqual(['-i', '3'])
    expect(Object.keys(cpu.sample()).some((k) => k.includes('gpu'))).toBe(false)
    cpu.stop()
    gpu.stop()
  })
})
