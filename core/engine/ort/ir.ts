/**
 * A small static-shape tensor graph IR with ONNX (opset 17) op builders. Every builder infers its output shape,
 * so graphs are checked while they are built and the autodiff (autodiff.ts) can undo broadcasting exactly.
 *
 * Conventions: `Value`s are SSA tensors; `Node`s are ONNX nodes. Constants become initializers; only small
 * constants are ever created (zeros of large shapes are made at run time with ConstantOfShape over a runtime
 * Shape, see `zerosLike`, so they are never stored in the model).
 */

/** 'bfloat16' only for stored constants (export), whose data are the raw bits (Uint16Array), cast before use */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'bfloat16'
export type Shape = readonly number[]

export interface Value {
  readonly id: number
  /** the ONNX name; set for graph inputs/outputs, otherwise assigned at serialisation */
  name: string | null
  readonly shape: Shape
  readonly dtype: DType
  /** the node that produces it (undefined for inputs and constants) */
  readonly producer?: Node
}

export type AttrValue =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'string'; v: string }
  | { kind: 'tensor'; dtype: DType; shape: Shape; data: ArrayBufferView }

export interface Node {
  readonly op: string
  readonly domain: string
  /** null marks an omitted optional input */
  readonly inputs: (Value | null)[]
  readonly outputs: Value[]
  readonly attrs: Record<string, AttrValue>
}

export interface Constant {
  value: Value
  data: ArrayBufferView
}

export const isFloat = (d: DType) => d === 'float32' || d === 'float64'
export const numelOf = (s: Shape) => s.reduce((a, b) => a * b, 1)

export class GraphError extends Error {
  override name = 'GraphError'
}

function sameShape(a: Shape, b: Shape) {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

/** Numpy-style multidirectional broadcast of static shapes. */
function broadcastShapes(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length))
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    let d = 1
    for (const s of shapes) {
      const k = s.length - rank + i
      const sd = k >= 0 ? s[k]! : 1
      if (sd !== 1) {
        if (d !== 1 && d !== sd) throw new GraphError(`cannot broadcast shapes ${shapes.map((x) => `[${x}]`).join(' ')}`)
        d = sd
      }
    }
    out.push(d)
  }
  return out
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis)

function typedFor(dtype: DType, values: ArrayLike<number>): ArrayBufferView {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values)
    case 'float64':
      return Float64Array.from(values)
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)))
    case 'int32':
      return Int32Array.from(values)
    case 'bool':
      return Uint8Array.from(values)
    case 'bfloat16':
      return Uint16Array.from(values)
  }
}

export class Graph {
  readonly nodes: Node[] = []
  readonly inputs: Value[] = []
  readonly outputs: Value[] = []
  readonly constants: Constant[] = []
  private nextId = 0
  private scalarCache = new Map<string, Value>()
  /**
   * Dynamic axes: a graph is built with a placeholder size for each (any positive integer no real dimension of the
   * graph takes), and the serializer writes inputs' and outputs' dimensions of that size as the named dim_param.
   * Reshapes of such values must use `reshapeTo` with an ONNX target (0 / −1) that does not spell the placeholder.
   */
  readonly dynamicDims = new Map<number, string>()
  /**
   * Runtime sizes (int64, shape [1]) of placeholder dimensions: Reshape and Expand targets that name such a dimension
   * are built at run time (Concat of these and constants), so `reshape`/`expand` keep working on dynamic axes.
   */
  readonly dynamicSizes = new Map<number, Value>()
  /** default floating dtype of scalars created by the helpers */
  constructor(readonly floatType: 'float32' | 'float64' = 'float32') {}

  // ---------------------------------------------------------------- values, inputs, outputs, constants

  private newValue(shape: Shape, dtype: DType, producer?: Node, name: string | null = null): Value {
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new GraphError(`invalid shape [${shape}]`)
    return { id: this.nextId++, name, shape: [...shape], dtype, producer }
  }

  input(name: string, shape: Shape, dtype: DType = this.floatType): Value {
    const v = this.newValue(shape, dtype, undefined, name)
    this.inputs.push(v)
    return v
  }

  /** Mark `v` as a graph output called `name` (an Identity is inserted if `v` cannot carry that name). */
  output(v: Value, name: string): Value {
    const isInput = this.inputs.includes(v) || this.constants.some((c) => c.value === v)
    if (isInput || (v.name !== null && v.name !== name) || this.outputs.includes(v)) v = this.op1('Identity', [v], v.shape, v.dtype)
    v.name = name
    this.outputs.push(v)
    return v
  }

  constant(data: ArrayLike<number> | ArrayBufferView, shape: Shape, dtype: DType = this.floatType): Value {
    const buf = ArrayBuffer.isView(data) ? data : typedFor(dtype, data as ArrayLike<number>)
    const n = numelOf(shape)
    const len = (buf as unknown as { length: number }).length
    if (len !== n) throw new GraphError(`constant of shape [${shape}] needs ${n} values, got ${len}`)
    const v = this.newValue(shape, dtype)
    this.constants.push({ value: v, data: buf })
    return v
  }

  /** A cached rank-0 constant. */
  scalar(x: number, dtype: DType = this.floatType): Value {
    const key = `${dtype}:${Object.is(x, -0) ? '-0' : x}`
    let v = this.scalarCache.get(key)
    if (!v) {
      v = this.constant([x], [], dtype)
      this.scalarCache.set(key, v)
    }
    return v
  }

  /** An int64 1-D constant (axes, shapes, sizes), cached by content. */
  ints(xs: readonly number[]): Value {
    const key = `i64[${xs.join(',')}]`
    let v = this.scalarCache.get(key)
    if (!v) {
      v = this.constant(xs, [xs.length], 'int64')
      this.scalarCache.set(key, v)
    }
    return v
  }

  // ---------------------------------------------------------------- generic node creation

  node(op: string, inputs: (Value | null)[], outs: { shape: Shape; dtype: DType }[], attrs: Record<string, AttrValue> = {}, domain = ''): Value[] {
    const outputs: Value[] = []
    const node: Node = { op, domain, inputs, outputs, attrs }
    for (const o of outs) outputs.push(this.newValue(o.shape, o.dtype, node))
    this.nodes.push(node)
    return outputs
  }

  op1(op: string, inputs: (Value | null)[], shape: Shape, dtype: DType, attrs: Record<string, AttrValue> = {}): Value {
    return this.node(op, inputs, [{ shape, dtype }], attrs)[0]!
  }

  // ---------------------------------------------------------------- elementwise

  private binary(op: string, a: Value, b: Value, outDtype?: DType): Value {
    if (a.dtype !== b.dtype) throw new GraphError(`${op}: dtype mismatch ${a.dtype} vs ${b.dtype}`)
    return this.op1(op, [a, b], broadcastShapes(a.shape, b.shape), outDtype ?? a.dtype)
  }
  private num(x: Value | number, like: Value): Value {
    return typeof x === 'number' ? this.scalar(x, like.dtype) : x
  }

  add(a: Value, b: Value | number) {
    return this.binary('Add', a, this.num(b, a))
  }
  sub(a: Value | number, b: Value | number) {
    if (typeof a === 'number') return this.binary('Sub', this.num(a, b as Value), b as Value)
    return this.binary('Sub', a, this.num(b, a))
  }
  mul(a: Value, b: Value | number) {
    return this.binary('Mul', a, this.num(b, a))
  }
  div(a: Value | number, b: Value | number) {
    if (typeof a === 'number') return this.binary('Div', this.num(a, b as Value), b as Value)
    return this.binary('Div', a, this.num(b, a))
  }
  pow(a: Value, exponent: number) {
    return this.binary('Pow', a, this.scalar(exponent, a.dtype))
  }
  max(a: Value, b: Value | number) {
    return this.binary('Max', a, this.num(b, a))
  }
  min(a: Value, b: Value | number) {
    return this.binary('Min', a, this.num(b, a))
  }
  equal(a: Value, b: Value) {
    return this.binary('Equal', a, b, 'bool')
  }
  less(a: Value, b: Value | number) {
    return this.binary('Less', a, this.num(b, a), 'bool')
  }
  greater(a: Value, b: Value | number) {
    return this.binary('Greater', a, this.num(b, a), 'bool')
  }
  greaterOrEqual(a: Value, b: Value | number) {
    return this.binary('GreaterOrEqual', a, this.num(b, a), 'bool')
  }
  lessOrEqual(a: Value, b: Value | number) {
    return this.binary('LessOrEqual', a, this.num(b, a), 'bool')
  }
  and(a: Value, b: Value) {
    return this.binary('And', a, b, 'bool')
  }

  private unary(op: string, x: Value, attrs: Record<string, AttrValue> = {}) {
    return this.op1(op, [x], x.shape, x.dtype, attrs)
  }
  neg = (x: Value) => this.unary('Neg', x)
  sqrt = (x: Value) => this.unary('Sqrt', x)
  reciprocal = (x: Value) => this.unary('Reciprocal', x)
  exp = (x: Value) => this.unary('Exp', x)
  log = (x: Value) => this.unary('Log', x)
  abs = (x: Value) => this.unary('Abs', x)
  sign = (x: Value) => this.unary('Sign', x)
  sigmoid = (x: Value) => this.unary('Sigmoid', x)
  relu = (x: Value) => this.unary('Relu', x)
  identity = (x: Value) => this.unary('Identity', x)

  /** Clip(x, lo, hi) with scalar bounds (opset ≥ 11 takes them as inputs). */
  clip(x: Value, lo: number, hi: number) {
    return this.op1('Clip', [x, this.scalar(lo, x.dtype), this.scalar(hi, x.dtype)], x.shape, x.dtype)
  }

  where(cond: Value, a: Value | number, b: Value | number): Value {
    const like = typeof a === 'number' ? (b as Value) : a
    const av = this.num(a, like)
    const bv = this.num(b, like)
    if (cond.dtype !== 'bool') throw new GraphError('Where: condition must be bool')
    return this.op1('Where', [cond, av, bv], broadcastShapes(cond.shape, av.shape, bv.shape), av.dtype)
  }

  cast(x: Value, to: DType): Value {
    if (x.dtype === to) return x
    return this.op1('Cast', [x], x.shape, to, { to: { kind: 'int', v: dtypeCode(to) } })
  }

  // ---------------------------------------------------------------- reductions (opset 17 conventions)

  private reducedShape(x: Value, axes: number[], keepdims: boolean): { shape: number[]; axes: number[] } {
    const r = x.shape.length
    const ax = [...new Set(axes.map((a) => normAxis(a, r)))].sort((a, b) => a - b)
    const shape: number[] = []
    x.shape.forEach((d, i) => {
      if (ax.includes(i)) {
        if (keepdims) shape.push(1)
      } else shape.push(d)
    })
    return { shape, axes: ax }
  }
  /** ReduceSum: axes are an input in opset 13+. */
  reduceSum(x: Value, axes: number[], keepdims = true): Value {
    const { shape, axes: ax } = this.reducedShape(x, axes, keepdims)
    return this.op1('ReduceSum', [x, this.ints(ax)], shape, x.dtype, { keepdims: { kind: 'int', v: keepdims ? 1 : 0 } })
  }
  /** ReduceMean / ReduceMax / ReduceLogSumExp / ReduceSumSquare: axes are an attribute until opset 18. */
  private reduceAttr(op: string, x: Value, axes: number[], keepdims: boolean): Value {
    const { shape, axes: ax } = this.reducedShape(x, axes, keepdims)
    return this.op1(op, [x], shape, x.dtype, { axes: { kind: 'ints', v: ax }, keepdims: { kind: 'int', v: keepdims ? 1 : 0 } })
  }
  reduceMean = (x: Value, axes: number[], keepdims = true) => this.reduceAttr('ReduceMean', x, axes, keepdims)
  reduceMax = (x: Value, axes: number[], keepdims = true) => this.reduceAttr('ReduceMax', x, axes, keepdims)
  reduceLogSumExp = (x: Value, axes: number[], keepdims = true) => this.reduceAttr('ReduceLogSumExp', x, axes, keepdims)
  reduceSumSquare = (x: Value, axes: number[], keepdims = true) => this.reduceAttr('ReduceSumSquare', x, axes, keepdims)

  /**
   * onnxruntime's fused RMSNorm kernel (SimplifiedLayerNormalization, registered by onnxruntime in the default
   * domain): y = x · invStd · w over the last axis. Not a standard ONNX op: training graphs only (exported models
   * use the standard pattern, which onnxruntime fuses into the same kernel).
   * Only its first output is used: the optional second output (1/rms) is wrong on onnxruntime-node 1.30's WebGPU
   * provider (it holds other values, while y is right), so the backward pass recomputes 1/rms with standard ops
   * (`invRms`).
   */
  rmsNormFused(x: Value, w: Value, eps: number): Value {
    return this.op1('SimplifiedLayerNormalization', [x, w], x.shape, x.dtype, {
      axis: { kind: 'int', v: -1 },
      epsilon: { kind: 'float', v: eps },
      stash_type: { kind: 'int', v: 1 }, // statistics in float32
    })
  }

  /** 1/√(mean(x²) + eps) over the last axis, keepdims: (…, 1). */
  invRms(x: Value, eps: number): Value {
    return this.reciprocal(this.sqrt(this.add(this.reduceMean(this.mul(x, x), [-1], true), eps)))
  }

  softmax(x: Value, axis = -1): Value {
    return this.unary('Softmax', x, { axis: { kind: 'int', v: normAxis(axis, x.shape.length) } })
  }

  // ---------------------------------------------------------------- linear algebra

  /** Numpy matmul for rank ≥ 2 operands (batch dims broadcast). */
  matmul(a: Value, b: Value): Value {
    if (a.shape.length < 2 || b.shape.length < 2) throw new GraphError('MatMul: operands must have rank ≥ 2')
    const [m, k] = a.shape.slice(-2) as [number, number]
    const [k2, n] = b.shape.slice(-2) as [number, number]
    if (k !== k2) throw new GraphError(`MatMul: inner dims ${k} vs ${k2} ([${a.shape}] × [${b.shape}])`)
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))
    return this.op1('MatMul', [a, b], [...batch, m, n], a.dtype)
  }

  /** Gemm: alpha·op(A)·op(B) + beta·C, 2-D only. */
  gemm(a: Value, b: Value, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number; c?: Value } = {}): Value {
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new GraphError('Gemm: operands must be 2-D')
    const [m, k] = o.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!]
    const [k2, n] = o.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!]
    if (k !== k2) throw new GraphError(`Gemm: inner dims ${k} vs ${k2}`)
    if (o.c) broadcastShapes(o.c.shape, [m, n])
    const attrs: Record<string, AttrValue> = {}
    if (o.transA) attrs.transA = { kind: 'int', v: 1 }
    if (o.transB) attrs.transB = { kind: 'int', v: 1 }
    if (o.alpha !== undefined && o.alpha !== 1) attrs.alpha = { kind: 'float', v: o.alpha }
    if (o.beta !== undefined && o.beta !== 1) attrs.beta = { kind: 'float', v: o.beta }
    return this.op1('Gemm', o.c ? [a, b, o.c] : [a, b], [m, n], a.dtype, attrs)
  }

  // ---------------------------------------------------------------- shape ops

  reshape(x: Value, shape: readonly number[]): Value {
    if (numelOf(shape) !== numelOf(x.shape)) throw new GraphError(`Reshape: [${x.shape}] → [${shape}] changes the size`)
    if (sameShape(shape, x.shape)) return x
    return this.op1('Reshape', [x, this.shapeOperand(shape)], shape, x.dtype)
  }

  /**
   * Reshape whose ONNX target `onnxShape` may use 0 (copy the input's dim) and −1 (infer) for dynamic axes; `shape`
   * is the static shape it gives with the placeholder sizes (checked).
   */
  reshapeTo(x: Value, shape: readonly number[], onnxShape: readonly number[]): Value {
    if (numelOf(shape) !== numelOf(x.shape)) throw new GraphError(`Reshape: [${x.shape}] → [${shape}] changes the size`)
    if (onnxShape.length !== shape.length || onnxShape.some((d, i) => d > 0 && d !== shape[i]) || [...this.dynamicDims.keys()].some((d) => onnxShape.includes(d)))
      throw new GraphError(`Reshape: ONNX target [${onnxShape}] does not describe [${shape}]`)
    return this.op1('Reshape', [x, this.ints(onnxShape)], shape, x.dtype)
  }

  transpose(x: Value, perm: readonly number[]): Value {
    if (perm.length !== x.shape.length) throw new GraphError('Transpose: perm rank mismatch')
    if (perm.every((p, i) => p === i)) return x
    return this.op1('Transpose', [x], perm.map((p) => x.shape[p]!), x.dtype, { perm: { kind: 'ints', v: [...perm] } })
  }

  concat(xs: Value[], axis: number): Value {
    if (xs.length === 1) return xs[0]!
    const r = xs[0]!.shape.length
    const ax = normAxis(axis, r)
    const shape = [...xs[0]!.shape]
    shape[ax] = xs.reduce((s, x) => s + x.shape[ax]!, 0)
    return this.op1('Concat', xs, shape, xs[0]!.dtype, { axis: { kind: 'int', v: ax } })
  }

  split(x: Value, axis: number, sizes: number[]): Value[] {
    const ax = normAxis(axis, x.shape.length)
    if (sizes.reduce((a, b) => a + b, 0) !== x.shape[ax]) throw new GraphError(`Split: sizes ${sizes} ≠ dim ${x.shape[ax]}`)
    if (sizes.length === 1) return [x]
    const outs = sizes.map((s) => {
      const sh = [...x.shape]
      sh[ax] = s
      return { shape: sh, dtype: x.dtype }
    })
    return this.node('Split', [x, this.ints(sizes)], outs, { axis: { kind: 'int', v: ax } })
  }

  expand(x: Value, shape: readonly number[]): Value {
    const out = broadcastShapes(x.shape, shape)
    if (sameShape(out, x.shape)) return x
    return this.op1('Expand', [x, this.shapeOperand(shape)], out, x.dtype)
  }

  /** A 1-D int64 shape operand: a constant, or a run-time Concat where it names dims in `dynamicSizes`. */
  private shapeOperand(shape: readonly number[]): Value {
    if (!shape.some((d) => this.dynamicSizes.has(d))) return this.ints(shape)
    return this.concat(
      shape.map((d) => this.dynamicSizes.get(d) ?? this.ints([d])),
      0,
    )
  }

  /** Slice `x` to `shape` from the origin along `axes`, ending at run-time sizes `ends` (int64 [axes.length]). */
  sliceTo(x: Value, axes: number[], ends: Value, shape: readonly number[]): Value {
    return this.op1('Slice', [x, this.ints(axes.map(() => 0)), ends, this.ints(axes)], shape, x.dtype)
  }

  // ---------------------------------------------------------------- indexing

  /** Gather along `axis` (indices int32 or int64). */
  gather(data: Value, indices: Value, axis = 0): Value {
    const ax = normAxis(axis, data.shape.length)
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)]
    return this.op1('Gather', [data, indices], shape, data.dtype, { axis: { kind: 'int', v: ax } })
  }

  gatherElements(data: Value, indices: Value, axis: number): Value {
    return this.op1('GatherElements', [data, indices], indices.shape, data.dtype, { axis: { kind: 'int', v: normAxis(axis, data.shape.length) } })
  }

  scatterElements(data: Value, indices: Value, updates: Value, axis: number, reduction: 'none' | 'add' = 'none'): Value {
    const attrs: Record<string, AttrValue> = { axis: { kind: 'int', v: normAxis(axis, data.shape.length) } }
    if (reduction !== 'none') attrs.reduction = { kind: 'string', v: reduction }
    return this.op1('ScatterElements', [data, indices, updates], data.shape, data.dtype, attrs)
  }

  /**
   * ScatterND (indices int64, last dim indexes leading data dims), without reduction: onnxruntime's CPU kernel
   * splits the index list across threads with no synchronisation, so a reduction over duplicate indices is
   * summed in a run-dependent order (see `scatterAddRows` for the deterministic scatter-add).
   */
  scatterND(data: Value, indices: Value, updates: Value): Value {
    if (indices.dtype !== 'int64') throw new GraphError('ScatterND: indices must be int64')
    return this.op1('ScatterND', [data, indices, updates], data.shape, data.dtype)
  }

  /**
   * Scatter-add rows, deterministically: out = data, then out[rows[i]] += updates[i] for i = 0, 1, … in order.
   * rows (n) int32/int64 index data's first axis; updates are (n, …data.shape[1:]). One ScatterElements whose
   * index is the row number expanded over the row: onnxruntime applies the updates of every destination element
   * in index order (1.30: one serial loop), so the result does not depend on threads or timing.
   * Not ScatterND with reduction 'add', which onnxruntime parallelises over the index list: with 2 threads and
   * more than ~2·10⁵ updated elements its sums differed from run to run (embedding and LM-head gradients).
   */
  scatterAddRows(data: Value, rows: Value, updates: Value): Value {
    if (rows.shape.length !== 1 || (rows.dtype !== 'int32' && rows.dtype !== 'int64')) throw new GraphError('scatterAddRows: rows must be 1-D int32/int64')
    const n = rows.shape[0]!
    const rowShape = data.shape.slice(1)
    if (!sameShape(updates.shape, [n, ...rowShape])) throw new GraphError(`scatterAddRows: updates [${updates.shape}] must be [${[n, ...rowShape]}]`)
    const index = this.expand(this.reshape(rows, [n, ...rowShape.map(() => 1)]), updates.shape)
    return this.scatterElements(data, index, updates, 0, 'add')
  }

  /**
   * Zeros shaped like `like`, made at run time by expanding a scalar 0 (Expand), so no large constant is stored.
   * The sessions disable onnxruntime's ConstantFolding (session.ts), which would otherwise store the result.
   * Not Shape → ConstantOfShape: onnxruntime's WebGPU provider has no ConstantOfShape kernel, so that node ran on
   * the CPU and its (V × D) result was copied to the GPU every step.
   */
  zerosLike(like: Value, dtype: DType = like.dtype): Value {
    return this.op1('Expand', [this.scalar(0, dtype), this.ints(like.shape)], like.shape, dtype)
  }
}

export function dtypeCode(d: DType): number {
  return { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11, bfloat16: 16 }[d]
}
