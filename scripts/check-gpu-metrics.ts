/**
 * GPU figures on a real NVIDIA machine (issue 18, ADR 0024). CI has no GPU, so core/trainer/system-metrics.test.ts
 * checks the nvidia-smi path on captured output and a stand-in script; this is the check a person runs on a GPU box:
 *   1. asks nvidia-smi exactly as the trainer does (printing its raw answer and the parsed readings), then
 *   2. trains the tiny-dense preset on onnxruntime's CUDA (or WebGPU) provider through the CLI and checks that the
 *      step lines of metrics.jsonl carry sys/gpu_util_percent (0–100) and sys/gpu_mem_mb (0 < used ≤ total).
 * Exit 0 when both hold. The GPU is CUDA_VISIBLE_DEVICES' first entry, else 0, as in training.
 *
 *   npm run check:gpu-metrics [-- --backend cuda|webgpu] [--steps 300]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gpuIdOf, NVIDIA_SMI_QUERY, parseNvidiaSmiCsv } from '../core/trainer/system-metrics.js'

const { values: args } = parseArgs({ options: { backend: { type: 'string', default: 'cuda' }, steps: { type: 'string', default: '300' } } })
const id = gpuIdOf(process.env)
if (id === null) {
  console.error('CUDA_VISIBLE_DEVICES hides every GPU: nothing to check')
  process.exit(1)
}
let raw: string
try {
  raw = execFileSync('nvidia-smi', [...NVIDIA_SMI_QUERY, '-i', id], { encoding: 'utf8', timeout: 10_000 })
} catch (e) {
  console.error(`nvidia-smi failed (${(e as Error).message.split('\n')[0]}): on this machine runs log no GPU figures, silently`)
  process.exit(1)
}
console.log(`nvidia-smi -i ${id}: ${JSON.stringify(raw)}`)
console.log('parsed:', parseNvidiaSmiCsv(raw))

const out = join(mkdtempSync(join(tmpdir(), 'sb-check-gpu-')), 'run')
const t = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'train', '--preset', 'tiny-dense', '--engine', 'ort', '--backend', args.backend, '--steps', args.steps, '--out', out], { stdio: 'inherit' })
if (t.status !== 0) {
  console.error(`training on ${args.backend} failed (exit ${t.status})`)
  process.exit(1)
}
const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, unknown>)
  .filter((m) => m['type'] === 'step')
const withGpu = steps.filter((m) => typeof m['sys/gpu_util_percent'] === 'number' || typeof m['sys/gpu_mem_mb'] === 'number')
const bad = withGpu.filter((m) => {
  const u = m['sys/gpu_util_percent'] as number | undefined
  const used = m['sys/gpu_mem_mb'] as number | undefined
  const total = m['sys/gpu_mem_total_mb'] as number | undefined
  return (u !== undefined && !(u >= 0 && u <= 100)) || (used !== undefined && !(used > 0 && (total === undefined || used <= total)))
})
const util = withGpu.map((m) => m['sys/gpu_util_percent']).filter((x): x is number => typeof x === 'number')
console.log(`${withGpu.length} of ${steps.length} step lines carry GPU figures; utilisation ${util.length ? `${Math.min(...util)}–${Math.max(...util)} %` : 'n/a'}; ${bad.length} out of range`)
process.exit(withGpu.length > 0 && bad.length === 0 ? 0 : 1)
