/**
 * Which device onnxruntime's WebGPU provider runs on. onnxruntime-node 1.30 does not expose Dawn's adapter info,
 * so on Linux it is inferred from facts about this process and machine, each recorded in `evidence`:
 * - the Vulkan drivers loaded into this process once WebGPU has initialised (/proc/self/maps): lavapipe
 *   (`libvulkan_lvp.so`) is Mesa's software rasteriser, which runs on the CPU;
 * - the display-class PCI devices present (/sys/bus/pci/devices/*, class 0x03xxxx) and their vendor ids;
 * - for NVIDIA, `nvidia-smi` (name and compute capability → architecture).
 * A hardware driver counts only when a PCI display device of its vendor is present (Mesa installs drivers for
 * every vendor). Dawn prefers a discrete or integrated GPU over a CPU adapter, so with such a device present the
 * adapter is taken to be that GPU; with none, a loaded lavapipe means the CPU adapter. Elsewhere (Windows D3D12,
 * macOS Metal) the type is 'unknown' and `--backend auto` relies on its measured calibration alone.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface AdapterInfo {
  /** e.g. 'NVIDIA', 'AMD', 'Intel', 'Mesa' */
  vendor: string
  /** e.g. 'Hopper', 'llvmpipe (CPU)'; '' when not known */
  architecture: string
  /** a readable device name */
  name: string
  /** 'cpu' for software adapters such as lavapipe; never chosen by `--backend auto` */
  type: 'gpu' | 'cpu' | 'unknown'
  /** how this was determined */
  evidence: string
}

const VENDORS: Record<string, { vendor: string; drivers: RegExp }> = {
  '0x10de': { vendor: 'NVIDIA', drivers: /libGLX_nvidia|libnvidia-|nvidia_icd|libvulkan_nouveau/ },
  '0x1002': { vendor: 'AMD', drivers: /libvulkan_radeon|amdvlk/ },
  '0x8086': { vendor: 'Intel', drivers: /libvulkan_intel/ },
}
/** Dawn's order for the high-performance preference: discrete before integrated. */
const PREFERENCE = ['0x10de', '0x1002', '0x8086']

/** NVIDIA compute capability (major.minor) → architecture name. */
export function nvidiaArchitecture(cc: string): string {
  const [maj, min] = cc.split('.').map(Number) as [number, number]
  if (maj === 7) return min >= 5 ? 'Turing' : 'Volta'
  if (maj === 8) return min === 9 ? 'Ada Lovelace' : 'Ampere'
  if (maj === 9) return 'Hopper'
  if (maj === 10 || maj === 12) return 'Blackwell'
  if (maj === 6) return 'Pascal'
  return `compute capability ${cc}`
}

function loadedLibraries(): string[] {
  try {
    const libs = new Set<string>()
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const path = line.split(/\s+/)[5]
      if (path && path.includes('.so')) libs.add(path.slice(path.lastIndexOf('/') + 1))
    }
    return [...libs]
  } catch {
    return []
  }
}

export function displayDevices(): { vendor: string; device: string; slot: string }[] {
  const root = '/sys/bus/pci/devices'
  if (!existsSync(root)) return []
  const out: { vendor: string; device: string; slot: string }[] = []
  for (const slot of readdirSync(root)) {
    try {
      const cls = readFileSync(join(root, slot, 'class'), 'utf8').trim()
      if (!cls.startsWith('0x03')) continue
      out.push({ slot, vendor: readFileSync(join(root, slot, 'vendor'), 'utf8').trim(), device: readFileSync(join(root, slot, 'device'), 'utf8').trim() })
    } catch {
      // unreadable entry: skip
    }
  }
  return out
}

function nvidiaSmi(): { name: string; cc: string } | null {
  try {
    const line = execFileSync('nvidia-smi', ['--query-gpu=name,compute_cap', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .trim()
    const [name, cc] = line.split(',').map((s) => s.trim())
    return name ? { name, cc: cc ?? '' } : null
  } catch {
    return null
  }
}

/** Describe the WebGPU adapter; call after a WebGPU session was created in this process. */
export function describeWebgpuAdapter(): AdapterInfo {
  if (process.platform !== 'linux')
    return { vendor: '', architecture: '', name: `WebGPU adapter (${process.platform === 'win32' ? 'D3D12' : 'Metal'})`, type: 'unknown', evidence: `${process.platform}: onnxruntime-node does not expose the adapter` }
  const libs = loadedLibraries()
  const vulkan = libs.filter((l) => /vulkan|nvidia|lvp/i.test(l))
  const devices = displayDevices()
  const present = PREFERENCE.filter((v) => devices.some((d) => d.vendor === v) && vulkan.some((l) => VENDORS[v]!.drivers.test(l)))
  const facts = `Vulkan drivers loaded: ${vulkan.filter((l) => l.startsWith('libvulkan_') || l.includes('nvidia')).join(', ') || 'none'}; display devices: ${devices.map((d) => `${d.vendor}:${d.device}`).join(', ') || 'none'}`
  if (present.length) {
    const v = present[0]!
    const dev = devices.find((d) => d.vendor === v)!
    if (v === '0x10de') {
      const smi = nvidiaSmi()
      if (smi) return { vendor: 'NVIDIA', architecture: nvidiaArchitecture(smi.cc), name: smi.name, type: 'gpu', evidence: `${facts}; nvidia-smi: ${smi.name}, compute capability ${smi.cc}` }
    }
    return { vendor: VENDORS[v]!.vendor, architecture: '', name: `${VENDORS[v]!.vendor} GPU (PCI ${dev.vendor}:${dev.device} at ${dev.slot})`, type: 'gpu', evidence: facts }
  }
  if (vulkan.some((l) => l.startsWith('libvulkan_lvp')))
    return { vendor: 'Mesa', architecture: 'llvmpipe (CPU)', name: 'lavapipe (software Vulkan on the CPU)', type: 'cpu', evidence: facts }
  return { vendor: '', architecture: '', name: 'unknown WebGPU adapter', type: 'unknown', evidence: facts }
}

/** `NVIDIA Hopper (NVIDIA H100 80GB HBM3)` / `Mesa llvmpipe (CPU) (lavapipe …)`. */
export function formatAdapter(a: AdapterInfo): string {
  const head = [a.vendor, a.architecture].filter(Boolean).join(' ')
  return head ? `${head} (${a.name})` : a.name
}
