/**
 * Reverse-mode automatic differentiation over the IR (ir.ts). Gradient nodes are appended to the same graph,
 * so one ONNX graph computes forward, backward (and whatever follows, e.g. AdamW).
 *
 * `gradients(g, seeds, wrt)`: seeds pair a value with its incoming gradient (same shape), e.g. [loss, 1] or
 * [hidden, dHidden]; the result maps each `wrt` value to its gradient, or null where no path exists.
 */
import { GRAD_RULES } from './grad-rules.js'
import { GraphError, isFloat, type Graph, type Node, type Value } from './ir.js'

export function gradients(g: Graph, seeds: [Value, Value][], wrt: Value[]): Map<Value, Value | null> {
  const nodes = g.nodes.slice() // forward nodes only: gradient nodes appended below are not revisited

  // values that depend on a wrt value (forward reachability)
  const dependsOnWrt = new Set<number>(wrt.map((v) => v.id))
  for (const n of nodes) {
    if (n.inputs.some((x) => x && dependsOnWrt.has(x.id)) && n.outputs.some((o) => isFloat(o.dtype)))
      for (const o of n.outputs) dependsOnWrt.add(o.id)
  }
  // values that reach a seed (backward reachability)
  const reachesSeed = new Set<number>(seeds.map(([v]) => v.id))
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!
    if (n.outputs.some((o) => reachesSeed.has(o.id))) for (const x of n.inputs) if (x) reachesSeed.add(x.id)
  }
  const active = (v: Value | null): v is Value => !!v && isFloat(v.dtype) && dependsOnWrt.has(v.id) && reachesSeed.has(v.id)

  const grads = new Map<number, Value>()
  const accumulate = (v: Value, dv: Value) => {
    if (dv.shape.length !== v.shape.length || dv.shape.some((d, i) => d !== v.shape[i]))
      throw new GraphError(`gradient shape [${dv.shape}] does not match value shape [${v.shape}]`)
    const prev = grads.get(v.id)
    grads.set(v.id, prev ? g.add(prev, dv) : dv)
  }
  for (const [v, dv] of seeds) accumulate(v, dv)

  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!
    const dys = n.outputs.map((o) => grads.get(o.id) ?? null)
    if (dys.every((d) => d === null)) continue
    const needs = n.inputs.map((x) => active(x))
    if (!needs.some(Boolean)) continue
    const rule = GRAD_RULES[n.op]
    if (!rule) throw new GraphError(`no gradient rule for ${n.op}`)
    const dxs = rule(g, n, dys, needs)
    n.inputs.forEach((x, k) => {
      const dx = dxs[k]
      if (x && needs[k] && dx) accumulate(x, dx)
    })
  }
  return new Map(wrt.map((v) => [v, grads.get(v.id) ?? null]))
}

export type GradRule = (g: Graph, node: Node, dys: (Value | null)[], needs: boolean[]) => (Value | null | undefined)[]
