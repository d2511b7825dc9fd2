/**
 * One vector-Jacobian rule per ONNX op. Each rule receives the node, the gradients of its outputs (null where
 * an output has none) and which inputs need a gradient, and returns the gradients of its inputs, shaped exactly
 * like them (broadcasting undone with `sumToShape`). Conventions follow PyTorch: ReLU'(0) = 0, Clip passes the
 * gradient on the closed interval [min, max], Max/Min split ties evenly.
 */
import type { GradRule } from './autodiff.js'
import { GraphError, numelOf, type AttrValue, type Graph, type Node, type Value } from './ir.js'

/** Sum `dy` down to `shape` (the inverse of numpy broadcasting). */
function sumToShape(g: Graph, dy: Value, shape: readonly number[]): Value {
  const r = dy.shape.length
  const lead = r - shape.length
  const axes: number[] = []
  for (let i = 0; i < r; i++) if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i)
  const reduced = axes.length ? g.reduceSum(dy, axes, true) : dy
  return g.reshape(reduced, shape) // e.g. (1,1,T,D) → (T,D)
}

const intAttr = (n: Node, k: string, dflt: number) => {
  const a = n.attrs[k] as AttrValue | undefined
  return a && a.kind === 'int' ? a.v : dflt
}
const floatAttr = (n: Node, k: string, dflt: number) => {
  const a = n.attrs[k] as AttrValue | undefined
  return a && a.kind === 'float' ? a.v : dflt
}
const intsAttr = (n: Node, k: string): number[] | null => {
  const a = n.attrs[k] as AttrValue | undefined
  return a && a.kind === 'ints' ? a.v : null
}
const inp = (n: Node, i: number) => {
  const v = n.inputs[i]
  if (!v) throw new GraphError(`${n.op}: missing input ${i}`)
  return v
}
const out = (n: Node, i = 0) => n.outputs[i]!

/** Swap the last two axes. */
function mT(g: Graph, x: Value): Value {
  const r = x.shape.length
  const perm = [...Array(r).keys()]
  perm[r - 2] = r - 1
  perm[r - 1] = r - 2
  return g.transpose(x, perm)
}

/** Gradient of a reduction: broadcast dy (reduced over `axes`, keepdims or not) back to x's shape. */
function expandReduced(g: Graph, dy: Value, x: Value, axes: number[]): Value {
  const r = x.shape.length
  const ax = axes.length ? axes.map((a) => (a < 0 ? a + r : a)) : [...Array(r).keys()]
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
  return g.expand(g.reshape(dy, kept), x.shape)
}

function reduceAxes(g: Graph, n: Node): number[] {
  if (n.op === 'ReduceSum') {
    const axesInput = n.inputs[1]
    if (!axesInput) return []
    const c = g.constants.find((k) => k.value === axesInput)
    if (!c) throw new GraphError('ReduceSum: axes must be a constant')
    return Array.from(c.data as BigInt64Array, (b) => Number(b))
  }
  return intsAttr(n, 'axes') ?? []
}

const unaryRule =
  (f: (g: Graph, x: Value, y: Value, dy: Value) => Value): GradRule =>
  (g, n, [dy]) => [f(g, inp(n, 0), out(n), dy!)]

export const GRAD_RULES: Record<string, GradRule> = {
  Identity: (_g, _n, [dy]) => [dy],
  Add: (g, n, [dy], needs) => [needs[0] ? sumToShape(g, dy!, inp(n, 0).shape) : null, needs[1] ? sumToShape(g, dy!, inp(n, 1).shape) : null],
  Sub: (g, n, [dy], needs) => [
    needs[0] ? sumToShape(g, dy!, inp(n, 0).shape) : null,
    needs[1] ? g.neg(sumToShape(g, dy!, inp(n, 1).shape)) : null,
  ],
  Mul: (g, n, [dy], needs) => {
    const [a, b] = [inp(n, 0), inp(n, 1)]
    return [needs[0] ? sumToShape(g, g.mul(dy!, b), a.shape) : null, needs[1] ? sumToShape(g, g.mul(dy!, a), b.shape) : null]
  },
  Div: (g, n, [dy], needs) => {
    const [a, b] = [inp(n, 0), inp(n, 1)]
    const da = needs[0] || needs[1] ? g.div(dy!, b) : null
    // d(a/b)/db = −(a/b)/b
    return [needs[0] ? sumToShape(g, da!, a.shape) : null, needs[1] ? g.neg(sumToShape(g, g.mul(da!, out(n)), b.shape)) : null]
  },
  Neg: unaryRule((g, _x, _y, dy) => g.neg(dy)),
  Sqrt: unaryRule((g, _x, y, dy) => g.mul(g.div(dy, y), 0.5)),
  Reciprocal: unaryRule((g, _x, y, dy) => g.neg(g.mul(dy, g.mul(y, y)))),
  Exp: unaryRule((g, _x, y, dy) => g.mul(dy, y)),
  Log: unaryRule((g, x, _y, dy) => g.div(dy, x)),
  Abs: unaryRule((g, x, _y, dy) => g.mul(dy, g.sign(x))),
  Sigmoid: unaryRule((g, _x, y, dy) => g.mul(dy, g.mul(y, g.sub(1, y)))),
  Relu: unaryRule((g, x, _y, dy) => g.where(g.greater(x, 0), dy, 0)), // ReLU'(0) = 0
  Pow: (g, n, [dy], needs) => {
    const [x, e] = [inp(n, 0), inp(n, 1)]
    if (needs[1]) throw new GraphError('Pow: gradient w.r.t. the exponent is not supported')
    const c = g.constants.find((k) => k.value === e)
    if (!c || e.shape.length !== 0) throw new GraphError('Pow: exponent must be a scalar constant')
    const p = Number((c.data as Float32Array)[0])
    const dx = p === 2 ? g.mul(g.mul(dy!, x), 2) : g.mul(g.mul(dy!, g.pow(x, p - 1)), p)
    return [dx, null]
  },
  Clip: (g, n, [dy]) => {
    // PyTorch clamp: the gradient passes where min ≤ x ≤ max (closed interval)
    const x = inp(n, 0)
    let cond: Value | null = null
    if (n.inputs[1]) cond = g.greaterOrEqual(x, inp(n, 1))
    if (n.inputs[2]) {
      const le = g.lessOrEqual(x, inp(n, 2))
      cond = cond ? g.and(cond, le) : le
    }
    return [cond ? g.where(cond, dy!, 0) : dy, null, null]
  },
  Max: (g, n, [dy], needs) => minMaxRule(g, n, dy!, needs, 'max'),
  Min: (g, n, [dy], needs) => minMaxRule(g, n, dy!, needs, 'min'),
  Where: (g, n, [dy], needs) => {
    const [c, a, b] = [inp(n, 0), inp(n, 1), inp(n, 2)]
    return [
      null,
      needs[1] ? sumToShape(g, g.where(c, dy!, 0), a.shape) : null,
      needs[2] ? sumToShape(g, g.where(c, 0, dy!), b.shape) : null,
    ]
  },
  Cast: (g, n, [dy]) => [g.cast(dy!, inp(n, 0).dtype)],

  ReduceSum: (g, n, [dy]) => [expandReduced(g, dy!, inp(n, 0), reduceAxes(g, n)), null],
  ReduceMean: (g, n, [dy]) => {
    const x = inp(n, 0)
    const axes = reduceAxes(g, n)
    const count = x.shape.reduce((c, d, i) => (axes.length === 0 || axes.map((a) => (a < 0 ? a + x.shape.length : a)).includes(i) ? c * d : c), 1)
    return [g.mul(expandReduced(g, dy!, x, axes), 1 / count)]
  },
  ReduceSumSquare: (g, n, [dy]) => {
    const x = inp(n, 0)
    return [g.mul(g.mul(expandReduced(g, dy!, x, reduceAxes(g, n)), x), 2)]
  },
  ReduceLogSumExp: (g, n, [dy]) => {
    const x = inp(n, 0)
    const axes = reduceAxes(g, n)
    const kept = x.shape.map((d, i) => (axes.map((a) => (a < 0 ? a + x.shape.length : a)).includes(i) ? 1 : d))
    const p = g.exp(g.sub(x, g.reshape(out(n), kept))) // softmax over the reduced axes
    return [g.mul(p, expandReduced(g, dy!, x, axes))]
  },
  Softmax: (g, n, [dy]) => {
    const y = out(n)
    const axis = intAttr(n, 'axis', -1)
    const s = g.reduceSum(g.mul(dy!, y), [axis], true)
    return [g.mul(y, g.sub(dy!, s))]
  },

  MatMul: (g, n, [dy], needs) => {
    const [a, b] = [inp(n, 0), inp(n, 1)]
    const da = needs[0] ? sumToShape(g, g.matmul(dy!, mT(g, b)), a.shape) : null
    let db: Value | null = null
    if (needs[1]) {
      if (b.shape.length === 2 && a.shape.length > 2) {
        // (..., m, k) × (k, n): flatten the batch into rows so dB is one 2-D product
        const k = a.shape[a.shape.length - 1]!
        const a2 = g.reshape(a, [a.shape.slice(0, -1).reduce((x, y) => x * y, 1), k]) // (rows, k)
        const dy2 = g.reshape(dy!, [a2.shape[0]!, dy!.shape[dy!.shape.length - 1]!]) // (rows, n)
        db = g.gemm(a2, dy2, { transA: true })
      } else db = sumToShape(g, g.matmul(mT(g, a), dy!), b.shape)
    }
    return [da, db]
  },
  Gemm: (g, n, [dy], needs) => {
    const [a, b] = [inp(n, 0), inp(n, 1)]
    const c = n.inputs[2] ?? null
    const tA = intAttr(n, 'transA', 0) === 1
    const tB = intAttr(n, 'transB', 0) === 1
    const alpha = floatAttr(n, 'alpha', 1)
    const beta = floatAttr(n, 'beta', 1)
    let da: Value | null = null
    let db: Value | null = null
    if (needs[0])
      da = tA ? g.gemm(b, dy!, { transA: tB, transB: true, alpha }) : g.gemm(dy!, b, { transB: !tB, alpha })
    if (needs[1])
      db = tB ? g.gemm(dy!, a, { transA: true, transB: tA, alpha }) : g.gemm(a, dy!, { transA: !tA, alpha })
    let dc: Value | null = null
    if (c && needs[2]) {
      dc = sumToShape(g, dy!, c.shape)
      if (beta !== 1) dc = g.mul(dc, beta)
    }
    return [da, db, dc]
  },

  Reshape: (g, n, [dy]) => [g.reshape(dy!, inp(n, 0).shape), null],
  Transpose: (g, n, [dy]) => {
    const perm = intsAttr(n, 'perm') ?? [...Array(dy!.shape.length).keys()].reverse()
    const inv = new Array<number>(perm.length)
    perm.forEach((p, i) => (inv[p] = i))
    return [g.transpose(dy!, inv)]
  },
  Expand: (g, n, [dy]) => [sumToShape(g, dy!, inp(n, 0).shape), null],
  Concat: (g, n, [dy], needs) => {
    const axis = intAttr(n, 'axis', 0)
    const parts = g.split(dy!, axis, n.inputs.map((x) => x!.shape[axis]!))
    return parts.map((p, i) => (needs[i] ? p : null))
  },
  Split: (g, n, dys) => {
    const axis = intAttr(n, 'axis', 0)
    const parts = dys.map((d, i) => d ?? g.zerosLike(out(n, i)))
    return [g.concat(parts, axis), null]
  },
  SimplifiedLayerNormalization: (g, n, [dy], needs) => {
    // y = x̂·w with x̂ = x·r, r = (mean(x²) + eps)^(−1/2):
    //   dw = Σ_rows dy·x̂,   dx = r·(dx̂ − x̂·mean(dx̂·x̂)) with dx̂ = dy·w
    // r is recomputed from x (not read from the kernel's optional 1/rms output, which onnxruntime-node 1.30's
    // WebGPU provider gets wrong; see Graph.rmsNormFused)
    const [x, w] = [inp(n, 0), inp(n, 1)]
    const r = g.invRms(x, floatAttr(n, 'epsilon', 1e-5))
    const xhat = g.mul(x, r)
    const dw = needs[1] ? sumToShape(g, g.mul(dy!, xhat), w.shape) : null
    let dx: Value | null = null
    if (needs[0]) {
      const dxhat = g.mul(dy!, w)
      const proj = g.reduceMean(g.mul(dxhat, xhat), [-1], true) // (…, 1)
      dx = g.mul(g.sub(dxhat, g.mul(xhat, proj)), r)
    }
    return [dx, dw]
  },
  Gather: (g, n, [dy]) => {
    const [data, idx] = [inp(n, 0), inp(n, 1)]
    const axis = intAttr(n, 'axis', 0)
    const perm = constantPermutation(g, idx, data.shape[axis]!)
    if (perm) {
      // a constant permutation along `axis` (e.g. RoPE's pair swap): the gradient gathers with the inverse
      const inv = new Array<number>(perm.length)
      perm.forEach((p, i) => (inv[p] = i))
      return [g.gather(dy!, g.constant(inv, [inv.length], 'int64'), axis), null]
    }
    if (axis !== 0) throw new GraphError('Gather: gradient only for axis 0 or constant permutations')
    // scatter-add the rows of dy into zeros shaped like data (deterministic: see Graph.scatterAddRows)
    const k = numelOf(idx.shape)
    return [g.scatterAddRows(g.zerosLike(data), g.reshape(idx, [k]), g.reshape(dy!, [k, ...data.shape.slice(1)])), null]
  },
  GatherElements: (g, n, [dy]) => {
    const [data, idx] = [inp(n, 0), inp(n, 1)]
    return [g.scatterElements(g.zerosLike(data), idx, dy!, intAttr(n, 'axis', 0), 'add'), null]
  },
}

/** The indices as numbers when `idx` is a 1-D constant permutation of 0..n−1, else null. */
function constantPermutation(g: Graph, idx: Value, n: number): number[] | null {
  if (idx.shape.length !== 1 || idx.shape[0] !== n) return null
  const c = g.constants.find((k) => k.value === idx)
  if (!c) return null
  const xs = Array.from(c.data as unknown as ArrayLike<number | bigint>, (x) => Number(x))
  const seen = new Set(xs)
  return seen.size === n && xs.every((x) => x >= 0 && x < n) ? xs : null
}

function minMaxRule(g: Graph, n: Node, dy: Value, needs: boolean[], kind: 'max' | 'min'): (Value | null)[] {
  const [a, b] = [inp(n, 0), inp(n, 1)]
  const wins = kind === 'max' ? g.greater(a, b) : g.less(a, b)
  const tie = g.equal(a, b)
  const half = g.mul(dy, 0.5)
  const da = g.where(wins, dy, g.where(tie, half, 0))
  const db = g.where(wins, 0, g.where(tie, half, dy))
  return [needs[0] ? sumToShape(g, da, a.shape) : null, needs[1] ? sumToShape(g, db, b.shape) : null]
}
