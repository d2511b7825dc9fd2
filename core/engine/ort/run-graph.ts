/**
 * Compile an IR graph into a fresh session on the CPU provider (the graph tests and probes). Engines keep their
 * own cached sessions.
 */
import type { DType, Graph } from './ir.js'
import { serializeGraph } from './onnx-writer.js'
import { createSession, ort } from './session.js'

export type HostArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array

const ORT_TYPE: Record<Exclude<DType, 'bfloat16'>, ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', bool: 'bool' }

function toTensor(dtype: DType, data: HostArray, shape: readonly number[]): ort.Tensor {
  if (dtype === 'bfloat16') throw new Error('bfloat16 graph inputs are not supported (bfloat16 is for stored constants)')
  return new ort.Tensor(ORT_TYPE[dtype], data as never, [...shape])
}

/** Build a session for `g` (serialised once) that can be run many times with different feeds. */
export async function compileGraph(g: Graph, threads = 1) {
  const session = await createSession(serializeGraph(g), { provider: 'cpu', threads, allowSpinning: false, cpuArena: true })
  const byName = new Map(g.inputs.map((v) => [v.name!, v]))
  return {
    session,
    async run(feeds: Record<string, HostArray>): Promise<Record<string, HostArray>> {
      const f: Record<string, ort.Tensor> = {}
      for (const [k, data] of Object.entries(feeds)) {
        const v = byName.get(k)
        if (!v) throw new Error(`graph has no input ${k}`)
        f[k] = toTensor(v.dtype, data, v.shape)
      }
      const r = await session.run(f)
      return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, t.data as HostArray]))
    },
    release: () => session.release(),
  }
}
