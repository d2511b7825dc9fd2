/**
 * The engine's parameter store: one tf.Variable per reference parameter, in an internal layout chosen for the WASM
 * fast path. Every 2-D Linear weight (reference (out, in)) is held TRANSPOSED as (in, out), so a linear layer is a
 * plain untransposed x·W matmul (engine.md: transposed/batched matmuls fall off XNNPACK's fast path). The embedding
 * (V, D) is a row table and keeps its layout. Conversion happens only at the Weights boundary.
 */
import * as tf from '@tensorflow/tfjs-core'
import { dims, type ModelConfig } from '../../model/config.js'
import { numel, paramSpecs, type ParamGroup, type ParamSpec, type Weights } from '../../model/params.js'

/** true when the parameter is stored transposed (in, out) internally. */
function isTransposed(spec: ParamSpec): boolean {
  return spec.shape.length === 2 && spec.name !== 'tok_embeddings.weight'
}

export function internalShape(spec: ParamSpec): number[] {
  return isTransposed(spec) ? [spec.shape[1]!, spec.shape[0]!] : [...spec.shape]
}

/** (rows, cols) row-major → (cols, rows) row-major, on plain arrays (the Weights boundary). */
function transposeArray(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!
  return out
}

/** Reference-layout data → internal-layout data. */
export function toInternal(spec: ParamSpec, a: Float32Array): Float32Array {
  return isTransposed(spec) ? transposeArray(a, spec.shape[0]!, spec.shape[1]!) : a
}

/** Internal-layout data → reference-layout data. */
export function toReference(spec: ParamSpec, a: Float32Array): Float32Array {
  return isTransposed(spec) ? transposeArray(a, spec.shape[1]!, spec.shape[0]!) : a
}

export interface LayerParams {
  wq: tf.Variable // (D, H·hd)
  wk: tf.Variable // (D, Hkv·hd)
  wv: tf.Variable // (D, Hkv·hd)
  wo: tf.Variable // (H·hd, D)
  w1: tf.Variable // (D, F)
  w2: tf.Variable // (F, D)
  w3: tf.Variable // (D, F)
  preAttnNorm: tf.Variable // (D)
  postAttnNorm: tf.Variable
  preFfnNorm: tf.Variable
  postFfnNorm: tf.Variable
}

export interface MaskParams {
  w: tf.Variable // (D, 1)
  b: tf.Variable // (1)
}

/** The model's variables, structured for the forward pass. */
export interface ModelParams {
  tokEmb: tf.Variable // (V, D)
  layers: LayerParams[]
  masks: MaskParams[]
  inputNorm: tf.Variable // (D)
  outputNorm: tf.Variable // (D)
  output: tf.Variable // (D, V)
}

export interface ParamEntry {
  spec: ParamSpec
  variable: tf.Variable
}

let instances = 0

/**
 * Variables for every parameter of `cfg`, created from `weights` (reference layout). Names are prefixed per store
 * because tfjs registers variables globally by name.
 */
export class ParamStore {
  readonly entries: ParamEntry[]
  readonly byName: Map<string, ParamEntry>
  readonly model: ModelParams
  readonly groups: Record<ParamGroup, string[]>
  private readonly prefix: string

  constructor(
    readonly config: ModelConfig,
    weights: Weights,
  ) {
    this.prefix = `skipbench${instances++}/`
    const specs = paramSpecs(config)
    checkWeights(specs, weights)
    this.entries = specs.map((spec) => ({
      spec,
      variable: tf.variable(tf.tensor(toInternal(spec, weights.get(spec.name)!), internalShape(spec), 'float32'), true, this.prefix + spec.name),
    }))
    this.byName = new Map(this.entries.map((e) => [e.spec.name, e]))
    this.groups = { default: [], norms: [], masks: [] }
    for (const { spec } of this.entries) this.groups[spec.group].push(spec.name)
    this.model = this.structure()
  }

  get variables(): tf.Variable[] {
    return this.entries.map((e) => e.variable)
  }

  /** Name of the reference parameter a variable (by its registered name) belongs to. */
  referenceName(variableName: string): string {
    return variableName.slice(this.prefix.length)
  }

  private v(name: string): tf.Variable {
    const e = this.byName.get(name)
    if (!e) throw new Error(`internal: no parameter ${name}`)
    return e.variable
  }

  private structure(): ModelParams {
    const { L, nMasks } = dims(this.config)
    const layers: LayerParams[] = []
    for (let l = 0; l < L; l++) {
      const p = `layers.${l}.`
      layers.push({
        wq: this.v(p + 'attention.wq.weight'),
        wk: this.v(p + 'attention.wk.weight'),
        wv: this.v(p + 'attention.wv.weight'),
        wo: this.v(p + 'attention.wo.weight'),
        w1: this.v(p + 'feed_forward.w1.weight'),
        w2: this.v(p + 'feed_forward.w2.weight'),
        w3: this.v(p + 'feed_forward.w3.weight'),
        preAttnNorm: this.v(p + 'pre_attention_norm.weight'),
        postAttnNorm: this.v(p + 'post_attention_norm.weight'),
        preFfnNorm: this.v(p + 'pre_feed_forward_norm.weight'),
        postFfnNorm: this.v(p + 'post_feed_forward_norm.weight'),
      })
    }
    const masks: MaskParams[] = []
    for (let j = 0; j < nMasks; j++) masks.push({ w: this.v(`masks.${j}.linear.weight`), b: this.v(`masks.${j}.linear.bias`) })
    return {
      tokEmb: this.v('tok_embeddings.weight'),
      layers,
      masks,
      inputNorm: this.v('input_norm.weight'),
      outputNorm: this.v('output_norm.weight'),
      output: this.v('output.weight'),
    }
  }

  /** Assign new values (reference layout). */
  assign(weights: Weights): void {
    checkWeights(
      this.entries.map((e) => e.spec),
      weights,
    )
    for (const { spec, variable } of this.entries)
      tf.tidy(() => variable.assign(tf.tensor(toInternal(spec, weights.get(spec.name)!), internalShape(spec), 'float32')))
  }

  /** Read every parameter (reference layout). */
  async read(): Promise<Weights> {
    const out: Weights = new Map()
    for (const { spec, variable } of this.entries) out.set(spec.name, toReference(spec, (await variable.data()) as Float32Array))
    return out
  }

  /** true when every mask weight and bias is exactly zero (then g ≡ 1 exactly). */
  async masksAreZero(): Promise<boolean> {
    for (const m of this.model.masks) {
      const [w, b] = await Promise.all([m.w.data(), m.b.data()])
      if (w.some((x) => x !== 0) || b.some((x) => x !== 0)) return false
    }
    return true
  }

  dispose(): void {
    for (const e of this.entries) e.variable.dispose()
  }
}

/** Every expected name present with the right length, and no unknown names; the message lists what is wrong. */
function checkWeights(specs: ParamSpec[], w: Weights): void {
  const problems: string[] = []
  const known = new Set(specs.map((s) => s.name))
  for (const s of specs) {
    const a = w.get(s.name)
    if (!a) problems.push(`missing ${s.name} [${s.shape.join(', ')}]`)
    else if (a.length !== numel(s.shape)) problems.push(`${s.name}: ${a.length} values, expected ${numel(s.shape)} = [${s.shape.join(', ')}]`)
  }
  for (const name of w.keys()) if (!known.has(name)) problems.push(`unknown parameter ${name}`)
  if (problems.length) throw new Error(`weights do not match the model config: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; … (${problems.length} problems)` : ''}`)
}
