/**
 * Types shared by the importers, the default-corpus builder and dataset manifests.
 */
import type { TokenizerName } from '../../tokenizer/types.js'
import { UserError } from '../../user-errors.js'

export type ImportFormat = 'txt' | 'jsonl' | 'parquet' | 'bin'

/** Why a document (or file) was skipped. Every key is always present in a summary. */
export interface SkipCounts {
  /** empty or whitespace-only documents, and empty files */
  empty: number
  /** documents (or .txt files / chunks) that are not valid UTF-8 (with invalidUtf8: 'skip') */
  invalidUtf8: number
  /** JSONL lines that are not valid JSON */
  malformedJson: number
  /** JSONL records / Parquet rows whose text field is missing or null */
  missingField: number
  /** text field present but not a string */
  wrongType: number
  /** JSONL lines longer than maxLineBytes (skipped without buffering them) */
  tooLong: number
  /** files that could not be read (permissions, vanished) */
  unreadable: number
}

export function emptySkipCounts(): SkipCounts {
  return { empty: 0, invalidUtf8: 0, malformedJson: 0, missingField: 0, wrongType: 0, tooLong: 0, unreadable: 0 }
}

export type SkipReason = keyof SkipCounts

export interface ImportSummary {
  format: ImportFormat | 'default-corpus'
  /** input files considered (after filtering by extension) */
  files: number
  /** files in a scanned folder that were ignored (other extensions) */
  filesIgnored: number
  /** documents seen, kept or skipped */
  docsSeen: number
  /** documents written (train + val) */
  docsWritten: number
  /** input bytes consumed (compressed bytes for .gz / Parquet) */
  bytesRead: number
  /** UTF-8 bytes of the text that was tokenized */
  textBytes: number
  tokens: number
  skipped: SkipCounts
  /** documents kept after replacing invalid UTF-8 with U+FFFD (invalidUtf8: 'replace') */
  utf8Replaced: number
  /** documents longer than maxDocBytes, stored as consecutive chunks of one document */
  docsChunked: number
  /** over-long runs of one character class cut before BPE (GPT-2 pathological-input guard) */
  longRunsSplit: number
  /** first few skipped items, for the user to look at */
  skippedExamples: { reason: SkipReason; where: string; detail?: string }[]
  workers: number
  durationMs: number
  mbPerSec: number
  tokensPerSec: number
  warnings: string[]
}

export interface ImportProgress {
  phase: 'scan' | 'import' | 'finalize' | 'done'
  /** input bytes consumed so far / in total (null when unknown) */
  bytesRead: number
  bytesTotal: number | null
  docs: number
  tokens: number
  skipped: number
  elapsedMs: number
  /** estimated time left, from the byte rate (null when unknown) */
  etaMs: number | null
  mbPerSec: number
  tokensPerSec: number
  currentFile: string | null
}

export type ProgressCallback = (p: ImportProgress) => void

export class ImportError extends UserError {
  override readonly name: string = 'ImportError'
  constructor(
    message: string,
    readonly summary?: Partial<ImportSummary>,
  ) {
    super(message)
  }
}

/** Thrown when the AbortSignal fires; nothing is left in the datasets folder. */
export class ImportAbortedError extends ImportError {
  override readonly name = 'AbortError'
  constructor(message = 'import cancelled') {
    super(message)
  }
}

export interface CommonImportOptions {
  /** the skipbench data directory; the dataset goes to <dataDir>/datasets/<name>/ */
  dataDir: string
  name: string
  tokenizer?: TokenizerName
  /** fraction of documents for validation (seeded, by document); default 0.05 */
  valFraction?: number
  seed?: number
  /** tokens per shard file (default 100,000,000 as the reference shards) */
  shardTokens?: number
  /** tokenizer worker threads; 0 = tokenize on the calling thread; default: defaultWorkerCount() (cores − 1, ≤ 8; 0 on ≤ 2 cores) */
  workers?: number
  /** replace an existing dataset of the same name */
  overwrite?: boolean
  onProgress?: ProgressCallback
  /** how often onProgress fires (ms, default 250); it always fires at the end */
  progressIntervalMs?: number
  signal?: AbortSignal
  description?: string
  /** override the worker entry (e.g. when a bundler moved it); default: ./tokenize-worker.{js,ts} next to pool */
  workerUrl?: URL | string
}
