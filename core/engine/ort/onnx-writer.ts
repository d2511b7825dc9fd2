/**
 * Serialise a Graph (ir.ts) to ONNX ModelProto bytes (IR version 8, opset 17) with protobufjs.
 * Constant data goes into raw_data as little-endian bytes (views, no copies).
 */
import { dtypeCode, type AttrValue, type DType, type Graph, type Value } from './ir.js'
import { ONNX_ATTR, modelProtoType } from './onnx-schema.js'

const OPSET = 17
const IR_VERSION = 8

export interface WriteOptions {
  graphName?: string
  docString?: string
  producerVersion?: string
  metadata?: Record<string, string>
}

const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)

function tensorProto(name: string, dtype: DType, shape: readonly number[], data: ArrayBufferView) {
  return { name, dataType: dtypeCode(dtype), dims: [...shape], rawData: bytesOf(data) }
}

function valueInfo(v: Value, dynamic: ReadonlyMap<number, string>) {
  const dim = v.shape.map((d) => (dynamic.has(d) ? { dimParam: dynamic.get(d)! } : { dimValue: d }))
  return { name: v.name!, type: { tensorType: { elemType: dtypeCode(v.dtype), shape: { dim } } } }
}

function attribute(name: string, a: AttrValue) {
  switch (a.kind) {
    case 'int':
      return { name, type: ONNX_ATTR.INT, i: a.v }
    case 'float':
      return { name, type: ONNX_ATTR.FLOAT, f: a.v }
    case 'ints':
      return { name, type: ONNX_ATTR.INTS, ints: a.v }
    case 'floats':
      return { name, type: ONNX_ATTR.FLOATS, floats: a.v }
    case 'string':
      return { name, type: ONNX_ATTR.STRING, s: new TextEncoder().encode(a.v) }
    case 'tensor':
      return { name, type: ONNX_ATTR.TENSOR, t: tensorProto('', a.dtype, a.shape, a.data) }
  }
}

/** Give every unnamed value a unique name (t<id>). Names of inputs/outputs are kept. */
function assignNames(g: Graph) {
  const used = new Set<string>()
  const claim = (v: Value) => {
    if (v.name === null) v.name = `t${v.id}`
    if (used.has(v.name)) throw new Error(`duplicate value name ${v.name}`)
    used.add(v.name)
  }
  for (const v of g.inputs) claim(v)
  for (const c of g.constants) claim(c.value)
  for (const n of g.nodes) for (const o of n.outputs) claim(o)
}

/** Only nodes that contribute to an output (dead-code elimination keeps models lean). */
function liveNodes(g: Graph) {
  const live = new Set<number>(g.outputs.map((v) => v.id))
  const keep: boolean[] = new Array(g.nodes.length).fill(false)
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!
    if (n.outputs.some((o) => live.has(o.id))) {
      keep[i] = true
      for (const x of n.inputs) if (x) live.add(x.id)
    }
  }
  return { nodes: g.nodes.filter((_, i) => keep[i]), live }
}

export function serializeGraph(g: Graph, opts: WriteOptions = {}): Uint8Array {
  assignNames(g)
  const { nodes, live } = liveNodes(g)
  const model = {
    irVersion: IR_VERSION,
    producerName: 'skipbench',
    producerVersion: opts.producerVersion ?? '0.1.0',
    docString: opts.docString ?? '',
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: opts.graphName ?? 'skipbench',
      node: nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain,
        input: n.inputs.map((x) => (x ? x.name! : '')),
        output: n.outputs.map((o) => o.name!),
        attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a)),
      })),
      initializer: g.constants.filter((c) => live.has(c.value.id)).map((c) => tensorProto(c.value.name!, c.value.dtype, c.value.shape, c.data)),
      input: g.inputs.map((v) => valueInfo(v, g.dynamicDims)),
      output: g.outputs.map((v) => valueInfo(v, g.dynamicDims)),
    },
  }
  const T = modelProtoType()
  return T.encode(model as never).finish()
}
