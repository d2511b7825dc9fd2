/**
 * The GPU-path decisions that need no GPU: auto's calibration rule, the placement summary parsed from an
 * onnxruntime profile, NVIDIA architecture names and the device label of runs (runs show, run page). The same
 * paths run for real on a WebGPU adapter in webgpu.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { deviceLabel } from '../../report/device.js'
import { nvidiaArchitecture, type AdapterInfo } from './adapter.js'
import { formatPlacement, placementFromProfile } from './placement.js'
import { AUTO_MIN_SPEEDUP, decideAuto } from './session.js'

describe('auto backend rule', () => {
  const gpu: AdapterInfo = { vendor: 'AMD', architecture: '', name: 'AMD GPU', type: 'gpu', evidence: '' }
  const cal = (speedup: number) => ({ provider: 'webgpu' as const, gflop: 2.1, gpuMs: 10, cpuMs: 10 * speedup, speedup })
  it('takes the GPU only at or above the threshold, never a CPU-type adapter', () => {
    expect(decideAuto(cal(AUTO_MIN_SPEEDUP), gpu).provider).toBe('webgpu')
    expect(decideAuto(cal(AUTO_MIN_SPEEDUP * 0.99), gpu).provider).toBe('cpu')
    expect(decideAuto(cal(50), { ...gpu, type: 'cpu' }).provider).toBe('cpu')
    expect(decideAuto({ ...cal(4), provider: 'cuda' }).note).toMatch(/^auto chose cuda: calibration \(2\.1 GFLOP matmul chain\): cuda 10\.0 ms, cpu 40\.0 ms \(4\.00×\)$/)
  })
})

describe('placement from a profile', () => {
  const ev = (provider: string, op: string, name: string, size = '0') => ({ cat: 'Node', name: `${name}_kernel_time`, args: { provider, op_name: op, output_size: size } })
  it('counts kernels by provider, lists exceptions and copies', () => {
    const p = placementFromProfile(
      'train step',
      [
        ev('WebGpuExecutionProvider', 'Gemm', 'Gemm_1'),
        ev('WebGpuExecutionProvider', 'Gemm', 'Gemm_2'),
        ev('CPUExecutionProvider', 'ConstantOfShape', 'ConstantOfShape_7'),
        ev('WebGpuExecutionProvider', 'MemcpyFromHost', 'Memcpy_token_1', '32896'),
        { cat: 'Session', name: 'model_run', args: {} },
        { cat: 'Node', name: 'Gemm_1_fence_before', args: { provider: 'WebGpuExecutionProvider', op_name: 'Gemm' } },
      ],
      'webgpu',
    )
    expect(p.byProvider).toEqual({ webgpu: { Gemm: 2, MemcpyFromHost: 1 }, cpu: { ConstantOfShape: 1 } })
    expect(p.exceptions).toEqual(['ConstantOfShape ConstantOfShape_7'])
    expect(p.copies).toEqual([{ node: 'MemcpyFromHost Memcpy_token_1', bytes: 32896 }])
    expect(formatPlacement(p)).toBe('train step: 2 nodes on webgpu, 1 nodes on cpu; exceptions: ConstantOfShape ConstantOfShape_7; copies inside the graph: MemcpyFromHost Memcpy_token_1 (32896 B)')
  })
})

describe('device names', () => {
  it('maps NVIDIA compute capabilities to architectures', () => {
    expect(nvidiaArchitecture('9.0')).toBe('Hopper')
    expect(nvidiaArchitecture('8.0')).toBe('Ampere')
    expect(nvidiaArchitecture('8.9')).toBe('Ada Lovelace')
    expect(nvidiaArchitecture('7.5')).toBe('Turing')
  })
  it('labels the device a run used from its recorded engine info', () => {
    expect(deviceLabel('ort-webgpu', { adapter: 'NVIDIA Hopper (NVIDIA H100 80GB HBM3)', 'adapter.type': 'gpu' })).toBe('NVIDIA Hopper (NVIDIA H100 80GB HBM3)')
    expect(deviceLabel('ort-webgpu', { adapter: 'Mesa llvmpipe (CPU) (lavapipe)', 'adapter.type': 'cpu' })).toBe('Mesa llvmpipe (CPU) (lavapipe) — a CPU device, not a GPU')
    expect(deviceLabel('ort-cpu', {})).toBe('host CPU')
    expect(deviceLabel('tfjs-wasm', undefined)).toBe('host CPU')
    expect(deviceLabel(null, null)).toBe('—')
  })
})
