/**
 * Every gradient rule against central finite differences, in float64 graphs run by onnxruntime.
 * loss = Σ op(x)·R with a fixed random R, so every output element's gradient is exercised.
 */
import { describe, expect, it } from 'vitest'
import { gradients } from './autodiff.js'
import { Graph, numelOf, type DType, type Value } from './ir.js'
import { compileGraph, type HostArray } from './run-graph.js'

interface InSpec {
  shape: number[]
  /** value range: 'any' N(0,1)-ish, 'pos' in [0.5, 2], or explicit data */
  kind?: 'any' | 'pos'
  data?: number[]
  dtype?: DType
}

function lcg(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

async function checkGrad(build: (g: Graph, xs: Value[]) => Value, specs: InSpec[], tol = 1e-6, seed = 1) {
  const rnd = lcg(seed)
  const g = new Graph('float64')
  const xs = specs.map((s, i) => g.input(`x${i}`, s.shape, s.dtype ?? 'float64'))
  const y = build(g, xs)
  const R = g.constant(Float64Array.from({ length: numelOf(y.shape) }, () => rnd() * 2 - 1), y.shape)
  const loss = g.reduceSum(g.mul(y, R), [...y.shape.keys()], false)
  g.output(loss, 'loss')
  const floatIdx = specs.map((s, i) => ((s.dtype ?? 'float64') === 'float64' ? i : -1)).filter((i) => i >= 0)
  const grads = gradients(g, [[loss, g.scalar(1)]], floatIdx.map((i) => xs[i]!))
  floatIdx.forEach((i) => {
    const d = grads.get(xs[i]!)
    if (!d) throw new Error(`no gradient for input ${i}`)
    g.output(d, `g${i}`)
  })
  const c = await compileGraph(g)
  const feeds: Record<string, HostArray> = {}
  specs.forEach((s, i) => {
    const n = numelOf(s.shape)
    if (s.data) feeds[`x${i}`] = s.dtype === 'int32' ? Int32Array.from(s.data) : s.dtype === 'int64' ? BigInt64Array.from(s.data.map(BigInt)) : s.dtype === 'bool' ? Uint8Array.from(s.data) : Float64Array.from(s.data)
    else feeds[`x${i}`] = Float64Array.from({ length: n }, () => (s.kind === 'pos' ? 0.5 + 1.5 * rnd() : rnd() * 4 - 2))
  })
  const base = await c.run(feeds)
  const h = 1e-6
  for (const i of floatIdx) {
    const x = feeds[`x${i}`] as Float64Array
    const analytic = base[`g${i}`] as Float64Array
    expect(analytic.length).toBe(x.length)
    let maxErr = 0
    let scale = 1
    for (let j = 0; j < x.length; j++) {
      const x0 = x[j]!
      x[j] = x0 + h
      const lp = (await c.run(feeds)).loss![0] as number
      x[j] = x0 - h
      const lm = (await c.run(feeds)).loss![0] as number
      x[j] = x0
      const fd = (lp - lm) / (2 * h)
      maxErr = Math.max(maxErr, Math.abs(fd - analytic[j]!))
      scale = Math.max(scale, Math.abs(fd))
    }
    expect(maxErr / scale, `input ${i}`).toBeLessThan(tol)
  }
  await c.release()
}

describe('gradient rules vs finite differences (float64)', () => {
  const cases: [string, (g: Graph, x: Value[]) => Value, InSpec[]][] = [
    ['Add broadcast', (g, [a, b]) => g.add(a!, b!), [{ shape: [3, 4] }, { shape: [4] }]],
    ['Add broadcast both', (g, [a, b]) => g.add(a!, b!), [{ shape: [2, 1, 3] }, { shape: [4, 1] }]],
    ['Sub broadcast', (g, [a, b]) => g.sub(a!, b!), [{ shape: [2, 3] }, { shape: [2, 1] }]],
    ['Mul broadcast', (g, [a, b]) => g.mul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [3, 1] }]],
    ['Div', (g, [a, b]) => g.div(a!, b!), [{ shape: [3, 4] }, { shape: [3, 4], kind: 'pos' }]],
    ['Div broadcast', (g, [a, b]) => g.div(a!, b!), [{ shape: [3, 4] }, { shape: [1, 4], kind: 'pos' }]],
    ['Neg', (g, [a]) => g.neg(a!), [{ shape: [5] }]],
    ['Sqrt', (g, [a]) => g.sqrt(a!), [{ shape: [5], kind: 'pos' }]],
    ['Reciprocal', (g, [a]) => g.reciprocal(a!), [{ shape: [5], kind: 'pos' }]],
    ['Exp', (g, [a]) => g.exp(a!), [{ shape: [5] }]],
    ['Log', (g, [a]) => g.log(a!), [{ shape: [5], kind: 'pos' }]],
    ['Abs', (g, [a]) => g.abs(a!), [{ shape: [5] }]],
    ['Pow 2', (g, [a]) => g.pow(a!, 2), [{ shape: [5] }]],
    ['Pow 3', (g, [a]) => g.pow(a!, 3), [{ shape: [5] }]],
    ['Sigmoid', (g, [a]) => g.sigmoid(a!), [{ shape: [6] }]],
    ['Relu', (g, [a]) => g.relu(a!), [{ shape: [6] }]],
    ['Clip', (g, [a]) => g.clip(a!, -0.5, 0.7), [{ shape: [8] }]],
    ['Max', (g, [a, b]) => g.max(a!, b!), [{ shape: [2, 3] }, { shape: [3] }]],
    ['Min', (g, [a, b]) => g.min(a!, b!), [{ shape: [2, 3] }, { shape: [2, 3] }]],
    ['Where', (g, [c, a, b]) => g.where(c!, a!, b!), [{ shape: [2, 3], dtype: 'bool', data: [1, 0, 1, 0, 0, 1] }, { shape: [2, 3] }, { shape: [3] }]],
    ['ReduceSum axis 1 keep', (g, [a]) => g.reduceSum(a!, [1], true), [{ shape: [2, 3, 4] }]],
    ['ReduceSum all', (g, [a]) => g.reduceSum(a!, [0, 2], false), [{ shape: [2, 3, 4] }]],
    ['ReduceMean last', (g, [a]) => g.reduceMean(a!, [-1], true), [{ shape: [2, 3, 4] }]],
    ['ReduceMean no keep', (g, [a]) => g.reduceMean(a!, [0, 1], false), [{ shape: [2, 3, 4] }]],
    ['ReduceSumSquare', (g, [a]) => g.reduceSumSquare(a!, [1], false), [{ shape: [3, 4] }]],
    ['ReduceLogSumExp', (g, [a]) => g.reduceLogSumExp(a!, [1], true), [{ shape: [3, 5] }]],
    ['Softmax last', (g, [a]) => g.softmax(a!, -1), [{ shape: [2, 3, 4] }]],
    ['Softmax middle', (g, [a]) => g.softmax(a!, 1), [{ shape: [2, 3, 4] }]],
    ['MatMul 2D', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [3, 4] }, { shape: [4, 5] }]],
    ['MatMul batched', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [2, 4, 2] }]],
    ['MatMul broadcast batch', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [2, 1, 3, 4] }, { shape: [1, 3, 4, 2] }]],
    ['MatMul 3D×2D', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [4, 5] }]],
    ['Gemm NN', (g, [a, b]) => g.gemm(a!, b!), [{ shape: [3, 4] }, { shape: [4, 5] }]],
    ['Gemm NT', (g, [a, b]) => g.gemm(a!, b!, { transB: true }), [{ shape: [3, 4] }, { shape: [5, 4] }]],
    ['Gemm TN', (g, [a, b]) => g.gemm(a!, b!, { transA: true, alpha: 0.5 }), [{ shape: [4, 3] }, { shape: [4, 5] }]],
    ['Gemm TT + C', (g, [a, b, c]) => g.gemm(a!, b!, { transA: true, transB: true, c: c!, beta: 2 }), [{ shape: [4, 3] }, { shape: [5, 4] }, { shape: [5] }]],
    ['Gemm + C column', (g, [a, b, c]) => g.gemm(a!, b!, { transB: true, c: c! }), [{ shape: [3, 4] }, { shape: [1, 4] }, { shape: [1] }]],
    ['Reshape', (g, [a]) => g.reshape(a!, [6, 2]), [{ shape: [3, 4] }]],
    ['Transpose', (g, [a]) => g.transpose(a!, [2, 0, 1]), [{ shape: [2, 3, 4] }]],
    ['Expand', (g, [a]) => g.expand(a!, [2, 3, 4]), [{ shape: [3, 1] }]],
    ['Concat', (g, [a, b]) => g.concat([a!, b!], -1), [{ shape: [2, 3] }, { shape: [2, 2] }]],
    ['Split', (g, [a]) => { const [p, q] = g.split(a!, 1, [1, 2]); return g.mul(g.exp(p!), q!) }, [{ shape: [3, 3] }]],
    ['Split unused part', (g, [a]) => g.split(a!, 0, [1, 2])[1]!, [{ shape: [3, 2] }]],
    ['Gather rows (duplicates)', (g, [w, i]) => g.gather(w!, i!), [{ shape: [5, 3] }, { shape: [2, 3], dtype: 'int32', data: [0, 4, 0, 2, 2, 1] }]],
    ['GatherElements', (g, [x, i]) => g.gatherElements(x!, i!, 1), [{ shape: [3, 4] }, { shape: [3, 1], dtype: 'int64', data: [3, 0, 3] }]],
    ['Identity', (g, [a]) => g.identity(a!), [{ shape: [4] }]],
    [
      'RMSNorm composite',
      (g, [x, w]) => {
        const r = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(x!, x!), [-1], true), 1e-5)))
        return g.mul(g.mul(x!, r), w!)
      },
      [{ shape: [3, 4] }, { shape: [4] }],
    ],
  ]
  for (const [name, build, specs] of cases) it(name, () => checkGrad(build, specs))
})

describe('PyTorch gradient conventions (exact)', () => {
  it('ReLU′(0) = 0 and Clip passes on the closed interval', async () => {
    const g = new Graph('float64')
    const x = g.input('x', [5])
    const y = g.add(g.relu(x), g.clip(x, 0, 1))
    const loss = g.reduceSum(y, [0], false)
    g.output(gradients(g, [[loss, g.scalar(1)]], [x]).get(x)!, 'dx')
    const c = await compileGraph(g)
    const r = await c.run({ x: Float64Array.from([0, 1, -1, 0.5, 1.5]) })
    // x=0: relu 0 + clip 1 ; x=1: relu 1 + clip 1 ; x=-1: 0 ; x=0.5: 2 ; x=1.5: relu 1 + clip 0
    expect(Array.from(r.dx as Float64Array)).toEqual([1, 2, 0, 2, 1])
    await c.release()
  })
})

describe('fused kernels with hand-written rules (float64)', () => {
  it('SimplifiedLayerNormalization (RMSNorm)', () =>
    checkGrad((g, [x, w]) => g.rmsNormFused(x!, w!, 1e-5), [{ shape: [3, 5] }, { shape: [5] }], 1e-5)) // float32 statistics
  it('Gather along the last axis with a constant permutation', () =>
    checkGrad((g, [x]) => g.gather(x!, g.constant([1, 0, 3, 2], [4], 'int64'), 1), [{ shape: [3, 4] }]))
})
