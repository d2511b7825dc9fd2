/**
 * The device a run trained on, in words, from what the engine recorded with the run (backend and versions; the
 * onnxruntime engine records `adapter` and `adapter.type` for WebGPU, see core/engine/ort/adapter.ts). Pure:
 * shared by `skipbench runs show` and the app's run page.
 */
export function deviceLabel(backend: string | null | undefined, versions: Record<string, string> | null | undefined): string {
  const v = versions ?? {}
  if (v.adapter) return v['adapter.type'] === 'cpu' ? `${v.adapter} — a CPU device, not a GPU` : v.adapter
  if (!backend) return '—'
  if (backend === 'ort-webgpu') return 'WebGPU adapter (not identified)'
  if (backend === 'ort-cuda') return 'CUDA GPU (not identified)'
  if (backend === 'tfjs-tensorflow') return 'TensorFlow native (CPU or CUDA)'
  return 'host CPU'
}
