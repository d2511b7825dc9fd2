/**
 * Gradient registrations for the kernels our model differentiates through.
 *
 * @tensorflow/tfjs-core's Node bundle registers NO gradients (the union package @tensorflow/tfjs does, via
 * register_all_gradients, which exists here only as extensionless ESM files Node cannot load). We register the
 * few we need, with the same formulas as tfjs (Apache-2.0), and skip any kernel that already has one (e.g. when
 * @tensorflow/tfjs-node brings the union package). The heavy ops (matmuls, gather, cross-entropy) have their own
 * custom gradients in ops.ts / cross-entropy.ts and need none of these.
 *
 * Conventions match PyTorch: Relu'(0) = 0 (step(0) = 0); ClipByValue passes dy on the closed [min, max].
 */
import * as tf from '@tensorflow/tfjs-core'

const { getReductionAxes, assertAndGetBroadcastShape } = tf.backend_util

type Attrs = Record<string, unknown>

/** Sum dy over the axes broadcasting added to `shape`, then reshape to it. */
function unbroadcast(dy: tf.Tensor, shape: number[], outShape: number[]): tf.Tensor {
  const axes = getReductionAxes(shape, outShape)
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape)
}

function binary(kernelName: string, da: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor, db: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor]
      const out = assertAndGetBroadcastShape(a.shape, b.shape)
      const d = dy as tf.Tensor
      return { a: () => unbroadcast(da(d, a, b), a.shape, out), b: () => unbroadcast(db(d, a, b), b.shape, out) }
    },
  }
}

/** dy expanded back over the reduced axes of x (for Sum and Mean). */
function expandReduced(dy: tf.Tensor, x: tf.Tensor, axis: unknown): { expanded: tf.Tensor; count: number } {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape)
  const shape = x.shape.slice()
  let count = 1
  for (const a of axes) {
    count *= shape[a]!
    shape[a] = 1
  }
  return { expanded: tf.mul(tf.reshape(dy, shape), tf.ones(x.shape)), count }
}

const CONFIGS: tf.GradConfig[] = [
  binary('Add', (dy) => dy, (dy) => dy),
  binary('Sub', (dy) => dy, (dy) => tf.neg(dy)),
  binary('Multiply', (dy, _a, b) => tf.mul(dy, b), (dy, a) => tf.mul(dy, a)),
  binary('RealDiv', (dy, _a, b) => tf.div(dy, b), (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))),
  binary('Maximum', (dy, a, b) => tf.mul(dy, tf.cast(tf.greaterEqual(a, b), 'float32')), (dy, a, b) => tf.mul(dy, tf.cast(tf.less(a, b), 'float32'))),
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor]
      return { x: () => expandReduced(dy as tf.Tensor, x, (attrs as Attrs).axis).expanded }
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor]
      return {
        x: () => {
          const { expanded, count } = expandReduced(dy as tf.Tensor, x, (attrs as Attrs).axis)
          return tf.div(expanded, count)
        },
      }
    },
  },
  {
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(saved[0]!, 2)) }),
  },
  {
    kernelName: 'Sqrt',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as tf.Tensor, tf.mul(tf.sqrt(saved[0]!), 2)) }),
  },
  {
    kernelName: 'Rsqrt',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.neg(tf.div(dy as tf.Tensor, tf.mul(tf.pow(saved[0]!, 1.5), 2))) }),
  },
  {
    kernelName: 'Log',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as tf.Tensor, saved[0]!) }),
  },
  {
    kernelName: 'Exp',
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, saved[0]!) }),
  },
  {
    kernelName: 'Neg',
    gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) }),
  },
  {
    kernelName: 'Sigmoid',
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const y = saved[0]!
      return { x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(1, y))) }
    },
  },
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.step(saved[0]!)) }), // step(0) = 0
  },
  {
    kernelName: 'ClipByValue',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!
      const { clipValueMin, clipValueMax } = attrs as { clipValueMin: number; clipValueMax: number }
      const inside = tf.logicalAnd(tf.greaterEqual(x, clipValueMin), tf.lessEqual(x, clipValueMax)) // closed interval
      return { x: () => tf.where(inside, dy as tf.Tensor, tf.zerosLike(dy as tf.Tensor)) }
    },
  },
  {
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const y = saved[0]!
      const dyy = tf.mul(dy as tf.Tensor, y)
      return { logits: () => tf.sub(dyy, tf.mul(tf.sum(dyy, [(attrs as Attrs).dim as number], true), y)) }
    },
  },
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as tf.Tensor, saved[0]!.shape) }),
  },
  {
    kernelName: 'Transpose',
    gradFunc: (dy, _saved, attrs) => {
      const perm = (attrs as Attrs).perm as number[]
      const undo = new Array<number>(perm.length)
      perm.forEach((p, i) => (undo[p] = i))
      return { x: () => tf.transpose(dy as tf.Tensor, undo) }
    },
  },
  {
    kernelName: 'Reverse',
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.reverse(dy as tf.Tensor, (attrs as Attrs).dims as number[]) }),
  },
  {
    kernelName: 'Pack',
    saveAllInputs: true,
    gradFunc: (dy, _saved, attrs) => {
      const parts = tf.unstack(dy as tf.Tensor, (attrs as Attrs).axis as number)
      return Object.fromEntries(parts.map((t, i) => [String(i), () => t])) // keyed by input index, as tfjs' Pack
    },
  },
  {
    kernelName: 'Cast',
    gradFunc: (dy) => ({ x: () => tf.clone(dy as tf.Tensor) }),
  },
  {
    kernelName: 'Identity',
    gradFunc: (dy) => ({ x: () => tf.cast(dy as tf.Tensor, 'float32') }),
  },
]

let registered = false

/** Register the gradients above (idempotent; kernels that already have a gradient keep it). */
function registerGradients(): void {
  if (registered) return
  registered = true
  for (const c of CONFIGS) if (!tf.getGradient(c.kernelName)) tf.registerGradient(c)
}

registerGradients()
