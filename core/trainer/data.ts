/**
 * The trainer's view of data: a training batch stream with a resumable position, a fixed set of validation batches
 * (spec H.8: every full window of T+1 tokens with stride T, up to a token budget, the same every time), and facts
 * recorded with the run (dataset, tokenizer, vocabulary, unigram entropy of the validation targets).
 *
 * Sources: the built-in synthetic set, explicit shard lists, or a dataset resolved by core/data (the shipped corpus
 * "default", a dataset name under the data folder, or a path).
 */
import type { Batch } from '../engine/engine.js'
import { resolveDataset } from '../data/dataset.js'
import { evalWindows, planEval, TokenLoader, type LoaderState } from '../data/loader.js'
import { ArrayTokenLoader, arrayEvalWindowCount, arrayEvalWindows, makeSynthetic, type ArrayLoaderState } from '../data/synthetic.js'
import type { RunConfig } from '../config/index.js'
import { UserError } from '../user-errors.js'
import { defaultDataDir } from '../paths.js'

export interface DataInfo {
  dataset: string
  tokenizer: string
  /** ids are < vocabSize */
  vocabSize: number
  trainShards: string[]
  valShards: string[]
  /** total training tokens (sum of shard headers) */
  trainTokens: number
  /** predicted validation tokens per evaluation (windows · T) */
  valTokens: number
  /** empirical unigram entropy of the validation targets, nats: the loss of the best context-free model */
  unigramEntropy: number
  /** synthetic data only: the chain's entropy rate (best achievable loss), nats */
  entropyRate?: number
}

export interface TrainData {
  readonly info: DataInfo
  next(): Batch
  state(): unknown
  restore(s: unknown): void
  /** a fresh iteration over the fixed validation batches */
  valBatches(): Iterable<Batch>
  close(): void
}

export class DataError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'DataError'
  }
}

function entropyOfCounts(counts: Map<number, number>, n: number): number {
  let h = 0
  for (const c of counts.values()) h -= (c / n) * Math.log(c / n)
  return h
}

function valUnigramEntropy(batches: Iterable<Batch>): number {
  const counts = new Map<number, number>()
  let n = 0
  for (const b of batches)
    for (const t of b.targets) {
      counts.set(t, (counts.get(t) ?? 0) + 1)
      n++
    }
  return entropyOfCounts(counts, n)
}

export interface OpenDataOptions {
  /** folder holding datasets and the shipped corpus' shards (default: $SKIPBENCH_DATA_DIR or ./.skipbench/data) */
  dataDir?: string
}

/** Map our data config to the names core/data understands ('default' + tokenizer gpt2 → 'default-gpt2'). */
function datasetName(dataset: string, tokenizer: string | undefined): string {
  if (dataset === 'default' && tokenizer) return `default-${tokenizer}`
  return dataset
}

/** The built-in synthetic set (not explicit shards). */
function isSynthetic(cfg: RunConfig): boolean {
  return !cfg.data.train_shards && cfg.data.dataset === 'synthetic'
}

/** The synthetic dataset of a run (its vocabulary checked against model.vocab_size). */
function synthetic(cfg: RunConfig): { vocab: number; syn: ReturnType<typeof makeSynthetic> } {
  const V = cfg.model.vocab_size
  const s = cfg.data.synthetic ?? { train_tokens: 1_000_000, val_tokens: 65_536, successors: 4 }
  const vocab = s.vocab_size ?? Math.min(V, 64)
  if (vocab > V) throw new DataError(`data.synthetic.vocab_size ${vocab} exceeds model.vocab_size ${V}`)
  return { vocab, syn: makeSynthetic({ vocabSize: vocab, seed: s.seed ?? cfg.training.seed, trainTokens: s.train_tokens, valTokens: s.val_tokens, successors: s.successors }) }
}

interface ResolvedShards {
  train: string[]
  val: string[]
  tokenizer: string
  vocabSize: number
  name: string
}

/** A run's shard lists (explicit, or a dataset resolved by core/data), checked against model.vocab_size; opens nothing. */
async function resolveShards(cfg: RunConfig, opts: OpenDataOptions): Promise<ResolvedShards> {
  const V = cfg.model.vocab_size
  const d = cfg.data
  let ds: ResolvedShards
  if (d.train_shards && d.val_shards) ds = { train: d.train_shards, val: d.val_shards, tokenizer: d.tokenizer ?? 'unknown', vocabSize: V, name: 'shards' }
  else {
    const r = await resolveDataset(opts.dataDir ?? defaultDataDir(), datasetName(d.dataset, d.tokenizer), d.tokenizer ? { tokenizer: d.tokenizer } : {})
    if (!r.valPaths.length) throw new DataError(`dataset "${r.name}" has no validation split; validation needs one`)
    ds = { train: r.trainPaths, val: r.valPaths, tokenizer: r.tokenizer, vocabSize: r.vocabSize, name: r.name }
  }
  if (ds.vocabSize > V)
    throw new DataError(
      `dataset "${ds.name}" (tokenizer ${ds.tokenizer}) has vocabulary ${ds.vocabSize}, but model.vocab_size is ${V}; set model.vocab_size to at least ${ds.vocabSize}`,
    )
  return ds
}

/** What evaluating a checkpoint on a run's data reads: the dataset's validation shards, or the synthetic set's windows. */
export type EvalData = { dataset: string; shards: string[] } | { dataset: string; windows: number; batches: Iterable<Batch> }

/**
 * Resolve the validation data of a run for an evaluation (the same windows training validates on, up to
 * training.val_tokens): the shard paths, or the synthetic set's windows (made lazily), without opening the training
 * shards or reading the validation ones. T = model.max_seq_len; windows per batch = training.val_batch_size ?? batch_size.
 */
export async function resolveEvalData(cfg: RunConfig, opts: OpenDataOptions = {}): Promise<EvalData> {
  if (isSynthetic(cfg)) {
    const T = cfg.model.max_seq_len
    const { syn } = synthetic(cfg)
    const budget = cfg.training.val_tokens
    return {
      dataset: 'synthetic',
      windows: arrayEvalWindowCount(syn.val, T, budget),
      batches: arrayEvalWindows(syn.val, T, cfg.training.val_batch_size ?? cfg.training.batch_size, budget),
    }
  }
  const ds = await resolveShards(cfg, opts)
  return { dataset: ds.name, shards: ds.val }
}

/** Open the data of a run: B = training.batch_size, T = model.max_seq_len. */
export async function openTrainData(cfg: RunConfig, opts: OpenDataOptions = {}): Promise<TrainData> {
  const B = cfg.training.batch_size
  const T = cfg.model.max_seq_len
  const valB = cfg.training.val_batch_size ?? B
  const budget = cfg.training.val_tokens
  const V = cfg.model.vocab_size

  if (isSynthetic(cfg)) {
    const { vocab, syn } = synthetic(cfg)
    const loader = new ArrayTokenLoader(syn.train, B, T)
    const valList = [...arrayEvalWindows(syn.val, T, valB, budget)]
    return {
      info: {
        dataset: 'synthetic',
        tokenizer: 'synthetic',
        vocabSize: vocab,
        trainShards: [],
        valShards: [],
        trainTokens: syn.train.length,
        valTokens: valList.reduce((n, b) => n + b.batchSize * T, 0),
        unigramEntropy: valUnigramEntropy(valList),
        entropyRate: syn.entropyRate,
      },
      next: () => loader.next(),
      state: () => ({ kind: 'synthetic', ...loader.state() }),
      restore: (st) => loader.restore(st as ArrayLoaderState),
      valBatches: () => valList,
      close: () => {},
    }
  }

  const ds = await resolveShards(cfg, opts)
  const loader = new TokenLoader(ds.train, { batchSize: B, seqLen: T, vocabSize: V })
  const plan = planEval(ds.val, T, valB, budget)
  const valBatches = () => evalWindows(ds.val, T, valB, budget, { vocabSize: V })
  return {
    info: {
      dataset: ds.name,
      tokenizer: ds.tokenizer,
      vocabSize: ds.vocabSize,
      trainShards: ds.train,
      valShards: ds.val,
      trainTokens: loader.totalTokens,
      valTokens: plan.tokens,
      unigramEntropy: valUnigramEntropy(valBatches()),
    },
    next: () => loader.next(),
    state: () => ({ kind: 'shards', ...loader.state() }),
    restore: (st) => loader.restore(st as LoaderState),
    valBatches,
    close: () => loader.close(),
  }
}
