/**
 * Datasets as first-class objects. Each dataset lives in `<dataDir>/datasets/<name>/` with a `dataset.json`
 * manifest (name, source, tokenizer, vocabulary, token counts per split, shard files with sha256, creation time,
 * import summary) next to its shards `<name>_{train,val}_NNNNNN.bin`. Shards referenced in place (a `.bin`
 * import with mode 'reference') are stored with absolute paths.
 *
 * Datasets are written to a temporary folder and renamed into place, so a dataset folder with a manifest is
 * always complete.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { TOKENIZER_INFO, isTokenizerName, type TokenizerName } from '../tokenizer/types.js'
import { expandGlob, hasGlobMagic } from './glob.js'
import type { ImportSummary } from './import/types.js'
import { readShardHeader, sha256File } from './shard.js'
import { jsonProblem } from '../util/json-problem.js'
import { UserError } from '../user-errors.js'
import { DATASETS_SUBDIR, datasetDir } from '../paths.js'


export const DATASET_MANIFEST = 'dataset.json'
export const SHARD_FORMAT = 'bin-uint16-v1'

/** Built-in names of the shipped corpus: 'default' (= 'default-byte', byte-level) and 'default-gpt2'. */
export const DEFAULT_CORPUS_NAMES: Record<string, TokenizerName> = { default: 'byte', 'default-byte': 'byte', 'default-gpt2': 'gpt2' }
export const RESERVED_DATASET_NAMES = Object.keys(DEFAULT_CORPUS_NAMES)

export class DatasetError extends UserError {
  override readonly name = 'DatasetError'
}

export type DatasetSourceKind = 'default-corpus' | 'txt' | 'jsonl' | 'parquet' | 'bin'
export type SplitName = 'train' | 'val'

export interface ShardFileEntry {
  /** file name relative to the dataset folder, or an absolute path for referenced shards */
  file: string
  numTokens: number
  bytes: number
  /** sha256 of the whole file; null when hashing was skipped */
  sha256: string | null
}

export interface SplitInfo {
  /** documents in the split (null when unknown, e.g. imported .bin shards) */
  docs: number | null
  tokens: number
  shards: ShardFileEntry[]
}

export interface DatasetManifest {
  manifestVersion: 1
  name: string
  description?: string
  source: {
    kind: DatasetSourceKind
    /** the input paths or globs as given */
    inputs: string[]
    /** JSONL field / Parquet column */
    textField?: string
    /** what the shipped corpus was built from (cache key) */
    cacheKey?: string
    attribution?: string
    /** sha256 of the source text (default corpus) */
    textSha256?: string
  }
  format: typeof SHARD_FORMAT
  tokenizer: TokenizerName
  vocabSize: number
  eot: number
  split: {
    method: 'document-shuffle' | 'document-random' | 'by-file-name' | 'explicit'
    valFraction: number | null
    seed: number | null
  }
  splits: Record<SplitName, SplitInfo>
  /** 'copied' when the shards are in the dataset folder, 'referenced' when they stay where they were */
  storage: 'copied' | 'referenced'
  createdAt: string
  import: ImportSummary | null
}

const shardEntrySchema = z.object({
  file: z.string().min(1),
  numTokens: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().nullable(),
})
const splitSchema = z.object({ docs: z.number().int().nonnegative().nullable(), tokens: z.number().int().nonnegative(), shards: z.array(shardEntrySchema) })
const manifestSchema = z.looseObject({
  manifestVersion: z.literal(1),
  name: z.string().min(1),
  source: z.looseObject({ kind: z.enum(['default-corpus', 'txt', 'jsonl', 'parquet', 'bin']), inputs: z.array(z.string()) }),
  format: z.literal(SHARD_FORMAT),
  tokenizer: z.enum(['gpt2', 'byte']),
  vocabSize: z.number().int().positive().max(65536),
  eot: z.number().int().nonnegative(),
  splits: z.object({ train: splitSchema, val: splitSchema }),
  storage: z.enum(['copied', 'referenced']),
  createdAt: z.string(),
})

export function datasetsRoot(dataDir: string): string {
  return path.join(dataDir, DATASETS_SUBDIR)
}

/** Dataset names: letters, digits, '.', '_', '-' (1–64 characters, starting with a letter or digit). */
export function assertDatasetName(name: string, opts: { allowReserved?: boolean } = {}): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
    throw new DatasetError(`invalid dataset name "${name}": use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`)
  if (!opts.allowReserved && RESERVED_DATASET_NAMES.includes(name))
    throw new DatasetError(`the dataset name "${name}" is reserved for the shipped corpus (${RESERVED_DATASET_NAMES.join(', ')}); choose another name`)
}

export function shardFileName(name: string, split: SplitName, index: number): string {
  return `${name}_${split}_${String(index).padStart(6, '0')}.bin`
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes build and trash folders (`.tmp-<name>-<pid>-<hex>`, `.trash-<name>-<pid>-<hex>`) left in
 * `<dataDir>/datasets` by processes that no longer exist (a killed import). Returns the removed paths.
 */
export function removeStaleTemporaries(dataDir: string): string[] {
  const root = datasetsRoot(dataDir)
  let names: string[]
  try {
    names = fs.readdirSync(root)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const n of names) {
    const m = /^\.(?:tmp|trash)-.+-(\d+)-[0-9a-f]{8}$/.exec(n)
    if (!m || pidAlive(Number(m[1]))) continue
    const p = path.join(root, n)
    fs.rmSync(p, { recursive: true, force: true })
    removed.push(p)
  }
  return removed
}

/** Writes dataset.json atomically. */
export function writeDatasetManifest(dir: string, manifest: DatasetManifest): void {
  const f = path.join(dir, DATASET_MANIFEST)
  const tmp = `${f}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n')
  fs.renameSync(tmp, f)
}

/** Reads and validates `<dir>/dataset.json`. */
export function readDatasetManifest(dir: string): DatasetManifest {
  const f = path.join(dir, DATASET_MANIFEST)
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(f, 'utf8'))
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new DatasetError(err.code === 'ENOENT' ? `${f}: no dataset manifest` : `${f}: unreadable manifest: ${err.code ? err.message : jsonProblem(e)}`)
  }
  const r = manifestSchema.safeParse(raw)
  if (!r.success) throw new DatasetError(`${f}: invalid manifest: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  const m = raw as DatasetManifest
  const info = TOKENIZER_INFO[m.tokenizer]
  if (m.vocabSize !== info.vocabSize || m.eot !== info.eot)
    throw new DatasetError(`${f}: tokenizer ${m.tokenizer} has vocabulary ${info.vocabSize} and EOT ${info.eot}, the manifest says ${m.vocabSize} / ${m.eot}`)
  return m
}

export interface Dataset {
  name: string
  dir: string
  manifest: DatasetManifest
  trainPaths: string[]
  valPaths: string[]
  tokenizer: TokenizerName
  vocabSize: number
  eot: number
}

function datasetFromManifest(dir: string, m: DatasetManifest): Dataset {
  return {
    name: m.name,
    dir,
    manifest: m,
    trainPaths: m.splits.train.shards.map((s) => path.resolve(dir, s.file)),
    valPaths: m.splits.val.shards.map((s) => path.resolve(dir, s.file)),
    tokenizer: m.tokenizer,
    vocabSize: m.vocabSize,
    eot: m.eot,
  }
}

/** Loads `<dataDir>/datasets/<name>` (manifest only; shards are not touched). */
export function loadDataset(dataDir: string, name: string): Dataset {
  assertDatasetName(name, { allowReserved: true })
  const dir = datasetDir(dataDir, name)
  if (!fs.existsSync(path.join(dir, DATASET_MANIFEST))) {
    const known = listDatasets(dataDir).filter((d) => d.ok).map((d) => d.name)
    throw new DatasetError(
      `no dataset "${name}" in ${datasetsRoot(dataDir)}` + (known.length ? ` (available: ${known.join(', ')})` : ' (no datasets imported yet)'),
    )
  }
  return datasetFromManifest(dir, readDatasetManifest(dir))
}

/** Loads a dataset from its folder (anywhere). */
export function loadDatasetDir(dir: string): Dataset {
  return datasetFromManifest(path.resolve(dir), readDatasetManifest(dir))
}

export interface DatasetListEntry {
  name: string
  dir: string
  ok: boolean
  error?: string
  tokenizer?: TokenizerName
  vocabSize?: number
  trainTokens?: number
  valTokens?: number
  trainDocs?: number | null
  valDocs?: number | null
  shards?: number
  sourceKind?: DatasetSourceKind
  createdAt?: string
  description?: string
}

/** Every dataset folder under `<dataDir>/datasets`, sorted by name (broken manifests are listed with `ok: false`). */
export function listDatasets(dataDir: string): DatasetListEntry[] {
  const root = datasetsRoot(dataDir)
  let names: string[]
  try {
    names = fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
  } catch {
    return []
  }
  return names.sort().map((name) => {
    const dir = path.join(root, name)
    try {
      const m = readDatasetManifest(dir)
      const entry: DatasetListEntry = {
        name: m.name,
        dir,
        ok: true,
        tokenizer: m.tokenizer,
        vocabSize: m.vocabSize,
        trainTokens: m.splits.train.tokens,
        valTokens: m.splits.val.tokens,
        trainDocs: m.splits.train.docs,
        valDocs: m.splits.val.docs,
        shards: m.splits.train.shards.length + m.splits.val.shards.length,
        sourceKind: m.source.kind,
        createdAt: m.createdAt,
      }
      if (m.description !== undefined) entry.description = m.description
      return entry
    } catch (e) {
      return { name, dir, ok: false, error: (e as Error).message }
    }
  })
}

/**
 * Checks that a dataset's shards are present and match the manifest (header token counts and sizes; with
 * `hash`, also the sha256). Returns a list of problems (empty when all is well).
 */
export function verifyDataset(ds: Dataset, opts: { hash?: boolean } = {}): string[] {
  const problems: string[] = []
  for (const split of ['train', 'val'] as const) {
    for (const s of ds.manifest.splits[split].shards) {
      const f = path.resolve(ds.dir, s.file)
      try {
        const h = readShardHeader(f)
        if (h.numTokens !== s.numTokens || h.fileBytes !== s.bytes)
          problems.push(`${f}: manifest says ${s.numTokens} tokens / ${s.bytes} bytes, file has ${h.numTokens} / ${h.fileBytes}`)
        else if (opts.hash && s.sha256 && sha256File(f) !== s.sha256) problems.push(`${f}: sha256 differs from the manifest`)
      } catch (e) {
        problems.push((e as Error).message)
      }
    }
  }
  return problems
}

/** What training needs from a dataset, however it was named. */
export interface ResolvedDataset {
  name: string
  kind: 'dataset' | 'default-corpus' | 'shards'
  trainPaths: string[]
  valPaths: string[]
  tokenizer: TokenizerName
  vocabSize: number
  eot: number
  trainTokens: number
  valTokens: number
  manifest: DatasetManifest | null
  warnings: string[]
}

export interface ResolveOptions {
  /** the model's vocab_size: checked with checkVocabFits */
  vocabSize?: number
  /** tokenizer of raw .bin shards given by glob (default 'gpt2', as the reference FineWeb shards) */
  tokenizer?: TokenizerName
  /** separate validation shards (glob) for a train glob */
  val?: string
  /** build the shipped corpus if it is not prepared yet (default true) */
  build?: boolean
  /** passed to ensureDefaultCorpus when it builds */
  workers?: number
  cwd?: string
}

/** A shard file name that belongs to the validation split: `…val…` / `…validation…` as a word. */
export function isValShardName(file: string): boolean {
  return /(^|[^a-z])val(idation)?([^a-z]|$)/i.test(path.basename(file))
}

function sumTokens(paths: string[]): number {
  return paths.reduce((s, p) => s + readShardHeader(p).numTokens, 0)
}

/**
 * Turns what a user typed into train/val shard paths + tokenizer:
 * - 'default' / 'default-byte' / 'default-gpt2': the shipped corpus (prepared on first use);
 * - a dataset name in `<dataDir>/datasets`;
 * - a dataset folder (with dataset.json);
 * - a glob or list of `.bin` files, or a folder of them: files whose name has "val" as a word are the validation
 *   split (or give `opts.val`), the rest train; every header is validated.
 * With `opts.vocabSize`, checks the dataset fits the model's vocabulary.
 */
export async function resolveDataset(dataDir: string, nameOrPath: string, opts: ResolveOptions = {}): Promise<ResolvedDataset> {
  let out: ResolvedDataset
  const defaultTok = DEFAULT_CORPUS_NAMES[nameOrPath]
  if (defaultTok) {
    const { ensureDefaultCorpus, defaultCorpusName, isDefaultCorpusReady } = await import('./corpus.js')
    if (opts.build === false && !isDefaultCorpusReady({ dataDir, tokenizer: defaultTok }))
      throw new DatasetError(`the shipped corpus "${defaultCorpusName(defaultTok)}" is not prepared in ${dataDir} yet`)
    const m = await ensureDefaultCorpus({ dataDir, tokenizer: defaultTok, ...(opts.workers === undefined ? {} : { workers: opts.workers }) })
    const ds = datasetFromManifest(datasetDir(dataDir, m.name), m)
    out = fromDataset(ds, 'default-corpus')
  } else if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(nameOrPath) && fs.existsSync(path.join(datasetDir(dataDir, nameOrPath), DATASET_MANIFEST))) {
    out = fromDataset(loadDataset(dataDir, nameOrPath), 'dataset')
  } else {
    const p = path.resolve(opts.cwd ?? process.cwd(), nameOrPath)
    if (!hasGlobMagic(nameOrPath) && fs.existsSync(path.join(p, DATASET_MANIFEST))) out = fromDataset(loadDatasetDir(p), 'dataset')
    else out = resolveShardGlob(nameOrPath, opts)
  }
  if (opts.vocabSize !== undefined) checkVocabFits(out, opts.vocabSize)
  return out
}

function fromDataset(ds: Dataset, kind: ResolvedDataset['kind']): ResolvedDataset {
  const warnings: string[] = []
  if (ds.valPaths.length === 0) warnings.push(`dataset "${ds.name}" has no validation split`)
  return {
    name: ds.name,
    kind,
    trainPaths: ds.trainPaths,
    valPaths: ds.valPaths,
    tokenizer: ds.tokenizer,
    vocabSize: ds.vocabSize,
    eot: ds.eot,
    trainTokens: ds.manifest.splits.train.tokens,
    valTokens: ds.manifest.splits.val.tokens,
    manifest: ds.manifest,
    warnings,
  }
}

function expandShardInput(input: string, cwd: string): string[] {
  const abs = path.resolve(cwd, input)
  if (!hasGlobMagic(input)) {
    let st: fs.Stats
    try {
      st = fs.statSync(abs)
    } catch {
      throw new DatasetError(`"${input}" is not a dataset name, a dataset folder, a .bin file or a glob that matches anything`)
    }
    if (st.isDirectory()) return expandGlob(path.join(abs, '*.bin'))
    return [abs]
  }
  return expandGlob(abs)
}

function resolveShardGlob(input: string, opts: ResolveOptions): ResolvedDataset {
  const cwd = opts.cwd ?? process.cwd()
  const tokenizer = opts.tokenizer ?? 'gpt2'
  const files = input.split(',').flatMap((part) => expandShardInput(part.trim(), cwd))
  if (files.length === 0) throw new DatasetError(`no files match "${input}"`)
  let trainPaths: string[]
  let valPaths: string[]
  if (opts.val !== undefined) {
    trainPaths = files
    valPaths = opts.val.split(',').flatMap((part) => expandShardInput(part.trim(), cwd))
    if (valPaths.length === 0) throw new DatasetError(`no files match the validation glob "${opts.val}"`)
  } else {
    valPaths = files.filter(isValShardName)
    trainPaths = files.filter((f) => !isValShardName(f))
  }
  if (trainPaths.length === 0)
    throw new DatasetError(`"${input}" matches only validation shards (${valPaths.map((f) => path.basename(f)).join(', ')}); give the training shards too`)
  const warnings: string[] = []
  if (valPaths.length === 0) warnings.push(`no validation shards among the files matching "${input}" (name them *_val_*.bin or pass a validation glob)`)
  const info = TOKENIZER_INFO[tokenizer]
  return {
    name: input,
    kind: 'shards',
    trainPaths,
    valPaths,
    tokenizer,
    vocabSize: info.vocabSize,
    eot: info.eot,
    trainTokens: sumTokens(trainPaths),
    valTokens: sumTokens(valPaths),
    manifest: null,
    warnings,
  }
}

/**
 * A dataset tokenized with vocabulary V can train a model with vocab_size ≥ V (ids must be < vocab_size);
 * anything smaller is refused with a message that says what to change.
 */
export function checkVocabFits(data: { name: string; tokenizer: TokenizerName | string; vocabSize: number }, modelVocabSize: number): void {
  if (!isTokenizerName(data.tokenizer)) throw new DatasetError(`dataset "${data.name}": unknown tokenizer "${data.tokenizer}"`)
  if (data.vocabSize > modelVocabSize)
    throw new DatasetError(
      `dataset "${data.name}" is tokenized with ${data.tokenizer} (vocabulary ${data.vocabSize}), but the model's vocab_size is ${modelVocabSize}: ` +
        `set vocab_size to at least ${data.vocabSize}` +
        (data.tokenizer === 'gpt2' ? ", or use a byte-level dataset (e.g. 'default') with vocab_size 257" : ''),
    )
}
