/**
 * Whether the onnxruntime WebGPU tests run here. They need a WebGPU adapter: on Linux CI that is Mesa's software
 * Vulkan device (lavapipe, from Debian bookworm-backports, installed by `.ci/run`). Outside CI a machine without
 * one skips them and says why; in CI (CI=true) a missing adapter is a failure, never a silent skip.
 */
import { probeWebgpu } from '../core/engine/ort/index.js'

/** null when WebGPU works; otherwise the reason (outside CI only: in CI this throws). */
export async function webgpuSkipReason(): Promise<string | null> {
  const why = await probeWebgpu()
  if (why === null) return null
  if (process.env.CI === 'true') throw new Error(`WebGPU tests must run in CI, but no WebGPU adapter works here: ${why}. .ci/run installs mesa-vulkan-drivers from bookworm-backports and sets XDG_RUNTIME_DIR.`)
  return why
}
