/**
 * The three graph kinds of this engine, assembled from the forward pass, the chunked cross-entropy, the
 * autodiff, the controller loss and AdamW:
 * - eval:   tokens, targets, parameters → Σ token CE, packed gate moments, optionally logits / raw gates / masks
 * - train:  one micro-batch's forward + backward; either outputs gradients (optionally adding an accumulator
 *           input) or ends with the AdamW update (parameters and moments in, new ones out)
 * - export: parameters as initializers, input_ids → logits (a standard inference model)
 *
 * I/O names: parameters `p.<name>`, moments `m.<name>`/`v.<name>`, accumulators `acc.<name>`; outputs
 * `new_p.<name>`, `new_m.<name>`, `new_v.<name>`, `grad.<name>`.
 */
import { dims, type ModelConfig } from '../../model/config.js'
import { paramSpecs, type ParamSpec } from '../../model/params.js'
import { adamScalarInputs, adamwUpdate } from './adamw.js'
import { gradients } from './autodiff.js'
import { ceForwardBackward, ceSum, tokenCe } from './cross-entropy.js'
import { controllerInputs, controllerLossGraph, packedMoments, type ControllerKind } from './gate-stats.js'
import { Graph, type Value } from './ir.js'
import { buildForward } from './model-graph.js'

export interface ShapeSpec {
  batch: number
  seqLen: number
  /** compute the mask/gate path (false = dense fast path, valid only while every mask parameter is zero) */
  withGates: boolean
  /** max logits elements per cross-entropy chunk */
  ceChunkElements?: number
}

/** Parameters a graph reads: all of them, minus the mask linears on the dense fast path. */
export function graphParams(cfg: ModelConfig, withGates: boolean): ParamSpec[] {
  return paramSpecs(cfg).filter((p) => withGates || p.group !== 'masks')
}

function paramInputs(g: Graph, specs: ParamSpec[], prefix: string): Map<string, Value> {
  return new Map(specs.map((s) => [s.name, g.input(prefix + s.name, s.shape)]))
}

function lookup(m: Map<string, Value>) {
  return (name: string) => {
    const v = m.get(name)
    if (!v) throw new Error(`parameter ${name} is not an input of this graph`)
    return v
  }
}

export interface EvalSpec extends ShapeSpec {
  logits: boolean
  rawGates: boolean
}

export function buildEvalGraph(cfg: ModelConfig, s: EvalSpec): Graph {
  const g = new Graph('float32')
  const N = s.batch * s.seqLen
  const { V, L } = dims(cfg)
  const tokens = g.input('tokens', [s.batch, s.seqLen], 'int32')
  const targets = g.input('targets', [s.batch, s.seqLen], 'int32')
  const P = paramInputs(g, graphParams(cfg, s.withGates), 'p.')
  const f = buildForward(g, cfg, lookup(P), tokens, s)
  const W = P.get('output.weight')!
  if (s.logits) {
    const logits = g.gemm(f.hn, W, { transB: true }) // (N, V)
    const ce = tokenCe(g, logits, g.softmax(logits, 1), g.reshape(targets, [N, 1]))
    g.output(g.reduceSum(ce, [0, 1], false), 'ce_sum')
    g.output(g.reshape(logits, [s.batch, s.seqLen, V]), 'logits')
  } else g.output(ceSum(g, f.hn, W, targets, s.ceChunkElements), 'ce_sum')
  if (f.gates) {
    g.output(packedMoments(g, f.gates, f.masks, f.residSq), 'moments')
    if (s.rawGates) {
      g.output(g.reshape(f.gates, [L, s.batch, s.seqLen]), 'gates')
      if (f.masks) g.output(g.reshape(f.masks, [f.masks.shape[0]!, s.batch, s.seqLen]), 'masks')
    }
  }
  return g
}

export interface TrainSpec extends ShapeSpec {
  controller: ControllerKind
  /** micro-batches per optimizer step: each micro-batch's loss is scaled by 1/n (baked into the graph) */
  microBatches: number
  /** add `acc.<name>` inputs to this micro-batch's gradients */
  accumulate: boolean
  /** end with AdamW (else output the gradients) */
  update: boolean
  /** apply decoupled weight decay (weight_decay > 0) */
  decay: boolean
}

export function buildTrainGraph(cfg: ModelConfig, s: TrainSpec): Graph {
  const g = new Graph('float32')
  const N = s.batch * s.seqLen
  const { L } = dims(cfg)
  const specs = graphParams(cfg, s.withGates)
  const tokens = g.input('tokens', [s.batch, s.seqLen], 'int32')
  const targets = g.input('targets', [s.batch, s.seqLen], 'int32')
  const P = paramInputs(g, specs, 'p.')
  const f = buildForward(g, cfg, lookup(P), tokens, { ...s, norm: 'fused' })
  const W = P.get('output.weight')!

  const ce = ceForwardBackward(g, f.hn, W, targets, 1 / (N * s.microBatches), s.ceChunkElements) // d(mean CE / n)/d(Σ CE)
  g.output(ce.ceSum, 'ce_sum')
  const seeds: [Value, Value][] = [[f.hn, ce.dh]]
  if (s.controller !== 'none') {
    if (!f.gates) throw new Error('a controller loss needs the gate path (withGates)')
    const ctrlIn = Object.fromEntries(controllerInputs(s.controller, L).map((c) => [c.name, g.input(c.name, c.shape)]))
    const ctrl = controllerLossGraph(g, s.controller, f.gates, ctrlIn)
    g.output(ctrl, 'ctrl_loss')
    seeds.push([ctrl, g.scalar(1 / s.microBatches)])
  }
  if (f.gates) g.output(packedMoments(g, f.gates, f.masks, f.residSq), 'moments')

  const wrt = specs.map((p) => P.get(p.name)!)
  const grads = gradients(g, seeds, wrt)
  const gradOf = (p: ParamSpec): Value | null => {
    let d = grads.get(P.get(p.name)!) ?? null
    if (p.name === 'output.weight') d = d ? g.add(d, ce.dW) : ce.dW
    if (s.accumulate) {
      const acc = g.input('acc.' + p.name, p.shape)
      d = d ? g.add(acc, d) : acc
    }
    return d
  }

  if (!s.update) {
    for (const p of specs) g.output(gradOf(p) ?? g.zerosLike(P.get(p.name)!), 'grad.' + p.name)
    return g
  }
  const scalars = adamScalarInputs(g)
  for (const p of specs) {
    const m = g.input('m.' + p.name, p.shape)
    const v = g.input('v.' + p.name, p.shape)
    const u = adamwUpdate(g, scalars, P.get(p.name)!, gradOf(p), m, v, s.decay)
    g.output(u.p, 'new_p.' + p.name)
    g.output(u.m, 'new_m.' + p.name)
    g.output(u.v, 'new_v.' + p.name)
  }
  return g
}

export interface ExportSpec {
  batch: number
  seqLen: number
}

/** Forward graph with the weights as initializers: input_ids (B, T) int64 → logits (B, T, V) [+ gates]. */
export function buildExportGraph(cfg: ModelConfig, weights: Map<string, Float32Array>, s: ExportSpec): Graph {
  const g = new Graph('float32')
  const { V, L, gated } = dims(cfg)
  const ids = g.input('input_ids', [s.batch, s.seqLen], 'int64')
  const P = new Map<string, Value>()
  for (const p of paramSpecs(cfg)) {
    const w = weights.get(p.name)
    if (!w) throw new Error(`exportOnnxModel: missing weight ${p.name}`)
    P.set(p.name, g.constant(w, p.shape))
  }
  P.forEach((v, k) => (v.name = k)) // initializers carry the reference parameter names
  const f = buildForward(g, cfg, lookup(P), ids, { batch: s.batch, seqLen: s.seqLen, withGates: true })
  const logits = g.gemm(f.hn, P.get('output.weight')!, { transB: true }) // (N, V)
  g.output(g.reshape(logits, [s.batch, s.seqLen, V]), 'logits')
  if (gated && f.gates) g.output(g.reshape(f.gates, [L, s.batch, s.seqLen]), 'gates')
  return g
}
