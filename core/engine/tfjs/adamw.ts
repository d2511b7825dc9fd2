/**
 * AdamW exactly as torch.optim.AdamW (single-tensor and fused paths agree), spec B.1:
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
 * Three parameter groups (default, norms, masks; core/model/params.ts) share the hyper-parameters, as in the
 * reference. Moments live in the parameters' internal layout (params.ts) and are converted at the boundary.
 * Per-parameter updates: a single flat buffer would need tf.split, and tfjs-wasm's Slice copies its whole input
 * per slice (O(P) each), which costs far more than the ~13 kernels per parameter saved.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { OptimizerConfig, OptimizerState } from '../engine.js'
import { internalShape, toInternal, toReference, type ParamStore } from './params.js'
import { numel } from '../../model/params.js'

export class AdamW {
  step = 0
  private readonly m: tf.Variable[]
  private readonly v: tf.Variable[]

  constructor(
    private readonly params: ParamStore,
    readonly config: OptimizerConfig,
  ) {
    this.m = params.entries.map((e) => tf.variable(tf.zeros(e.variable.shape), false))
    this.v = params.entries.map((e) => tf.variable(tf.zeros(e.variable.shape), false))
  }

  /** One update with averaged gradients `grads[i]` for params.entries[i] (internal layout). */
  apply(grads: tf.Tensor[], lr: number): void {
    const { beta1, beta2, eps, weight_decay } = this.config
    this.step++
    const bc1 = 1 - Math.pow(beta1, this.step)
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, this.step))
    const stepSize = lr / bc1
    tf.tidy(() => {
      this.params.entries.forEach(({ variable: p }, i) => {
        const g = grads[i]!
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1))
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2))
        this.m[i]!.assign(m)
        this.v[i]!.assign(v)
        const decayed = weight_decay !== 0 ? tf.mul(p, 1 - lr * weight_decay) : p
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps)
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)))
      })
    })
  }

  async getState(): Promise<OptimizerState> {
    const m = new Map<string, Float32Array>()
    const v = new Map<string, Float32Array>()
    for (const [i, { spec }] of this.params.entries.entries()) {
      m.set(spec.name, toReference(spec, (await this.m[i]!.data()) as Float32Array))
      v.set(spec.name, toReference(spec, (await this.v[i]!.data()) as Float32Array))
    }
    return { step: this.step, m, v }
  }

  setState(s: OptimizerState): void {
    const problems: string[] = []
    for (const { spec } of this.params.entries)
      for (const [what, map] of [['m', s.m], ['v', s.v]] as const) {
        const a = map.get(spec.name)
        if (!a || a.length !== numel(spec.shape)) problems.push(`${what}[${spec.name}] ${a ? `has ${a.length} values, expected ${numel(spec.shape)}` : 'missing'}`)
      }
    if (problems.length) throw new Error(`optimizer state does not match the model: ${problems.slice(0, 10).join('; ')}`)
    this.params.entries.forEach(({ spec }, i) => {
      tf.tidy(() => {
        this.m[i]!.assign(tf.tensor(toInternal(spec, s.m.get(spec.name)!), internalShape(spec)))
        this.v[i]!.assign(tf.tensor(toInternal(spec, s.v.get(spec.name)!), internalShape(spec)))
      })
    })
    this.step = s.step
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v])
  }
}
