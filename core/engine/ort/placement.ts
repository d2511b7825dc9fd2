/**
 * Which execution provider runs each node of a graph, read from onnxruntime's session profile (one run with
 * profiling on; every kernel event names its provider). Used by `OrtEngine.placement()`, `npm run bench:gpu`
 * and the WebGPU placement test.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ort, sessionOptions, type SessionSettings } from './session.js'

export interface GraphPlacement {
  /** which graph (e.g. 'train step', 'eval') */
  graph: string
  /** kernels run, by provider then op type (onnxruntime's short provider names: cpu, webgpu, cuda) */
  byProvider: Record<string, Record<string, number>>
  /** nodes that ran on another provider than the session's own, as `op name` (copies excluded) */
  exceptions: string[]
  /** copies onnxruntime inserted between providers inside the graph, with their bytes per run */
  copies: { node: string; bytes: number }[]
}

interface ProfileEvent {
  cat?: string
  name?: string
  args?: { op_name?: string; provider?: string; output_size?: string }
}

const SHORT: Record<string, string> = { CPUExecutionProvider: 'cpu', WebGpuExecutionProvider: 'webgpu', CUDAExecutionProvider: 'cuda' }
const short = (p: string) => SHORT[p] ?? p

/** Parse a profile (the JSON array onnxruntime writes) into a placement summary. */
export function placementFromProfile(graph: string, events: ProfileEvent[], own: string): GraphPlacement {
  const byProvider: Record<string, Record<string, number>> = {}
  const exceptions: string[] = []
  const copies: { node: string; bytes: number }[] = []
  for (const e of events) {
    if (e.cat !== 'Node' || !e.args?.provider || !e.args.op_name || !e.name?.endsWith('_kernel_time')) continue
    const p = short(e.args.provider)
    const op = e.args.op_name
    const ops = (byProvider[p] ??= {})
    ops[op] = (ops[op] ?? 0) + 1
    const node = e.name.slice(0, -'_kernel_time'.length)
    if (op.startsWith('Memcpy')) copies.push({ node: `${op} ${node}`, bytes: Number(e.args.output_size ?? 0) })
    else if (p !== own) exceptions.push(`${op} ${node}`)
  }
  return { graph, byProvider, exceptions, copies }
}

/** Run `model` once on a profiling session and report where its nodes ran. */
export async function profilePlacement(
  graph: string,
  model: Uint8Array,
  settings: SessionSettings,
  feeds: Record<string, ort.Tensor>,
  deviceOutputs: readonly string[] = [],
): Promise<GraphPlacement> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-ort-profile-'))
  try {
    const opts: ort.InferenceSession.SessionOptions = { ...sessionOptions(settings), enableProfiling: true, profileFilePrefix: join(dir, 'profile') }
    if (deviceOutputs.length && settings.provider === 'webgpu') opts.preferredOutputLocation = Object.fromEntries(deviceOutputs.map((n) => [n, 'gpu-buffer' as const]))
    const session = await ort.InferenceSession.create(model, opts)
    try {
      const out = await session.run(feeds)
      for (const t of Object.values(out)) if (t.location === 'gpu-buffer') (t as ort.Tensor).dispose()
      session.endProfiling()
    } finally {
      await session.release()
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.json'))
    if (!file) throw new Error('onnxruntime wrote no profile')
    return placementFromProfile(graph, JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[], settings.provider)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One line per graph: `train step: 1164 nodes on webgpu; exceptions: none; copies: none`. */
export function formatPlacement(p: GraphPlacement): string {
  const per = Object.entries(p.byProvider)
    .map(([prov, ops]) => `${Object.entries(ops).filter(([op]) => !op.startsWith('Memcpy')).reduce((s, [, n]) => s + n, 0)} nodes on ${prov}`)
    .join(', ')
  const ex = p.exceptions.length ? p.exceptions.join(', ') : 'none'
  const cp = p.copies.length ? p.copies.map((c) => `${c.node} (${c.bytes} B)`).join(', ') : 'none'
  return `${p.graph}: ${per}; exceptions: ${ex}; copies inside the graph: ${cp}`
}
