/**
 * The import pipeline: documents from a source → batches → tokenizer workers → shards of a new dataset.
 *
 * - Reading, splitting and writing happen on the calling thread, in document order; tokenization runs on worker
 *   threads (results are consumed in submission order), so the output is identical for any worker count.
 * - Train/val split by document: each document goes to val with probability valFraction from a seeded RNG
 *   (or by an explicit rule). If no document landed in val, the last train document is moved there at the end.
 * - The dataset is built in `<dataDir>/datasets/.tmp-<name>-…` and renamed into place after its manifest is
 *   written; on error or cancellation the temporary folder is removed, so nothing half-written remains.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { TOKENIZER_INFO, isTokenizerName, type TokenizerName } from '../../tokenizer/types.js'
import { Rng } from '../../util/rng.js'
import {
  DATASET_MANIFEST,
  SHARD_FORMAT,
  assertDatasetName,
  datasetsRoot,
  removeStaleTemporaries,
  shardFileName,
  writeDatasetManifest,
  type DatasetManifest,
  type SplitInfo,
} from '../dataset.js'
import { datasetDir } from '../../paths.js'
import { RollingShardWriter, type WrittenShard } from '../shard-writer.js'
import { createEncoder, defaultWorkerCount, type Encoder } from './pool.js'
import type { DocItem, DocSource, SourceContext } from './sources.js'
import {
  ImportAbortedError,
  ImportError,
  emptySkipCounts,
  type CommonImportOptions,
  type ImportFormat,
  type ImportProgress,
  type ImportSummary,
  type SkipReason,
} from './types.js'
import type { EncodedBatch } from './encode.js'

export const DEFAULT_VAL_FRACTION = 0.05
export const DEFAULT_SEED = 1234
const DEFAULT_SHARD_TOKENS = 100_000_000
/** characters per batch sent to a worker */
const BATCH_CHARS = 1 << 20
const BATCH_DOCS = 2048
const MAX_EXAMPLES = 20
const HOLD_LIMIT = 16 * 1024 * 1024

export interface PipelineSpec {
  format: ImportFormat | 'default-corpus'
  source: DocSource
  manifestSource: DatasetManifest['source']
  /** explicit split rule by document index (default: seeded Bernoulli(valFraction)) */
  isVal?: (docIndex: number) => boolean
  splitMethod?: DatasetManifest['split']['method']
  /** seed recorded in the manifest (default: the RNG seed, or null with an explicit rule) */
  splitSeed?: number | null
  /** allow the reserved names of the shipped corpus */
  allowReserved?: boolean
}

function abortError(signal: AbortSignal | undefined): ImportAbortedError {
  const r = signal?.reason
  return new ImportAbortedError(r instanceof Error && r.message ? `import cancelled: ${r.message}` : 'import cancelled')
}

function resolveCommon(opts: CommonImportOptions): { tokenizer: TokenizerName; valFraction: number; seed: number; shardTokens: number; workers: number } {
  const tokenizer = opts.tokenizer ?? 'gpt2'
  if (!isTokenizerName(tokenizer)) throw new ImportError(`unknown tokenizer "${String(tokenizer)}": use gpt2 or byte`)
  const valFraction = opts.valFraction ?? DEFAULT_VAL_FRACTION
  if (!(valFraction >= 0 && valFraction <= 0.5)) throw new ImportError(`valFraction must be in [0, 0.5], got ${valFraction}`)
  const shardTokens = opts.shardTokens ?? DEFAULT_SHARD_TOKENS
  if (!Number.isInteger(shardTokens) || shardTokens < 1) throw new ImportError(`shardTokens must be a positive integer, got ${shardTokens}`)
  const workers = opts.workers ?? defaultWorkerCount()
  if (!Number.isInteger(workers) || workers < 0) throw new ImportError(`workers must be a non-negative integer, got ${workers}`)
  return { tokenizer, valFraction, seed: opts.seed ?? DEFAULT_SEED, shardTokens, workers }
}

/** Creates the temporary build folder; refuses to clobber an existing dataset unless overwrite. */
export function prepareBuildDir(dataDir: string, name: string, overwrite: boolean | undefined, allowReserved = false): { tmpDir: string; finalDir: string } {
  assertDatasetName(name, { allowReserved })
  const finalDir = datasetDir(dataDir, name)
  if (!overwrite && fs.existsSync(finalDir))
    throw new ImportError(`a dataset named "${name}" already exists in ${datasetsRoot(dataDir)}; choose another name or overwrite it`)
  fs.mkdirSync(datasetsRoot(dataDir), { recursive: true })
  removeStaleTemporaries(dataDir)
  const tmpDir = path.join(datasetsRoot(dataDir), `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`)
  fs.mkdirSync(tmpDir)
  return { tmpDir, finalDir }
}

/** Renames the finished build folder into place (replacing an old dataset when allowed). */
export function commitBuildDir(tmpDir: string, finalDir: string, overwrite: boolean | undefined): void {
  if (fs.existsSync(finalDir)) {
    if (!overwrite) throw new ImportError(`a dataset already exists at ${finalDir} (created while this import ran)`)
    const trash = `${path.join(path.dirname(finalDir), '.trash-' + path.basename(finalDir))}-${process.pid}-${randomBytes(4).toString('hex')}`
    fs.renameSync(finalDir, trash)
    try {
      fs.renameSync(tmpDir, finalDir)
    } catch (e) {
      fs.renameSync(trash, finalDir)
      throw e
    }
    fs.rmSync(trash, { recursive: true, force: true })
  } else fs.renameSync(tmpDir, finalDir)
}

function shardEntries(shards: readonly WrittenShard[]): SplitInfo['shards'] {
  return shards.map((s) => ({ file: path.basename(s.path), numTokens: s.numTokens, bytes: s.fileBytes, sha256: s.sha256 }))
}

/** Throttled progress reporting with rates and ETA. */
export class ProgressTracker {
  readonly t0 = performance.now()
  private last = -Infinity
  bytesRead = 0
  docs = 0
  tokens = 0
  skipped = 0
  currentFile: string | null = null

  constructor(
    private readonly bytesTotal: number | null,
    private readonly cb: ((p: ImportProgress) => void) | undefined,
    private readonly intervalMs = 250,
  ) {}

  snapshot(phase: ImportProgress['phase']): ImportProgress {
    const elapsedMs = performance.now() - this.t0
    const s = elapsedMs / 1000
    const frac = this.bytesTotal ? this.bytesRead / this.bytesTotal : 0
    return {
      phase,
      bytesRead: this.bytesRead,
      bytesTotal: this.bytesTotal,
      docs: this.docs,
      tokens: this.tokens,
      skipped: this.skipped,
      elapsedMs,
      etaMs: this.bytesTotal && frac > 0 ? Math.max(0, (elapsedMs * (1 - frac)) / frac) : null,
      mbPerSec: s > 0 ? this.bytesRead / 1e6 / s : 0,
      tokensPerSec: s > 0 ? this.tokens / s : 0,
      currentFile: this.currentFile,
    }
  }

  tick(phase: ImportProgress['phase'] = 'import', force = false): void {
    if (!this.cb) return
    const now = performance.now()
    if (!force && now - this.last < this.intervalMs) return
    this.last = now
    this.cb(this.snapshot(phase))
  }
}

interface BatchMeta {
  cont: Uint8Array
  textBytes: number
}

/** Runs a text import end to end and returns the manifest of the new dataset. */
export async function runPipeline(opts: CommonImportOptions, spec: PipelineSpec): Promise<DatasetManifest> {
  const { tokenizer, valFraction, seed, shardTokens, workers } = resolveCommon(opts)
  const signal = opts.signal
  if (signal?.aborted) throw abortError(signal)
  const { tmpDir, finalDir } = prepareBuildDir(opts.dataDir, opts.name, opts.overwrite, spec.allowReserved)
  const info = TOKENIZER_INFO[tokenizer]
  const skipped = emptySkipCounts()
  const examples: ImportSummary['skippedExamples'] = []
  const progress = new ProgressTracker(spec.source.bytesTotal, opts.onProgress, opts.progressIntervalMs)
  let utf8Replaced = 0
  let docsChunked = 0
  let docsSeen = 0
  let textBytes = 0
  let longRunsSplit = 0
  const writerOpts = { maxTokens: shardTokens, vocabSize: info.vocabSize }
  const writers = {
    train: new RollingShardWriter((i) => path.join(tmpDir, shardFileName(opts.name, 'train', i)), writerOpts),
    val: new RollingShardWriter((i) => path.join(tmpDir, shardFileName(opts.name, 'val', i)), writerOpts),
  }
  const docsIn = { train: 0, val: 0 }
  const rng = new Rng(seed)
  const isVal = spec.isVal ?? ((): boolean => valFraction > 0 && rng.uniform() < valFraction)
  let docIndex = 0
  let currentSplit: 'train' | 'val' = 'train'
  // the latest train document, held back (up to HOLD_LIMIT tokens) while val is still empty, so it can become
  // the validation document if no other one is drawn
  const hold: { parts: Uint16Array[] | null; tokens: number } = { parts: null, tokens: 0 }
  const flushHeld = (): void => {
    if (hold.parts) for (const part of hold.parts) writers.train.append(part)
    hold.parts = null
    hold.tokens = 0
  }
  const holdBack = valFraction > 0 && !spec.isVal

  const ctx: SourceContext = {
    skip(reason: SkipReason, where: string, detail?: string) {
      skipped[reason]++
      progress.skipped++
      docsSeen++
      if (examples.length < MAX_EXAMPLES) examples.push(detail === undefined ? { reason, where } : { reason, where, detail })
    },
    addBytes(n: number) {
      progress.bytesRead += n
    },
    setFile(f: string | null) {
      progress.currentFile = f
    },
    utf8Replaced() {
      utf8Replaced++
    },
    chunked() {
      docsChunked++
    },
    signal,
  }

  const writeResult = (meta: BatchMeta, r: EncodedBatch): void => {
    longRunsSplit += r.longRunsSplit
    textBytes += meta.textBytes
    let off = 0
    for (let i = 0; i < r.lengths.length; i++) {
      const len = r.lengths[i]!
      const toks = r.tokens.subarray(off, off + len)
      off += len
      progress.tokens += len
      if (!meta.cont[i]) {
        // a new document: the held one (if any) is complete and stays in train
        flushHeld()
        currentSplit = isVal(docIndex++) ? 'val' : 'train'
        docsIn[currentSplit]++
        progress.docs++
        if (currentSplit === 'train' && holdBack && docsIn.val === 0 && len <= HOLD_LIMIT) {
          hold.parts = [toks]
          hold.tokens = len
        } else writers[currentSplit].append(toks)
      } else if (hold.parts) {
        // a further chunk of the held document
        if (hold.tokens + len <= HOLD_LIMIT) {
          hold.parts.push(toks)
          hold.tokens += len
        } else {
          flushHeld()
          writers.train.append(toks)
        }
      } else writers[currentSplit].append(toks)
    }
  }

  let encoder: Encoder | undefined
  const inflight: { meta: BatchMeta; promise: Promise<EncodedBatch> }[] = []
  const maxInflight = Math.max(2, 2 * workers + 1)
  const drainOne = async (): Promise<void> => {
    const job = inflight.shift()!
    const r = await job.promise
    if (signal?.aborted) throw abortError(signal)
    writeResult(job.meta, r)
    progress.tick()
  }
  // keep unhandled-rejection warnings away while results wait in the queue
  const guard = (p: Promise<EncodedBatch>): Promise<EncodedBatch> => {
    p.catch(() => undefined)
    return p
  }

  const t0 = performance.now()
  const warnings: string[] = []
  try {
    progress.tick('scan', true)
    try {
      encoder = await createEncoder(tokenizer, workers, opts.workerUrl)
    } catch (e) {
      if (workers === 0) throw e
      // e.g. a bundled app whose worker file moved: tokenize here rather than fail
      warnings.push(`worker threads unavailable, tokenized on the calling thread (${(e as Error).message.split('\n')[0]})`)
      encoder = await createEncoder(tokenizer, 0)
    }
    let texts: string[] = []
    let conts: number[] = []
    let chars = 0
    let bytesInBatch = 0
    const submit = async (): Promise<void> => {
      if (texts.length === 0) return
      const cont = Uint8Array.from(conts)
      const prefixEot = cont.map((c) => (c ? 0 : 1))
      inflight.push({ meta: { cont, textBytes: bytesInBatch }, promise: guard(encoder!.encode(texts, prefixEot)) })
      texts = []
      conts = []
      chars = 0
      bytesInBatch = 0
      while (inflight.length >= maxInflight) await drainOne()
      // let timers, I/O callbacks and AbortSignal listeners run between batches even when nothing else waits
      await new Promise((r) => setImmediate(r))
    }
    const it = spec.source.docs(ctx)
    for await (const item of it as AsyncIterable<DocItem>) {
      if (signal?.aborted) throw abortError(signal)
      if (!item.cont) docsSeen++
      texts.push(item.text)
      conts.push(item.cont ? 1 : 0)
      chars += item.text.length
      bytesInBatch += Buffer.byteLength(item.text, 'utf8')
      if (chars >= BATCH_CHARS || texts.length >= BATCH_DOCS) await submit()
      else progress.tick()
    }
    await submit()
    while (inflight.length > 0) await drainOne()
    if (signal?.aborted) throw abortError(signal)

    // make sure validation is not empty when a fraction was asked for
    if (hold.parts && docsIn.val === 0 && docsIn.train > 1) {
      for (const part of hold.parts) writers.val.append(part)
      hold.parts = null
      docsIn.train--
      docsIn.val++
    } else flushHeld()
    if (valFraction > 0 && docsIn.val === 0) warnings.push('the validation split is empty: there were too few documents to hold one out')
    if (docsIn.train === 0 && docsIn.val > 0) {
      throw new ImportError(
        `no training documents: all ${docsIn.val} document(s) went to the validation split (validation fraction ${valFraction}); ` +
          `lower the validation fraction or import more documents`,
        { skipped, docsSeen, skippedExamples: examples },
      )
    }
    if (docsIn.train === 0 || writers.train.numTokens === 0) {
      const partial = { skipped, docsSeen, skippedExamples: examples }
      throw new ImportError(
        `no documents to import from ${spec.source.files.length ? spec.source.files.length + ' file(s)' : 'the input'}: ` +
          `skipped ${Object.entries(skipped).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing (the input is empty)'}` +
          (examples[0] ? ` (first: ${examples[0].reason} at ${examples[0].where}${examples[0].detail ? ': ' + examples[0].detail : ''})` : ''),
        partial,
      )
    }

    progress.tick('finalize', true)
    const train = writers.train.finish()
    const val = writers.val.finish()
    const durationMs = performance.now() - t0
    const totalTokens = writers.train.numTokens + writers.val.numTokens
    if (skipped.missingField > 0 && docsIn.train + docsIn.val > 0) warnings.push(`${skipped.missingField} record(s) had no "${spec.manifestSource.textField ?? 'text'}" value`)
    const summary: ImportSummary = {
      format: spec.format,
      files: spec.source.files.length,
      filesIgnored: spec.source.filesIgnored,
      docsSeen,
      docsWritten: docsIn.train + docsIn.val,
      bytesRead: progress.bytesRead,
      textBytes,
      tokens: totalTokens,
      skipped,
      utf8Replaced,
      docsChunked,
      longRunsSplit,
      skippedExamples: examples,
      workers: encoder.workers,
      durationMs: Math.round(durationMs),
      mbPerSec: progress.bytesRead / 1e6 / (durationMs / 1000),
      tokensPerSec: totalTokens / (durationMs / 1000),
      warnings,
    }
    const manifest: DatasetManifest = {
      manifestVersion: 1,
      name: opts.name,
      ...(opts.description === undefined ? {} : { description: opts.description }),
      source: spec.source.usedFields?.length ? { ...spec.manifestSource, textField: spec.source.usedFields.join(',') } : spec.manifestSource,
      format: SHARD_FORMAT,
      tokenizer,
      vocabSize: info.vocabSize,
      eot: info.eot,
      split: { method: spec.splitMethod ?? 'document-random', valFraction, seed: spec.splitSeed !== undefined ? spec.splitSeed : spec.isVal ? null : seed },
      splits: {
        train: { docs: docsIn.train, tokens: writers.train.numTokens, shards: shardEntries(train) },
        val: { docs: docsIn.val, tokens: writers.val.numTokens, shards: shardEntries(val) },
      },
      storage: 'copied',
      createdAt: new Date().toISOString(),
      import: summary,
    }
    if (signal?.aborted) throw abortError(signal)
    writeDatasetManifest(tmpDir, manifest)
    commitBuildDir(tmpDir, finalDir, opts.overwrite)
    progress.tick('done', true)
    return manifest
  } catch (e) {
    writers.train.abort()
    writers.val.abort()
    fs.rmSync(tmpDir, { recursive: true, force: true })
    if (signal?.aborted && !(e instanceof ImportAbortedError)) throw abortError(signal)
    throw e
  } finally {
    await encoder?.close()
  }
}

export { DATASET_MANIFEST }
