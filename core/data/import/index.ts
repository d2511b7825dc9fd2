/**
 * Importing user data as datasets: `importDataset({ from, format, ... })`.
 *
 * Formats: a folder (or files/glob) of .txt; .jsonl / .jsonl.gz with a chosen text field; Parquet with a chosen
 * text column; existing .bin shards. 'auto' picks the format from the files' extensions.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { DatasetManifest } from '../dataset.js'
import { hasGlobMagic } from '../glob.js'
import { importBinShards } from './bin.js'
import { runPipeline } from './pipeline.js'
import { JSONL_EXTENSIONS, TXT_EXTENSIONS, jsonlSource, txtSource, type DocSource } from './sources.js'
import { PARQUET_EXTENSIONS, parquetSource } from './parquet-source.js'
import { ImportError, type CommonImportOptions, type ImportFormat } from './types.js'
import type { Utf8Mode } from './text.js'

export * from './types.js'
export { importBinShards, type BinImportOptions } from './bin.js'
export { createEncoder, defaultWorkerCount, type Encoder } from './pool.js'
export { DEFAULT_SEED, DEFAULT_VAL_FRACTION, runPipeline, type PipelineSpec } from './pipeline.js'
export { arraySource, expandInputs, jsonlSource, txtSource, type DocItem, type DocSource, type SourceContext } from './sources.js'
export { parquetSource } from './parquet-source.js'
export { normalizeText } from './text.js'

export interface ImportOptions extends CommonImportOptions {
  /** file(s), folder(s) or glob(s) */
  from: string | string[]
  /** default 'auto': from the extensions of the files found */
  format?: ImportFormat | 'auto'
  /** JSONL field (dotted path ok) / Parquet column; default "text" (Parquet: else the first string column) */
  textField?: string
  /** invalid UTF-8: skip the document (default) or keep it with U+FFFD replacements */
  invalidUtf8?: Utf8Mode
  /** documents over this many UTF-8 bytes are stored as consecutive chunks (default 64 MiB) */
  maxDocBytes?: number
  /** JSONL lines over this many bytes are skipped (default 64 MiB) */
  maxLineBytes?: number
  /** .txt extensions to accept in folders (default ['.txt']) */
  extensions?: string[]
  /** .bin: validation shards (otherwise files named *val* are validation) */
  val?: string | string[]
  /** .bin: copy into the dataset (default) or reference in place */
  binMode?: 'copy' | 'reference'
  /** .bin: hash shards (default true) */
  hash?: boolean
  cwd?: string
}

function formatOfFile(f: string): ImportFormat | null {
  const l = f.toLowerCase()
  if (JSONL_EXTENSIONS.some((e) => l.endsWith(e))) return 'jsonl'
  if (PARQUET_EXTENSIONS.some((e) => l.endsWith(e))) return 'parquet'
  if (l.endsWith('.bin')) return 'bin'
  if (TXT_EXTENSIONS.some((e) => l.endsWith(e))) return 'txt'
  return null
}

function listForDetection(input: string, cwd: string, out: string[]): void {
  const abs = path.resolve(cwd, input)
  if (hasGlobMagic(input)) {
    out.push(abs)
    return
  }
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch {
    throw new ImportError(`no such file or folder: ${abs}`)
  }
  if (!st.isDirectory()) {
    out.push(abs)
    return
  }
  const stack = [abs]
  while (stack.length && out.length < 10_000) {
    const d = stack.pop()!
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue
      if (e.isDirectory()) stack.push(path.join(d, e.name))
      else out.push(path.join(d, e.name))
    }
  }
}

/** Guesses the format of the inputs from file extensions (the most common recognised one). */
function detectFormat(from: string | readonly string[], cwd = process.cwd()): ImportFormat {
  const files: string[] = []
  for (const f of typeof from === 'string' ? [from] : from) listForDetection(f, cwd, files)
  const counts = new Map<ImportFormat, number>()
  for (const f of files) {
    const k = formatOfFile(f)
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]
  if (!best) throw new ImportError(`cannot tell the format of ${[from].flat().join(', ')}: no .txt, .jsonl(.gz), .parquet or .bin files; pass the format explicitly`)
  return best[0]
}

/** Builds the document source for a text format. */
function makeSource(format: Exclude<ImportFormat, 'bin'>, opts: ImportOptions): DocSource {
  const common = {
    ...(opts.invalidUtf8 === undefined ? {} : { invalidUtf8: opts.invalidUtf8 }),
    ...(opts.maxDocBytes === undefined ? {} : { maxDocBytes: opts.maxDocBytes }),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  }
  if (format === 'txt') return txtSource(opts.from, { ...common, ...(opts.extensions ? { extensions: opts.extensions } : {}) })
  if (format === 'jsonl')
    return jsonlSource(opts.from, {
      ...common,
      ...(opts.textField === undefined ? {} : { textField: opts.textField }),
      ...(opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes }),
    })
  return parquetSource(opts.from, { ...common, ...(opts.textField === undefined ? {} : { textField: opts.textField }) })
}

/** Imports text or shards as a new dataset in `<dataDir>/datasets/<name>/` and returns its manifest. */
export async function importDataset(opts: ImportOptions): Promise<DatasetManifest> {
  const format = !opts.format || opts.format === 'auto' ? detectFormat(opts.from, opts.cwd) : opts.format
  if (format === 'bin') {
    const { from, val, binMode, hash, cwd, ...rest } = opts
    return importBinShards({
      ...rest,
      from,
      ...(val === undefined ? {} : { val }),
      ...(binMode === undefined ? {} : { mode: binMode }),
      ...(hash === undefined ? {} : { hash }),
      ...(cwd === undefined ? {} : { cwd }),
    })
  }
  if (!['txt', 'jsonl', 'parquet'].includes(format)) throw new ImportError(`unknown format "${format}": use txt, jsonl, parquet or bin`)
  const source = makeSource(format, opts)
  const inputs = typeof opts.from === 'string' ? [opts.from] : opts.from
  return runPipeline(opts, {
    format,
    source,
    manifestSource: { kind: format, inputs, ...(format !== 'txt' ? { textField: opts.textField ?? 'text' } : {}) },
  })
}
