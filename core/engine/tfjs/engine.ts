/**
 * The tfjs implementation of the Engine interface (core/engine/engine.ts): training steps with gradient
 * accumulation and AdamW, evaluation, weights and optimizer state in the reference layout.
 */
import * as tf from '@tensorflow/tfjs-core'
import { dims, modelConfigProblems, type ModelConfig } from '../../model/config.js'
import type { Weights } from '../../model/params.js'
import type {
  Batch,
  ControllerLoss,
  Engine,
  EngineInfo,
  EngineInit,
  EvalOptions,
  EvalStepDetail,
  OptimizerState,
  TrainStepResult,
} from '../engine.js'
import { AdamW } from './adamw.js'
import { releaseBackend, type BackendStatus } from './backend.js'
import { controllerLoss, MomentAccumulator, momentRows } from './gate-stats.js'
import { forward, ModelConstants } from './model.js'
import { ParamStore, toReference, type ModelParams } from './params.js'

interface State {
  config: ModelConfig
  params: ParamStore
  optimizer: AdamW
  consts: ModelConstants
  /** g ≡ 1 exactly: zero_init_masks and every mask parameter is 0 (their gradients are then exactly 0 too) */
  dense: boolean
}

/** tf.tidy for a typed object of tensors (nulls allowed); tensors inside the result are kept. */
function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T
}

export class TfjsEngine implements Engine {
  readonly info: EngineInfo
  private state: State | null = null
  private disposed = false

  constructor(readonly backend: BackendStatus) {
    this.info = { engine: 'tfjs', backend: backend.label, dtype: 'float32', versions: { ...backend.versions } }
  }

  async init(opts: EngineInit): Promise<void> {
    if (this.disposed) throw new Error('engine was disposed')
    const problems = modelConfigProblems(opts.config)
    if (problems.length) throw new Error(`invalid model config: ${problems.join('; ')}`)
    this.release()
    const params = new ParamStore(opts.config, opts.weights)
    const optimizer = new AdamW(params, opts.optimizer)
    this.state = { config: opts.config, params, optimizer, consts: new ModelConstants(opts.config), dense: false }
    if (opts.optimizerState) optimizer.setState(opts.optimizerState)
    await this.updateDense()
  }

  private get s(): State {
    if (!this.state) throw new Error(this.disposed ? 'engine was disposed' : 'engine not initialised: call init() first')
    return this.state
  }

  /**
   * Read-only view of the live model for engine-internal evaluators (hard-skip.ts): its config, parameters (internal
   * layout), per-length constants and whether g ≡ 1 exactly. Do not dispose or assign through it.
   */
  get internals(): { config: ModelConfig; model: ModelParams; consts: ModelConstants; dense: boolean } {
    const { config, params, consts, dense } = this.s
    return { config, model: params.model, consts, dense }
  }

  private async updateDense(): Promise<void> {
    const s = this.s
    const zero = await s.params.masksAreZero()
    s.dense = s.config.zero_init_masks && zero
    if (!zero && s.config.n_layers % 2 !== 0)
      throw new Error(`non-zero mask weights need an even n_layers (got ${s.config.n_layers}): the second half mirrors the first (spec A.4)`)
  }

  private checkBatch(b: Batch): void {
    const { V } = dims(this.s.config)
    const n = b.batchSize * b.seqLen
    if (!(b.batchSize > 0 && b.seqLen > 0)) throw new Error(`batch needs batchSize and seqLen ≥ 1, got ${b.batchSize}×${b.seqLen}`)
    if (b.inputs.length !== n || b.targets.length !== n)
      throw new Error(`batch ${b.batchSize}×${b.seqLen} needs ${n} inputs and targets, got ${b.inputs.length} and ${b.targets.length}`)
    for (const ids of [b.inputs, b.targets])
      for (let i = 0; i < n; i++)
        if (!(ids[i]! >= 0 && ids[i]! < V)) throw new Error(`token id ${ids[i]} at position ${i} is outside the vocabulary [0, ${V})`)
  }

  /**
   * One micro-batch: loss = CE (mean over B·T) + controller loss on its gates; returns the gradients of every
   * parameter (entries order, internal layout; zeros where unconnected) plus scalars and moment rows.
   */
  private microStep(b: Batch, controller: ControllerLoss) {
    const { config, params, consts, dense } = this.s
    const { L } = dims(config)
    const N = b.batchSize * b.seqLen
    let side: tf.Tensor[] = []
    const { value, grads } = tf.variableGrads(() => {
      const out = forward(params.model, config, consts, b.inputs, b.batchSize, b.seqLen, { targets: b.targets, withGrad: true, dense })
      const ce = tf.div(out.ceSum!, N) as tf.Scalar
      const ctrl = controllerLoss(out.gates ?? tf.ones([L, N]), controller)
      const total = ctrl ? (tf.add(ce, ctrl) as tf.Scalar) : ce
      side = [ce, ctrl ?? tf.scalar(0)]
      if (out.gates && !config.zero_init_masks) side.push(momentRows(out.gates, out.masks!, out.residNorms))
      side = side.map((t) => tf.keep(t))
      return total
    }, params.variables)
    const list = params.entries.map((e) => grads[e.variable.name] ?? tf.zerosLike(e.variable))
    return { total: value, grads: list, ce: side[0]!, ctrl: side[1]!, rows: side[2] }
  }

  async trainStep(microBatches: Batch[], lr: number, controller: ControllerLoss): Promise<TrainStepResult> {
    const s = this.s
    if (microBatches.length === 0) throw new Error('trainStep needs at least one micro-batch')
    for (const b of microBatches) this.checkBatch(b)
    const { L, nMasks } = dims(s.config)
    const moments = new MomentAccumulator(L, nMasks)
    let acc: tf.Tensor[] | null = null
    let loss = 0
    let ce = 0
    let ctrl = 0
    for (const b of microBatches) {
      const r = this.microStep(b, controller)
      loss += (await r.total.data())[0]!
      ce += (await r.ce.data())[0]!
      ctrl += (await r.ctrl.data())[0]!
      if (r.rows) moments.add((await r.rows.data()) as Float32Array)
      tf.dispose([r.total, r.ce, r.ctrl, ...(r.rows ? [r.rows] : [])])
      if (!acc) acc = r.grads
      else {
        const prev: tf.Tensor[] = acc
        acc = tf.tidy(() => prev.map((a, i) => tf.add(a, r.grads[i]!)))
        tf.dispose([...prev, ...r.grads])
      }
    }
    const k = microBatches.length
    // gradients summed over micro-batches, divided by their count (engine.ts)
    const grads: tf.Tensor[] = k === 1 ? acc! : tf.tidy(() => acc!.map((a) => tf.mul(a, 1 / k)))
    if (k > 1) tf.dispose(acc!)
    s.optimizer.apply(grads, lr)
    tf.dispose(grads)
    return { loss: loss / k, ce: ce / k, controllerLoss: ctrl / k, gates: s.config.zero_init_masks ? null : moments.result() }
  }

  async evalStep(batch: Batch, opts: EvalOptions = {}): Promise<EvalStepDetail> {
    const { config, params, consts, dense } = this.s
    this.checkBatch(batch)
    const { L, nMasks } = dims(config)
    const N = batch.batchSize * batch.seqLen
    const t = tidy(() => {
      const out = forward(params.model, config, consts, batch.inputs, batch.batchSize, batch.seqLen, {
        targets: batch.targets,
        logits: opts.returnLogits,
        dense,
      })
      return {
        ceSum: out.ceSum!,
        logits: out.logits,
        gates: opts.returnGates ? out.gates : null,
        masks: opts.returnGates ? out.masks : null,
        rows: out.gates && !config.zero_init_masks ? momentRows(out.gates, out.masks!, out.residNorms) : null,
      }
    })
    const result: EvalStepDetail = { ceSum: (await t.ceSum.data())[0]!, tokens: N, gates: null }
    if (t.rows) {
      const m = new MomentAccumulator(L, nMasks)
      m.add((await t.rows.data()) as Float32Array)
      result.gates = m.result()
    }
    if (t.logits) result.logits = (await t.logits.data()) as Float32Array
    if (opts.returnGates) {
      // dense: g ≡ 1 and S ≡ 0, as the reference computes them from zero masks
      result.rawGates = t.gates ? ((await t.gates.data()) as Float32Array) : new Float32Array(L * N).fill(1)
      result.rawMasks = t.masks ? ((await t.masks.data()) as Float32Array) : new Float32Array(nMasks * N)
    }
    for (const x of [t.ceSum, t.logits, t.gates, t.masks, t.rows]) x?.dispose()
    return result
  }

  /** d(CE + controller loss)/d(parameter) of one batch, reference layout (tests and diagnostics; no update). */
  async gradients(batch: Batch, controller: ControllerLoss = { kind: 'none' }): Promise<{ loss: number; grads: Weights }> {
    this.checkBatch(batch)
    const { params } = this.s
    const r = this.microStep(batch, controller)
    const grads: Weights = new Map()
    for (const [i, { spec }] of params.entries.entries()) grads.set(spec.name, toReference(spec, (await r.grads[i]!.data()) as Float32Array))
    const loss = (await r.total.data())[0]!
    tf.dispose([r.total, r.ce, r.ctrl, ...r.grads, ...(r.rows ? [r.rows] : [])])
    return { loss, grads }
  }

  async getWeights(): Promise<Weights> {
    return this.s.params.read()
  }

  async setWeights(w: Weights): Promise<void> {
    this.s.params.assign(w)
    await this.updateDense()
  }

  async getOptimizerState(): Promise<OptimizerState> {
    return this.s.optimizer.getState()
  }

  async setOptimizerState(st: OptimizerState): Promise<void> {
    this.s.optimizer.setState(st)
  }

  private release(): void {
    if (!this.state) return
    this.state.params.dispose()
    this.state.optimizer.dispose()
    this.state.consts.dispose()
    this.state = null
  }

  async dispose(): Promise<void> {
    if (this.disposed) return
    this.release()
    this.disposed = true
    releaseBackend()
  }
}
