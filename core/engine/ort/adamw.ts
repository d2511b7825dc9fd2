/**
 * AdamW inside the graph with torch.optim.AdamW semantics (decoupled weight decay, bias corrections from the
 * step count):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 * written as p ← p·(1 − lr·wd) − a·m / (√v + ε') with a = lr·√(1−β2^t) / (1−β1^t) and ε' = eps·√(1−β2^t)
 * (the same quantity, one elementwise pass fewer over every parameter). The step-dependent scalars are
 * computed in float64 on the host each step and fed as rank-0 inputs.
 */
import type { OptimizerConfig } from '../engine.js'
import type { Graph, Value } from './ir.js'

export const ADAM_SCALARS = ['adam_beta1', 'adam_one_minus_beta1', 'adam_beta2', 'adam_one_minus_beta2', 'adam_step_size', 'adam_eps', 'adam_decay'] as const
export type AdamScalarName = (typeof ADAM_SCALARS)[number]

export function adamScalarInputs(g: Graph): Record<AdamScalarName, Value> {
  return Object.fromEntries(ADAM_SCALARS.map((n) => [n, g.input(n, [])])) as Record<AdamScalarName, Value>
}

/** Host-side scalars for optimizer step `t` (1-based) at learning rate `lr`. */
export function adamScalarValues(o: OptimizerConfig, t: number, lr: number): Record<AdamScalarName, number> {
  const bc1 = 1 - Math.pow(o.beta1, t)
  const bc2 = 1 - Math.pow(o.beta2, t)
  return {
    adam_beta1: o.beta1,
    adam_one_minus_beta1: 1 - o.beta1,
    adam_beta2: o.beta2,
    adam_one_minus_beta2: 1 - o.beta2,
    adam_step_size: (lr * Math.sqrt(bc2)) / bc1,
    adam_eps: o.eps * Math.sqrt(bc2),
    adam_decay: 1 - lr * o.weight_decay,
  }
}

/** One parameter's update. `grad` null means a zero gradient. `decay` false skips p·(1 − lr·wd) (wd = 0). */
export function adamwUpdate(g: Graph, s: Record<AdamScalarName, Value>, p: Value, grad: Value | null, m: Value, v: Value, decay: boolean) {
  const m2 = grad ? g.add(g.mul(m, s.adam_beta1), g.mul(grad, s.adam_one_minus_beta1)) : g.mul(m, s.adam_beta1)
  const v2 = grad ? g.add(g.mul(v, s.adam_beta2), g.mul(g.mul(grad, grad), s.adam_one_minus_beta2)) : g.mul(v, s.adam_beta2)
  const update = g.mul(g.div(m2, g.add(g.sqrt(v2), s.adam_eps)), s.adam_step_size)
  const p2 = g.sub(decay ? g.mul(p, s.adam_decay) : p, update)
  return { p: p2, m: m2, v: v2 }
}
