/**
 * The onnxruntime engine: implements Engine (core/engine/engine.ts) with graphs built by graphs.ts.
 *
 * State lives in onnxruntime tensors that wrap host Float32Arrays (inputs are passed to onnxruntime without a
 * copy); each training step's outputs (new parameters and moments) become the next step's inputs directly.
 * Sessions are cached per graph kind and shape. A train step of n micro-batches runs n−1 gradient graphs
 * (the 2nd.. add the accumulator input) and one graph that adds its gradients and applies AdamW.
 */
import { dims, type ModelConfig } from '../../model/config.js'
import { paramSpecs, numel, type Weights } from '../../model/params.js'
import type {
  Batch,
  ControllerLoss,
  Engine,
  EngineInfo,
  EngineInit,
  EvalOptions,
  EvalStepDetail,
  GateMoments,
  OptimizerConfig,
  OptimizerState,
  TrainStepResult,
} from '../engine.js'
import { formatAdapter, type AdapterInfo } from './adapter.js'
import { adamScalarValues, ADAM_SCALARS } from './adamw.js'
import { averageMoments, controllerFeeds, controllerLossAtOnes, unpackMoments } from './gate-stats.js'
import { buildEvalGraph, buildTrainGraph, graphParams, type EvalSpec, type TrainSpec } from './graphs.js'
import { Graph } from './ir.js'
import { serializeGraph } from './onnx-writer.js'
import { profilePlacement, type GraphPlacement } from './placement.js'
import { createSession, defaultThreads, ort, ortVersion, resolveProvider, type OrtProvider, type SessionSettings } from './session.js'

export interface OrtEngineOptions {
  provider?: OrtProvider
  /** intra-op threads (default: available parallelism); training reruns bit for bit, and 1 and 2 threads agree (determinism.test.ts) */
  threads?: number
  /** let onnxruntime's idle threads spin (default true; false is kinder to a shared machine) */
  allowSpinning?: boolean
  /** onnxruntime's CPU memory arena (default true) */
  cpuArena?: boolean
  /** max logits elements per cross-entropy chunk (default 16 M) */
  ceChunkElements?: number
  /** omit the gate path for dense baselines whose masks are all zero (default true; identical results) */
  denseFastPath?: boolean
  /** onnxruntime profiling of every session (benchmarks): <prefix>_<time>.json per session, written at dispose */
  profilePrefix?: string
}

type Tensors = Map<string, ort.Tensor>

/** Host↔device traffic of the last train or eval step (GPU providers; bytes of host-located feeds and fetches). */
export interface TransferBytes {
  hostToDevice: number
  deviceToHost: number
}

const onDevice = (t: ort.Tensor) => t.location === 'gpu-buffer'
const hostBytes = (ts: Iterable<ort.Tensor>) => {
  let n = 0
  for (const t of ts) if (!onDevice(t)) n += (t.data as ArrayBufferView).byteLength
  return n
}
/** Train-graph outputs that stay on the device between steps (parameters, moments, accumulated gradients). */
const DEVICE_OUTPUT = /^(new_p|new_m|new_v|grad)\./

const f32 = (x: number) => new ort.Tensor('float32', Float32Array.of(x), [])

export class OrtEngine implements Engine {
  readonly info: EngineInfo
  private cfg: ModelConfig | null = null
  private opt: OptimizerConfig | null = null
  private p: Tensors = new Map()
  private m: Tensors = new Map()
  private v: Tensors = new Map()
  private step = 0
  private withGates = true
  private sessions = new Map<string, Promise<ort.InferenceSession>>()
  private transfer: TransferBytes | null = null

  constructor(
    private readonly settings: SessionSettings,
    private readonly opts: OrtEngineOptions,
    notes: string[],
    /** the WebGPU adapter (provider webgpu) */
    readonly adapter?: AdapterInfo,
  ) {
    this.info = {
      engine: 'ort',
      backend: `ort-${settings.provider}`,
      dtype: 'float32',
      versions: {
        'onnxruntime-node': ortVersion(),
        threads: String(settings.threads),
        ...(adapter ? { adapter: formatAdapter(adapter), 'adapter.type': adapter.type, 'adapter.evidence': adapter.evidence } : {}),
        ...(notes.length ? { notes: notes.join('; ') } : {}),
      },
    }
  }

  // ------------------------------------------------------------------ state

  async init(o: EngineInit): Promise<void> {
    OrtEngine.release(this.p, this.m, this.v)
    this.p = new Map()
    this.m = new Map()
    this.v = new Map()
    await this.releaseSessions()
    this.cfg = o.config
    this.opt = { ...o.optimizer }
    this.setWeightsSync(o.weights)
    if (o.optimizerState) this.setOptimizerStateSync(o.optimizerState)
    else {
      OrtEngine.release(this.m, this.v)
      this.step = 0
      this.m = this.zerosState()
      this.v = this.zerosState()
    }
    this.refreshGatePath()
  }

  private config(): ModelConfig {
    if (!this.cfg) throw new Error('ort engine: init() first')
    return this.cfg
  }

  private zerosState(): Tensors {
    return new Map(paramSpecs(this.config()).map((s) => [s.name, new ort.Tensor('float32', new Float32Array(numel(s.shape)), s.shape)]))
  }

  private toTensors(w: Weights, what: string): Tensors {
    const out: Tensors = new Map()
    for (const s of paramSpecs(this.config())) {
      const a = w.get(s.name)
      if (!a) throw new Error(`ort engine: ${what} lacks ${s.name}`)
      if (a.length !== numel(s.shape)) throw new Error(`ort engine: ${what} ${s.name} has ${a.length} values, expected [${s.shape}] = ${numel(s.shape)}`)
      out.set(s.name, new ort.Tensor('float32', Float32Array.from(a), s.shape))
    }
    return out
  }

  /**
   * Host copies of state tensors. Tensors in GPU buffers come back through an identity session whose outputs are
   * host-located: onnxruntime-node 1.30's own `Tensor.getData()` download of a WebGPU buffer aborts the process
   * ("terminate called after throwing an instance of 'char const*'").
   */
  private async fromTensors(t: Tensors): Promise<Weights> {
    const dev = [...t].filter(([, x]) => onDevice(x))
    const downloaded = new Map<string, Float32Array>()
    if (dev.length) {
      const session = await this.session({ kind: 'download', shapes: dev.map(([k, x]) => [k, x.dims]) }, () => {
        const g = new Graph('float32')
        for (const [k, x] of dev) g.output(g.input('x.' + k, x.dims), 'y.' + k)
        return g
      })
      const out = await session.run(Object.fromEntries(dev.map(([k, x]) => ['x.' + k, x])))
      for (const [k] of dev) downloaded.set(k, out['y.' + k]!.data as Float32Array)
    }
    return new Map([...t].map(([k, x]) => [k, downloaded.get(k) ?? Float32Array.from(x.data as Float32Array)]))
  }

  /** Release device buffers of tensors that are no longer state. */
  private static release(...maps: Tensors[]) {
    for (const m of maps) for (const t of m.values()) if (onDevice(t)) t.dispose()
  }

  private setWeightsSync(w: Weights) {
    const p = this.toTensors(w, 'weights')
    OrtEngine.release(this.p)
    this.p = p
  }

  private setOptimizerStateSync(s: OptimizerState) {
    const m = this.toTensors(s.m, 'optimizer state m')
    const v = this.toTensors(s.v, 'optimizer state v')
    OrtEngine.release(this.m, this.v)
    this.step = s.step
    this.m = m
    this.v = v
  }

  /**
   * Dense fast path: a dense baseline whose mask parameters (and their Adam moments) are all exactly zero has
   * g ≡ 1 and zero mask gradients forever, so graphs may omit the gate path (identical results, less work).
   */
  private refreshGatePath() {
    const cfg = this.config()
    if (!cfg.zero_init_masks || this.opts.denseFastPath === false) {
      this.withGates = true
      return
    }
    // mask state on the device was produced by a gate-path graph: not known to be zero
    const zero = (t: ort.Tensor | undefined) => !t || (!onDevice(t) && (t.data as Float32Array).every((x) => x === 0))
    const masks = paramSpecs(cfg).filter((s) => s.group === 'masks')
    this.withGates = !masks.every((s) => zero(this.p.get(s.name)) && zero(this.m.get(s.name)) && zero(this.v.get(s.name)))
  }

  async getWeights(): Promise<Weights> {
    return await this.fromTensors(this.p)
  }
  async setWeights(w: Weights): Promise<void> {
    this.setWeightsSync(w)
    this.refreshGatePath()
  }
  async getOptimizerState(): Promise<OptimizerState> {
    return { step: this.step, m: await this.fromTensors(this.m), v: await this.fromTensors(this.v) }
  }
  async setOptimizerState(s: OptimizerState): Promise<void> {
    this.setOptimizerStateSync(s)
    this.refreshGatePath()
  }

  /**
   * Read-only view of the live model for engine-internal evaluators (hard-skip.ts): its config, parameters, whether
   * graphs compute the gate path, and the engine's session cache (sessions are released with the engine).
   */
  get internals() {
    return {
      config: this.config(),
      params: this.p as ReadonlyMap<string, ort.Tensor>,
      withGates: this.withGates,
      session: (key: object, build: () => Graph) => this.session(key, build),
    }
  }

  // ------------------------------------------------------------------ sessions

  /** A cached session; with `deviceState`, parameter/moment/gradient outputs stay on the device (WebGPU). */
  private session(key: object, build: () => Graph, deviceState = false): Promise<ort.InferenceSession> {
    const k = JSON.stringify({ ...key, deviceState })
    let s = this.sessions.get(k)
    if (!s) {
      const g = build()
      const deviceOutputs = deviceState ? g.outputs.map((v) => v.name!).filter((n) => DEVICE_OUTPUT.test(n)) : []
      s = createSession(serializeGraph(g), this.settings, deviceOutputs)
      this.sessions.set(k, s)
      s.catch(() => this.sessions.delete(k))
    }
    return s
  }

  private async releaseSessions() {
    const all = [...this.sessions.values()]
    this.sessions.clear()
    for (const s of all) {
      const session = await s.catch(() => null)
      if (session && this.settings.profilePrefix) session.endProfiling()
      await session?.release()
    }
  }

  private checkBatch(b: Batch) {
    const cfg = this.config()
    const n = b.batchSize * b.seqLen
    if (b.inputs.length !== n || b.targets.length !== n)
      throw new Error(`batch arrays must hold batchSize·seqLen = ${n} ids (got ${b.inputs.length} inputs, ${b.targets.length} targets)`)
    const V = cfg.vocab_size
    for (const arr of [b.inputs, b.targets])
      for (let i = 0; i < n; i++) {
        const t = arr[i]!
        if (t < 0 || t >= V) throw new Error(`token id ${t} at position ${i} is outside the vocabulary [0, ${V})`)
      }
  }

  private feedsFor(session: { readonly inputNames: readonly string[] }, sources: Record<string, ort.Tensor>, maps: Record<string, Tensors>): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {}
    for (const name of session.inputNames) {
      let t: ort.Tensor | undefined = sources[name]
      if (!t) {
        const dot = name.indexOf('.')
        t = maps[name.slice(0, dot)]?.get(name.slice(dot + 1))
      }
      if (!t) throw new Error(`ort engine: no value for graph input ${name}`)
      feeds[name] = t
    }
    return feeds
  }

  // ------------------------------------------------------------------ training

  async trainStep(microBatches: Batch[], lr: number, controller: ControllerLoss): Promise<TrainStepResult> {
    const cfg = this.config()
    const opt = this.opt!
    const n = microBatches.length
    if (n === 0) throw new Error('trainStep needs at least one micro-batch')
    const { batchSize: B, seqLen: T } = microBatches[0]!
    for (const b of microBatches) {
      if (b.batchSize !== B || b.seqLen !== T) throw new Error('all micro-batches of a step must share batchSize and seqLen')
      this.checkBatch(b)
    }
    const { L } = dims(cfg)
    const withGates = this.withGates
    const graphCtrl = withGates ? controller.kind : 'none'
    const t = this.step + 1
    const scalars = adamScalarValues(opt, t, lr)
    const common: Record<string, ort.Tensor> = {}
    for (const [k, x] of Object.entries(controllerFeeds(controller, L))) if (graphCtrl !== 'none') common[k] = new ort.Tensor('float32', x, [x.length])
    for (const k of ADAM_SCALARS) common[k] = f32(scalars[k])

    let acc: Tensors | null = null
    let h2d = 0
    let d2h = 0
    let ceTotal = 0
    let ctrlTotal = 0
    const moments: ReturnType<typeof unpackMoments>[] = []
    for (let i = 0; i < n; i++) {
      const mb = microBatches[i]!
      const last = i === n - 1
      const spec: TrainSpec = {
        batch: B,
        seqLen: T,
        withGates,
        controller: graphCtrl,
        microBatches: n,
        accumulate: i > 0,
        update: last,
        decay: opt.weight_decay !== 0,
        ceChunkElements: this.opts.ceChunkElements,
      }
      const session = await this.session({ kind: 'train', cfg, ...spec }, () => buildTrainGraph(cfg, spec), true)
      const feeds = this.feedsFor(
        session,
        { ...common, tokens: new ort.Tensor('int32', mb.inputs, [B, T]), targets: new ort.Tensor('int32', mb.targets, [B, T]) },
        { p: this.p, m: this.m, v: this.v, acc: acc ?? new Map() },
      )
      const out = await session.run(feeds)
      h2d += hostBytes(Object.values(feeds))
      d2h += hostBytes(Object.values(out) as ort.Tensor[])
      ceTotal += (out.ce_sum!.data as Float32Array)[0]! / (B * T)
      ctrlTotal += graphCtrl !== 'none' ? (out.ctrl_loss!.data as Float32Array)[0]! : controllerLossAtOnes(controller, L)
      if (out.moments) moments.push(unpackMoments(out.moments.data as Float32Array, L, dims(cfg).nMasks))
      const consumed = acc ?? new Map()
      if (!last) {
        acc = new Map()
        for (const s of graphParams(cfg, withGates)) acc.set(s.name, out['grad.' + s.name]!)
      } else {
        const old: Tensors[] = [new Map(), new Map(), new Map()]
        for (const s of graphParams(cfg, withGates)) {
          ;[this.p, this.m, this.v].forEach((state, j) => old[j]!.set(s.name, state.get(s.name)!))
          this.p.set(s.name, out['new_p.' + s.name]!)
          this.m.set(s.name, out['new_m.' + s.name]!)
          this.v.set(s.name, out['new_v.' + s.name]!)
        }
        OrtEngine.release(...old)
      }
      OrtEngine.release(consumed)
    }
    this.transfer = this.settings.provider === 'cpu' ? null : { hostToDevice: h2d, deviceToHost: d2h }
    this.step = t
    const ce = ceTotal / n
    const controllerLoss = ctrlTotal / n
    return {
      loss: ce + controllerLoss,
      ce,
      controllerLoss,
      gates: cfg.zero_init_masks || moments.length === 0 ? null : averageMoments(moments),
    }
  }

  /**
   * Gradients of one batch's loss (mean CE + controller loss) w.r.t. every parameter, without updating
   * anything (not part of Engine; used by golden tests and diagnostics). Mask gradients on the dense fast path
   * are exactly zero.
   */
  async gradients(batch: Batch, controller: ControllerLoss = { kind: 'none' }): Promise<Weights> {
    const cfg = this.config()
    this.checkBatch(batch)
    const { L } = dims(cfg)
    const B = batch.batchSize
    const T = batch.seqLen
    const withGates = this.withGates
    const graphCtrl = withGates ? controller.kind : 'none'
    const spec: TrainSpec = {
      batch: B,
      seqLen: T,
      withGates,
      controller: graphCtrl,
      microBatches: 1,
      accumulate: false,
      update: false,
      decay: false,
      ceChunkElements: this.opts.ceChunkElements,
    }
    const session = await this.session({ kind: 'train', cfg, ...spec }, () => buildTrainGraph(cfg, spec))
    const src: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int32', batch.inputs, [B, T]), targets: new ort.Tensor('int32', batch.targets, [B, T]) }
    if (graphCtrl !== 'none') for (const [k, x] of Object.entries(controllerFeeds(controller, L))) src[k] = new ort.Tensor('float32', x, [x.length])
    const out = await session.run(this.feedsFor(session, src, { p: this.p }))
    return new Map(paramSpecs(cfg).map((s) => [s.name, out['grad.' + s.name] ? (out['grad.' + s.name]!.data as Float32Array) : new Float32Array(numel(s.shape))]))
  }

  // ------------------------------------------------------------------ evaluation

  async evalStep(batch: Batch, o: EvalOptions = {}): Promise<EvalStepDetail> {
    const cfg = this.config()
    this.checkBatch(batch)
    const { L, nMasks } = dims(cfg)
    const B = batch.batchSize
    const T = batch.seqLen
    const withGates = this.withGates
    const spec: EvalSpec = { batch: B, seqLen: T, withGates, logits: !!o.returnLogits, rawGates: !!o.returnGates && withGates, ceChunkElements: this.opts.ceChunkElements }
    const session = await this.session({ kind: 'eval', cfg, ...spec }, () => buildEvalGraph(cfg, spec))
    const feeds = this.feedsFor(session, { tokens: new ort.Tensor('int32', batch.inputs, [B, T]), targets: new ort.Tensor('int32', batch.targets, [B, T]) }, { p: this.p })
    const out = await session.run(feeds)
    if (this.settings.provider !== 'cpu') this.transfer = { hostToDevice: hostBytes(Object.values(feeds)), deviceToHost: hostBytes(Object.values(out) as ort.Tensor[]) }
    const r: EvalStepDetail = {
      ceSum: (out.ce_sum!.data as Float32Array)[0]!,
      tokens: B * T,
      gates: !cfg.zero_init_masks && out.moments ? ({ ...unpackMoments(out.moments.data as Float32Array, L, nMasks), count: 1 } satisfies GateMoments) : null,
    }
    if (o.returnLogits) r.logits = out.logits!.data as Float32Array
    if (o.returnGates) {
      r.rawGates = withGates ? (out.gates!.data as Float32Array) : new Float32Array(L * B * T).fill(1)
      r.rawMasks = withGates && out.masks ? (out.masks.data as Float32Array) : new Float32Array(nMasks * B * T)
    }
    return r
  }

  /**
   * Where onnxruntime runs each node of this model's training-step graph (forward, backward and AdamW, one
   * micro-batch) and evaluation graph, from one profiled run of each on `batch` (state is not changed).
   */
  async placement(batch: Batch, controller: ControllerLoss = { kind: 'none' }): Promise<GraphPlacement[]> {
    const cfg = this.config()
    this.checkBatch(batch)
    const { L } = dims(cfg)
    const { batchSize: B, seqLen: T } = batch
    const withGates = this.withGates
    const graphCtrl = withGates ? controller.kind : 'none'
    const src: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int32', batch.inputs, [B, T]), targets: new ort.Tensor('int32', batch.targets, [B, T]) }
    const scalars = adamScalarValues(this.opt!, this.step + 1, 0)
    for (const k of ADAM_SCALARS) src[k] = f32(scalars[k])
    if (graphCtrl !== 'none') for (const [k, x] of Object.entries(controllerFeeds(controller, L))) src[k] = new ort.Tensor('float32', x, [x.length])
    const train: TrainSpec = { batch: B, seqLen: T, withGates, controller: graphCtrl, microBatches: 1, accumulate: false, update: true, decay: this.opt!.weight_decay !== 0, ceChunkElements: this.opts.ceChunkElements }
    const evalSpec: EvalSpec = { batch: B, seqLen: T, withGates, logits: false, rawGates: false, ceChunkElements: this.opts.ceChunkElements }
    const out: GraphPlacement[] = []
    for (const [name, g] of [['train step', buildTrainGraph(cfg, train)], ['eval', buildEvalGraph(cfg, evalSpec)]] as const) {
      const model = serializeGraph(g)
      const names = new Set(g.inputs.map((v) => v.name!))
      const feeds = Object.fromEntries(Object.entries(this.feedsFor({ inputNames: [...names] }, src, { p: this.p, m: this.m, v: this.v })))
      const deviceOutputs = g.outputs.map((v) => v.name!).filter((n) => DEVICE_OUTPUT.test(n))
      out.push(await profilePlacement(name, model, this.settings, feeds, deviceOutputs))
    }
    return out
  }

  /**
   * Host↔device bytes moved by the last trainStep or evalStep (GPU providers; null on the CPU provider, where
   * nothing crosses a bus). With WebGPU, parameters, moments and accumulated gradients stay in GPU buffers, so
   * after the first step only tokens, targets, the optimizer's scalars, controller coefficients (L numbers) and
   * the loss and gate statistics move: independent of the parameter count.
   */
  get lastTransfer(): TransferBytes | null {
    return this.transfer
  }

  async dispose(): Promise<void> {
    OrtEngine.release(this.p, this.m, this.v)
    await this.releaseSessions()
    this.p = new Map()
    this.m = new Map()
    this.v = new Map()
    this.cfg = null
  }
}

export async function createOrtEngine(opts: OrtEngineOptions = {}): Promise<OrtEngine> {
  const { provider, notes, adapter } = await resolveProvider(opts.provider ?? 'auto')
  const settings: SessionSettings = {
    provider,
    threads: opts.threads ?? defaultThreads(),
    allowSpinning: opts.allowSpinning ?? true,
    cpuArena: opts.cpuArena ?? true,
    ...(opts.profilePrefix ? { profilePrefix: opts.profilePrefix } : {}),
  }
  return new OrtEngine(settings, opts, notes, adapter)
}
