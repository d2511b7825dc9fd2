/**
 * Importing existing `.bin` token shards (e.g. the paper's `fineweb_train_*.bin` / `fineweb_val_*.bin`) as a
 * dataset. Every shard is validated in full (header vs size, every id < the tokenizer's vocabulary) and its
 * documents counted (EOT ids). Mode 'copy' writes each shard into the dataset folder in the 1024-byte-header form
 * (legacy 12-byte files are rewritten), streaming in bounded chunks while hashing; mode 'reference' leaves the
 * files where they are and records their absolute paths.
 */
import fs from 'node:fs'
import path from 'node:path'
import { TOKENIZER_INFO } from '../../tokenizer/types.js'
import { SHARD_FORMAT, isValShardName, shardFileName, writeDatasetManifest, type DatasetManifest, type ShardFileEntry } from '../dataset.js'
import { openShard, readShardHeader, sha256File } from '../shard.js'
import { ShardWriter } from '../shard-writer.js'
import { ProgressTracker, commitBuildDir, prepareBuildDir } from './pipeline.js'
import { expandInputs } from './sources.js'
import { ImportAbortedError, ImportError, emptySkipCounts, type CommonImportOptions, type ImportSummary } from './types.js'

export interface BinImportOptions extends Omit<CommonImportOptions, 'valFraction' | 'seed' | 'shardTokens' | 'workers' | 'workerUrl'> {
  /** train shards: glob(s), files or a folder; files named "…val…" go to validation unless `val` is given */
  from: string | string[]
  /** validation shards (glob, files or folder) */
  val?: string | string[]
  /** 'copy' (default) into the dataset folder, or 'reference' the files in place */
  mode?: 'copy' | 'reference'
  /** compute sha256 of every shard (default true) */
  hash?: boolean
  cwd?: string
}

const CHUNK_TOKENS = 8 * 1024 * 1024

export async function importBinShards(opts: BinImportOptions): Promise<DatasetManifest> {
  const tokenizer = opts.tokenizer ?? 'gpt2'
  const info = TOKENIZER_INFO[tokenizer]
  if (!info) throw new ImportError(`unknown tokenizer "${String(tokenizer)}": use gpt2 or byte`)
  const mode = opts.mode ?? 'copy'
  const hash = opts.hash ?? true
  const signal = opts.signal
  if (signal?.aborted) throw new ImportAbortedError()
  const fromList = typeof opts.from === 'string' ? [opts.from] : opts.from
  const all = expandInputs(fromList, ['.bin'], opts.cwd)
  let train: string[]
  let val: string[]
  if (opts.val !== undefined) {
    train = all.files
    val = expandInputs(opts.val, ['.bin'], opts.cwd).files
  } else {
    val = all.files.filter(isValShardName)
    train = all.files.filter((f) => !isValShardName(f))
  }
  if (train.length === 0) throw new ImportError(`no training shards: every matched file looks like validation (${val.map((f) => path.basename(f)).join(', ')})`)
  // validate every header before doing any work
  const headers = new Map([...train, ...val].map((f) => [f, readShardHeader(f)]))
  const bytesTotal = [...headers.values()].reduce((s, h) => s + h.fileBytes, 0)
  const progress = new ProgressTracker(bytesTotal, opts.onProgress, opts.progressIntervalMs)
  const { tmpDir, finalDir } = prepareBuildDir(opts.dataDir, opts.name, opts.overwrite)
  const warnings: string[] = []
  const t0 = performance.now()
  const writers: ShardWriter[] = []
  try {
    progress.tick('scan', true)
    const doSplit = async (files: string[], split: 'train' | 'val'): Promise<{ entries: ShardFileEntry[]; docs: number; tokens: number }> => {
      const entries: ShardFileEntry[] = []
      let docs = 0
      let tokens = 0
      for (let idx = 0; idx < files.length; idx++) {
        const f = files[idx]!
        const h = headers.get(f)!
        progress.currentFile = f
        if (h.headerBytes === 12) warnings.push(`${f}: legacy 12-byte header` + (mode === 'copy' ? ' (rewritten with the 1024-byte header)' : ''))
        const reader = openShard(f, { vocabSize: info.vocabSize })
        const out = mode === 'copy' ? new ShardWriter(path.join(tmpDir, shardFileName(opts.name, split, idx)), { vocabSize: info.vocabSize }) : undefined
        if (out) writers.push(out)
        try {
          const buf = new Uint16Array(Math.min(CHUNK_TOKENS, Math.max(1, h.numTokens)))
          for (let pos = 0; pos < h.numTokens; pos += buf.length) {
            if (signal?.aborted) throw new ImportAbortedError()
            const n = Math.min(buf.length, h.numTokens - pos)
            const chunk = reader.read(pos, n, buf).subarray(0, n)
            for (let i = 0; i < n; i++) if (chunk[i] === info.eot) docs++
            out?.append(chunk)
            progress.bytesRead += 2 * n
            progress.tokens += n
            progress.tick()
            await new Promise((r) => setImmediate(r)) // let cancellation and progress through
          }
        } finally {
          reader.close()
        }
        progress.bytesRead += h.headerBytes
        tokens += h.numTokens
        if (out) {
          const w = out.finish()
          entries.push({ file: path.basename(w.path), numTokens: w.numTokens, bytes: w.fileBytes, sha256: hash ? w.sha256 : null })
        } else entries.push({ file: f, numTokens: h.numTokens, bytes: h.fileBytes, sha256: hash ? sha256File(f) : null })
      }
      return { entries, docs, tokens }
    }
    const tr = await doSplit(train, 'train')
    const va = await doSplit(val, 'val')
    if (val.length === 0) warnings.push('no validation shards (name them *_val_*.bin or give a validation glob)')
    const durationMs = performance.now() - t0
    const totalTokens = tr.tokens + va.tokens
    const summary: ImportSummary = {
      format: 'bin',
      files: train.length + val.length,
      filesIgnored: all.ignored,
      docsSeen: tr.docs + va.docs,
      docsWritten: tr.docs + va.docs,
      bytesRead: progress.bytesRead,
      textBytes: 0,
      tokens: totalTokens,
      skipped: emptySkipCounts(),
      utf8Replaced: 0,
      docsChunked: 0,
      longRunsSplit: 0,
      skippedExamples: [],
      workers: 0,
      durationMs: Math.round(durationMs),
      mbPerSec: progress.bytesRead / 1e6 / (durationMs / 1000),
      tokensPerSec: totalTokens / (durationMs / 1000),
      warnings,
    }
    const manifest: DatasetManifest = {
      manifestVersion: 1,
      name: opts.name,
      ...(opts.description === undefined ? {} : { description: opts.description }),
      source: { kind: 'bin', inputs: [...fromList, ...(opts.val === undefined ? [] : typeof opts.val === 'string' ? [opts.val] : opts.val)] },
      format: SHARD_FORMAT,
      tokenizer,
      vocabSize: info.vocabSize,
      eot: info.eot,
      split: { method: opts.val === undefined ? 'by-file-name' : 'explicit', valFraction: null, seed: null },
      splits: { train: { docs: tr.docs, tokens: tr.tokens, shards: tr.entries }, val: { docs: va.docs, tokens: va.tokens, shards: va.entries } },
      storage: mode === 'copy' ? 'copied' : 'referenced',
      createdAt: new Date().toISOString(),
      import: summary,
    }
    if (signal?.aborted) throw new ImportAbortedError()
    writeDatasetManifest(tmpDir, manifest)
    commitBuildDir(tmpDir, finalDir, opts.overwrite)
    progress.tick('done', true)
    return manifest
  } catch (e) {
    for (const w of writers) w.abort()
    fs.rmSync(tmpDir, { recursive: true, force: true })
    throw e
  }
}
