/**
 * Token loaders over `.bin` shards with the reference order of spec B.4 (world size 1):
 *
 * - shards are read in the order given (the caller sorts its glob), sequentially, no shuffling;
 * - a batch is tokens[pos, pos + B·T + 1): inputs = buf[:-1] as (B, T), targets = buf[1:];
 * - pos advances by B·T; when pos + B·T + 1 > len(shard) the loader moves to the next shard (mod the number of
 *   shards) at pos 0, so shard tails are dropped;
 * - construction checks that every shard holds at least B·T + 1 tokens.
 *
 * Only the current shard is open, and each step reads B·T + 1 tokens positionally, so memory stays bounded
 * whatever the shard sizes. `state()` / `restore()` give an exact resume.
 *
 * `evalWindows` serves validation (spec H.8): every full window of T + 1 tokens in order with stride T, the same
 * windows every time, batched (the last batch may be partial).
 */
import type { Batch } from '../engine/engine.js'
import { openShard, readShardHeader, type ShardReader } from './shard.js'
import { UserError } from '../user-errors.js'

export class LoaderError extends UserError {
  override readonly name = 'LoaderError'
}

/** Where the loader stands: the next batch starts at token `pos` of shard `shard`. */
export interface LoaderState {
  shard: number
  pos: number
  /** completed passes over all shards */
  epochs?: number
  /** tokens handed out so far (B·T per batch) */
  tokensSeen?: number
}

export interface TokenLoaderOptions {
  batchSize: number
  seqLen: number
  /** when set, every batch is checked for ids ≥ vocabSize (ShardError 'out-of-vocab') */
  vocabSize?: number
  /** start from a saved state instead of the beginning */
  state?: LoaderState
}

export interface ShardEntry {
  path: string
  numTokens: number
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new LoaderError(`${name} must be a positive integer, got ${v}`)
}

/** Batches of one shard at window W: positions 0, W, 2W, … with pos + W + 1 ≤ len. */
function batchesInShard(numTokens: number, window: number): number {
  return numTokens < window + 1 ? 0 : Math.floor((numTokens - 1) / window)
}

export class TokenLoader {
  readonly shards: readonly ShardEntry[]
  readonly batchSize: number
  readonly seqLen: number
  readonly vocabSize: number | undefined
  private readonly window: number
  private shardIdx = 0
  private pos = 0
  private epochCount = 0
  private seen = 0
  private reader: ShardReader | undefined
  private readonly buf: Uint16Array

  constructor(paths: readonly string[], opts: TokenLoaderOptions) {
    checkPositiveInt('batchSize', opts.batchSize)
    checkPositiveInt('seqLen', opts.seqLen)
    if (paths.length === 0) throw new LoaderError('no shards given: the training data is empty (check the dataset or the glob)')
    this.batchSize = opts.batchSize
    this.seqLen = opts.seqLen
    this.vocabSize = opts.vocabSize
    this.window = opts.batchSize * opts.seqLen
    const need = this.window + 1
    this.shards = paths.map((p) => {
      const h = readShardHeader(p)
      if (h.numTokens < need)
        throw new LoaderError(
          `${p}: ${h.numTokens} tokens, but one batch needs B·T + 1 = ${opts.batchSize}·${opts.seqLen} + 1 = ${need}; use a smaller batch size or sequence length, or more data`,
        )
      return { path: p, numTokens: h.numTokens }
    })
    this.buf = new Uint16Array(need)
    if (opts.state) this.restore(opts.state)
  }

  /** B·T: tokens per batch */
  get tokensPerBatch(): number {
    return this.window
  }

  /** completed passes over all shards */
  get epochs(): number {
    return this.epochCount
  }

  /** tokens handed out so far */
  get tokensSeen(): number {
    return this.seen
  }

  /** batches in one pass over all shards (tails dropped) */
  get batchesPerEpoch(): number {
    return this.shards.reduce((s, sh) => s + batchesInShard(sh.numTokens, this.window), 0)
  }

  /** sum of the shard headers' token counts (what the reference divides by B·T to get train_steps) */
  get totalTokens(): number {
    return this.shards.reduce((s, sh) => s + sh.numTokens, 0)
  }

  next(): Batch {
    const shard = this.shards[this.shardIdx]!
    if (!this.reader) this.reader = openShard(shard.path, this.vocabSize === undefined ? {} : { vocabSize: this.vocabSize })
    const W = this.window
    const buf = this.reader.read(this.pos, W + 1, this.buf)
    const inputs = new Int32Array(W)
    const targets = new Int32Array(W)
    for (let i = 0; i < W; i++) {
      inputs[i] = buf[i]!
      targets[i] = buf[i + 1]!
    }
    this.seen += W
    this.pos += W
    if (this.pos + W + 1 > shard.numTokens) this.advanceShard()
    return { inputs, targets, batchSize: this.batchSize, seqLen: this.seqLen }
  }

  private advanceShard(): void {
    this.reader?.close()
    this.reader = undefined
    this.shardIdx = (this.shardIdx + 1) % this.shards.length
    if (this.shardIdx === 0) this.epochCount++
    this.pos = 0
  }

  state(): LoaderState {
    return { shard: this.shardIdx, pos: this.pos, epochs: this.epochCount, tokensSeen: this.seen }
  }

  /** Continue exactly where `s` was taken (same shards, batch size and sequence length). */
  restore(s: LoaderState): void {
    if (!Number.isInteger(s.shard) || s.shard < 0 || s.shard >= this.shards.length)
      throw new LoaderError(`cannot restore loader state: shard index ${s.shard} is outside 0..${this.shards.length - 1} (the dataset has ${this.shards.length} train shards)`)
    const sh = this.shards[s.shard]!
    if (!Number.isInteger(s.pos) || s.pos < 0 || s.pos + this.window + 1 > sh.numTokens)
      throw new LoaderError(
        `cannot restore loader state: position ${s.pos} in ${sh.path} (${sh.numTokens} tokens) leaves no room for a batch of ${this.window} + 1 tokens; was the dataset or B·T changed?`,
      )
    if (s.shard !== this.shardIdx) {
      this.reader?.close()
      this.reader = undefined
    }
    this.shardIdx = s.shard
    this.pos = s.pos
    this.epochCount = s.epochs ?? 0
    this.seen = s.tokensSeen ?? 0
  }

  close(): void {
    this.reader?.close()
    this.reader = undefined
  }
}

export interface EvalPlan {
  /** windows of T + 1 tokens evaluated (T predictions each) */
  windows: number
  /** predicted tokens = windows · T */
  tokens: number
  batches: number
}

function shardTokenCounts(shards: string | readonly string[], T: number): ShardEntry[] {
  const list = typeof shards === 'string' ? [shards] : shards
  if (list.length === 0) throw new LoaderError('no validation shards given')
  return list.map((p) => {
    const h = readShardHeader(p)
    if (h.numTokens < T + 1)
      throw new LoaderError(`${p}: ${h.numTokens} tokens, shorter than one evaluation window of T + 1 = ${T + 1} tokens; use a shorter sequence length or a larger validation split`)
    return { path: p, numTokens: h.numTokens }
  })
}

function windowBudget(T: number, maxTokens: number | undefined): number {
  if (maxTokens === undefined) return Infinity
  if (!(maxTokens > 0)) throw new LoaderError(`maxTokens must be positive, got ${maxTokens}`)
  return Math.max(1, Math.floor(maxTokens / T))
}

/** How many windows/tokens/batches `evalWindows` will produce (no token data read). */
export function planEval(shards: string | readonly string[], T: number, batchSize: number, maxTokens?: number): EvalPlan {
  checkPositiveInt('seqLen', T)
  checkPositiveInt('batchSize', batchSize)
  const entries = shardTokenCounts(shards, T)
  const windows = Math.min(
    windowBudget(T, maxTokens),
    entries.reduce((s, e) => s + Math.floor((e.numTokens - 1) / T), 0),
  )
  return { windows, tokens: windows * T, batches: Math.ceil(windows / batchSize) }
}

/**
 * Every full window of T + 1 tokens, in order, stride T (window k covers tokens [kT, kT + T]), shard after shard;
 * at most ⌊maxTokens / T⌋ windows (≥ 1) when maxTokens is given. Yields batches of `batchSize` windows; the last
 * batch may be smaller (its `batchSize` says how many rows it has). A shard shorter than one window is an error.
 */
export function* evalWindows(
  shards: string | readonly string[],
  T: number,
  batchSize: number,
  maxTokens?: number,
  opts: { vocabSize?: number } = {},
): Generator<Batch, void, undefined> {
  checkPositiveInt('seqLen', T)
  checkPositiveInt('batchSize', batchSize)
  const entries = shardTokenCounts(shards, T)
  let remaining = windowBudget(T, maxTokens)
  let inputs = new Int32Array(batchSize * T)
  let targets = new Int32Array(batchSize * T)
  let rows = 0
  const buf = new Uint16Array(batchSize * T + 1)
  for (const e of entries) {
    if (remaining <= 0) break
    const reader = openShard(e.path, opts.vocabSize === undefined ? {} : { vocabSize: opts.vocabSize })
    try {
      const inShard = Math.min(remaining, Math.floor((e.numTokens - 1) / T))
      let w = 0
      while (w < inShard) {
        // contiguous run of windows w .. w+take-1 spans take·T + 1 tokens
        const take = Math.min(batchSize - rows, inShard - w)
        const span = reader.read(w * T, take * T + 1, buf)
        for (let r = 0; r < take; r++) {
          const o = (rows + r) * T
          const s = r * T
          for (let t = 0; t < T; t++) {
            inputs[o + t] = span[s + t]!
            targets[o + t] = span[s + t + 1]!
          }
        }
        rows += take
        w += take
        if (rows === batchSize) {
          yield { inputs, targets, batchSize, seqLen: T }
          inputs = new Int32Array(batchSize * T)
          targets = new Int32Array(batchSize * T)
          rows = 0
        }
      }
      remaining -= inShard
    } finally {
      reader.close()
    }
  }
  if (rows > 0) yield { inputs: inputs.slice(0, rows * T), targets: targets.slice(0, rows * T), batchSize: rows, seqLen: T }
}
