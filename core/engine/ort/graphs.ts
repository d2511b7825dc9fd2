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
import { toBf16 } from '../../checkpoint/safetensors.js'
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

/**
 * Placeholder sizes for the export graph's dynamic batch and sequence axes: primes that no dimension of this model
 * takes (nor their product), so the serializer can tell them apart (Graph.dynamicDims).
 */
function exportPlaceholders(cfg: ModelConfig): { B: number; T: number } {
  const d = dims(cfg)
  const real = new Set<number>([d.D, d.V, d.F, d.H, d.Hkv, d.hd, d.H * d.hd, d.Hkv * d.hd, d.L, d.nMasks, d.nRep, cfg.max_seq_len, 1])
  const free = [1009, 1013, 1019, 1021, 1031, 1033, 1039, 1049, 1051, 1061].filter((p) => !real.has(p))
  const B = free[0]!
  const T = free.find((p) => p !== B && !real.has(B * p))!
  return { B, T }
}

/**
 * Forward graph with the weights as initializers (named as the reference, without the `model.` prefix):
 * input_ids (batch, sequence) int64 → logits (batch, sequence, V) [+ gates (L, batch, sequence) for gated models].
 * Batch and sequence are dynamic axes (sequence ≤ max_seq_len: position tables and the causal mask are stored for
 * max_seq_len positions and sliced at run time).
 */
export function buildExportGraph(cfg: ModelConfig, weights: Map<string, Float32Array>, o: { dtype?: 'f32' | 'bf16' } = {}): Graph {
  const g = new Graph('float32')
  const { V, L, gated } = dims(cfg)
  const { B, T } = exportPlaceholders(cfg)
  g.dynamicDims.set(B, 'batch')
  g.dynamicDims.set(T, 'sequence')
  const ids = g.input('input_ids', [B, T], 'int64')
  const shape = g.op1('Shape', [ids], [2], 'int64')
  const dim = (i: number) => g.op1('Slice', [shape, g.ints([i]), g.ints([i + 1]), g.ints([0])], [1], 'int64')
  const Bv = dim(0)
  const Tv = dim(1)
  g.dynamicSizes.set(B, Bv)
  g.dynamicSizes.set(T, Tv)
  g.dynamicSizes.set(B * T, g.mul(Bv, Tv))
  const P = new Map<string, Value>()
  for (const p of paramSpecs(cfg)) {
    const w = weights.get(p.name)
    if (!w) throw new Error(`exportOnnxModel: missing weight ${p.name}`)
    // bf16: stored as bfloat16 initializers (half the size) and cast to float32, where the computation happens
    const c = o.dtype === 'bf16' ? g.constant(toBf16(w), p.shape, 'bfloat16') : g.constant(w, p.shape)
    c.name = p.name // initializers carry the reference parameter names
    P.set(p.name, o.dtype === 'bf16' ? g.cast(c, 'float32') : c)
  }
  const f = buildForward(g, cfg, lookup(P), ids, { batch: B, seqLen: T, withGates: gated, dynamicSeq: true })
  const logits = g.gemm(f.hn, P.get('output.weight')!, { transB: true }) // (N, V)
  g.output(g.reshape(logits, [B, T, V]), 'logits')
  if (gated && f.gates) g.output(g.reshape(f.gates, [L, B, T]), 'gates')
  return g
}
