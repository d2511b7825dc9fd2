/**
 * A small built-in synthetic token set, usable without any corpus: a seeded first-order Markov chain over `vocabSize`
 * tokens in which every token has `successors` possible next tokens with random probabilities. Its entropy rate
 * (the best achievable loss, ≤ ln successors) is far below its unigram entropy (≈ ln vocabSize), and both are known
 * exactly from the chain, so "the model learned something" is a sharp test: validation CE well below the unigram
 * entropy.
 *
 * Also: an in-memory loader with the reference order of spec B.4 (contiguous windows, stride B·T, tail dropped,
 * wrap-around) and the evaluation windows of spec H.8 (every full window of T+1 tokens, stride T), mirroring
 * core/data/loader.ts for arrays.
 */
import type { Batch } from '../engine/engine.js'
import { Rng } from '../util/rng.js'

export interface SyntheticOptions {
  vocabSize: number
  seed: number
  trainTokens: number
  valTokens: number
  /** possible next tokens per token (default 4) */
  successors?: number
}

export interface SyntheticData {
  train: Uint16Array
  val: Uint16Array
  vocabSize: number
  /** H(π) of the chain's stationary distribution, nats */
  unigramEntropy: number
  /** Σ_a π_a H(P(·|a)), nats: the best achievable cross-entropy */
  entropyRate: number
  /** transition table: next[a·k + j] with probability prob[a·k + j] */
  next: Uint16Array
  prob: Float64Array
}

const entropy = (p: ArrayLike<number>) => {
  let h = 0
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) h -= p[i]! * Math.log(p[i]!)
  return h
}

/** Empirical unigram entropy (nats) of a token sequence. */
export function unigramEntropy(tokens: ArrayLike<number>): number {
  const counts = new Map<number, number>()
  for (let i = 0; i < tokens.length; i++) counts.set(tokens[i]!, (counts.get(tokens[i]!) ?? 0) + 1)
  return entropy([...counts.values()].map((c) => c / tokens.length))
}

export function makeSynthetic(o: SyntheticOptions): SyntheticData {
  const V = o.vocabSize
  const k = Math.min(o.successors ?? 4, V)
  if (!Number.isInteger(V) || V < 2 || V > 65536) throw new Error(`synthetic vocab_size must be an integer in 2..65536, got ${V}`)
  const rng = new Rng(o.seed)
  const next = new Uint16Array(V * k)
  const prob = new Float64Array(V * k)
  for (let a = 0; a < V; a++) {
    const chosen = new Set<number>()
    // a ring edge a → a+1 keeps the chain irreducible whatever the random draws
    chosen.add((a + 1) % V)
    while (chosen.size < k) chosen.add(Math.floor(rng.uniform() * V))
    const succ = [...chosen]
    const w = succ.map(() => 0.2 + rng.uniform())
    const s = w.reduce((x, y) => x + y, 0)
    succ.forEach((b, j) => {
      next[a * k + j] = b
      prob[a * k + j] = w[j]! / s
    })
  }
  // stationary distribution by power iteration (lazy chain to avoid periodicity)
  let pi = new Float64Array(V).fill(1 / V)
  for (let it = 0; it < 10_000; it++) {
    const nx = new Float64Array(V)
    for (let a = 0; a < V; a++) {
      nx[a]! += 0.5 * pi[a]!
      for (let j = 0; j < k; j++) nx[next[a * k + j]!]! += 0.5 * pi[a]! * prob[a * k + j]!
    }
    let d = 0
    for (let a = 0; a < V; a++) d += Math.abs(nx[a]! - pi[a]!)
    pi = nx
    if (d < 1e-15) break
  }
  let rate = 0
  for (let a = 0; a < V; a++) rate += pi[a]! * entropy(prob.subarray(a * k, a * k + k))

  const sample = (n: number, start: number) => {
    const out = new Uint16Array(n)
    let a = start
    for (let i = 0; i < n; i++) {
      out[i] = a
      let u = rng.uniform()
      let j = 0
      while (j < k - 1 && u >= prob[a * k + j]!) u -= prob[a * k + j++]!
      a = next[a * k + j]!
    }
    return out
  }
  const train = sample(o.trainTokens, 0)
  const val = sample(o.valTokens, Math.floor(rng.uniform() * V))
  return { train, val, vocabSize: V, unigramEntropy: entropy(pi), entropyRate: rate, next, prob }
}

export interface ArrayLoaderState {
  pos: number
  epochs: number
  tokensSeen: number
}

/** spec B.4 order over one in-memory token array (world size 1). */
export class ArrayTokenLoader {
  private pos = 0
  private epochs = 0
  private seen = 0
  private readonly window: number
  constructor(
    private readonly tokens: Uint16Array,
    readonly batchSize: number,
    readonly seqLen: number,
  ) {
    this.window = batchSize * seqLen
    if (tokens.length < this.window + 1)
      throw new Error(`the training data has ${tokens.length} tokens, but one batch needs B·T + 1 = ${batchSize}·${seqLen} + 1 = ${this.window + 1}`)
  }
  next(): Batch {
    const W = this.window
    const inputs = new Int32Array(W)
    const targets = new Int32Array(W)
    for (let i = 0; i < W; i++) {
      inputs[i] = this.tokens[this.pos + i]!
      targets[i] = this.tokens[this.pos + i + 1]!
    }
    this.seen += W
    this.pos += W
    if (this.pos + W + 1 > this.tokens.length) {
      this.pos = 0
      this.epochs++
    }
    return { inputs, targets, batchSize: this.batchSize, seqLen: this.seqLen }
  }
  state(): ArrayLoaderState {
    return { pos: this.pos, epochs: this.epochs, tokensSeen: this.seen }
  }
  restore(s: ArrayLoaderState): void {
    if (!Number.isInteger(s.pos) || s.pos < 0 || s.pos + this.window + 1 > this.tokens.length)
      throw new Error(`cannot restore the synthetic loader at position ${s.pos} (${this.tokens.length} tokens, window ${this.window})`)
    this.pos = s.pos
    this.epochs = s.epochs
    this.seen = s.tokensSeen
  }
}

/** How many windows arrayEvalWindows yields (without making them); throws as it does when no window fits. */
export function arrayEvalWindowCount(tokens: Uint16Array, T: number, maxTokens?: number): number {
  const all = Math.floor((tokens.length - 1) / T)
  if (all < 1) throw new Error(`the validation data has ${tokens.length} tokens, shorter than one window of T + 1 = ${T + 1}`)
  return maxTokens === undefined ? all : Math.min(all, Math.max(1, Math.floor(maxTokens / T)))
}

/** Every full window of T+1 tokens in order, stride T, at most ⌊maxTokens/T⌋ (≥ 1) windows; last batch partial. */
export function* arrayEvalWindows(tokens: Uint16Array, T: number, batchSize: number, maxTokens?: number): Generator<Batch> {
  const windows = arrayEvalWindowCount(tokens, T, maxTokens)
  for (let w0 = 0; w0 < windows; w0 += batchSize) {
    const rows = Math.min(batchSize, windows - w0)
    const inputs = new Int32Array(rows * T)
    const targets = new Int32Array(rows * T)
    for (let r = 0; r < rows; r++)
      for (let t = 0; t < T; t++) {
        inputs[r * T + t] = tokens[(w0 + r) * T + t]!
        targets[r * T + t] = tokens[(w0 + r) * T + t + 1]!
      }
    yield { inputs, targets, batchSize: rows, seqLen: T }
  }
}
