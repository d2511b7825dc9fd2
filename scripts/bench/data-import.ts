/**
 * Import throughput: MB/s of input and tokens/s for each format, with 1 worker thread and with all of them,
 * side by side.
 *
 *   npx tsx scripts/bench/data-import.ts [--mb 12] [--tokenizer gpt2|byte] [--formats txt,jsonl,jsonl.gz,parquet,parquet-gzip,bin]
 *                                        [--workers 1,N] [--json out.json]
 *
 * Input: the shipped corpus (State of the Union + Moby-Dick, real English), repeated or cut to about --mb MB and
 * written once per format into a temporary folder: a folder of .txt files (one per document), one .jsonl, the
 * same gzipped, Parquet (row groups of 1000 rows; 'parquet' = SNAPPY codec with literal-only blocks from our
 * test writer, i.e. uncompressed payload, 'parquet-gzip' = GZIP), and .bin shards (copy + full validation, no
 * tokenization: the worker count does not apply). Every run is a fresh process (no tokenizer cache carries over)
 * importing into a new dataset; the time is importDataset's wall time, worker start-up and shard writing included.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { loadDefaultCorpusText } from '../../core/data/corpus.js'
import { loadDataset } from '../../core/data/dataset.js'
import { defaultWorkerCount, importDataset, type ImportOptions } from '../../core/data/import/index.js'
import { writeParquet } from '../../core/export/parquet-writer.js'
import type { TokenizerName } from '../../core/tokenizer/types.js'

const { values: a } = parseArgs({
  options: {
    mb: { type: 'string', default: '12' },
    tokenizer: { type: 'string', default: 'gpt2' },
    formats: { type: 'string', default: 'txt,jsonl,jsonl.gz,parquet,parquet-gzip,bin' },
    workers: { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** internal: run one import in this (fresh) process and print its JSON result */
    child: { type: 'string' },
  },
})

if (a.child) {
  // one measurement in a fresh process, so no tokenizer cache carries over between runs
  const spec = JSON.parse(a.child) as { opts: ImportOptions }
  const t0 = performance.now()
  const m = await importDataset(spec.opts)
  const seconds = (performance.now() - t0) / 1000
  process.stdout.write(JSON.stringify({ seconds, tokens: m.import!.tokens, workers: m.import!.workers, name: m.name }) + '\n')
  process.exit(0)
}

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
const tokenizer = a.tokenizer as TokenizerName
const workerCounts = (a.workers ?? `1,${cores}`).split(',').map(Number)
const formats = a.formats!.split(',')
const targetBytes = Number(a.mb) * 1e6

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-bench-data-'))
const inputs = path.join(root, 'inputs')
fs.mkdirSync(inputs)

// ---- inputs --------------------------------------------------------------------------------------------------
const corpus = loadDefaultCorpusText()
const docs: string[] = []
let bytes = 0
for (let rep = 0; bytes < targetBytes; rep++) {
  for (const d of corpus.docs) {
    if (bytes >= targetBytes) break
    const t = rep === 0 ? d.text : `${d.text}\n[copy ${rep}]`
    docs.push(t)
    bytes += Buffer.byteLength(t, 'utf8')
  }
}
const write = (rel: string, content: string | Buffer): string => {
  const f = path.join(inputs, rel)
  fs.mkdirSync(path.dirname(f), { recursive: true })
  fs.writeFileSync(f, content)
  return f
}
const sources: Record<string, { from: string; format: ImportOptions['format']; bytes: number }> = {}
const dirSize = (p: string): number => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).reduce((s, f) => s + dirSize(path.join(p, f)), 0) : fs.statSync(p).size)
if (formats.includes('txt')) {
  docs.forEach((t, i) => write(`txt/${String(i).padStart(6, '0')}.txt`, t))
  sources.txt = { from: path.join(inputs, 'txt'), format: 'txt', bytes: dirSize(path.join(inputs, 'txt')) }
}
const jsonl = docs.map((t, i) => JSON.stringify({ id: i, text: t })).join('\n') + '\n'
if (formats.includes('jsonl')) sources.jsonl = { from: write('data.jsonl', jsonl), format: 'jsonl', bytes: Buffer.byteLength(jsonl) }
if (formats.includes('jsonl.gz')) {
  const gz = gzipSync(jsonl, { level: 6 })
  sources['jsonl.gz'] = { from: write('data.jsonl.gz', gz), format: 'jsonl', bytes: gz.length }
}
for (const [name, codec] of [
  ['parquet', 'SNAPPY'],
  ['parquet-gzip', 'GZIP'],
] as const) {
  if (!formats.includes(name)) continue
  const f = path.join(inputs, `${name}.parquet`)
  writeParquet(
    f,
    [
      { name: 'id', type: 'int64', values: docs.map((_, i) => i) },
      { name: 'text', type: 'string', values: docs },
    ],
    { rowGroupSize: 1000, codec },
  )
  sources[name] = { from: f, format: 'parquet', bytes: fs.statSync(f).size }
}

// ---- runs ----------------------------------------------------------------------------------------------------
interface Row {
  format: string
  inputMB: number
  workers: number
  seconds: number
  mbPerSec: number
  tokens: number
  tokensPerSec: number
}
const rows: Row[] = []
const dataDir = path.join(root, 'data')
let runId = 0
const self = new URL(import.meta.url).pathname
async function run(format: string, opts: Omit<ImportOptions, 'dataDir' | 'name'>, inputBytes: number, workers: number): Promise<string> {
  const name = `run${++runId}`
  const full: ImportOptions = { dataDir, name, tokenizer, valFraction: 0.05, ...opts }
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify({ opts: full })], { encoding: 'utf8', maxBuffer: 1 << 24 })
  const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; tokens: number }
  rows.push({ format, inputMB: inputBytes / 1e6, workers, seconds: r.seconds, mbPerSec: inputBytes / 1e6 / r.seconds, tokens: r.tokens, tokensPerSec: r.tokens / r.seconds })
  process.stderr.write(`${format} workers=${workers}: ${r.seconds.toFixed(2)} s\n`)
  return name
}

let binSource: string | undefined
for (const [fmt, src] of Object.entries(sources)) {
  for (const w of workerCounts) {
    const name = await run(fmt, { from: src.from, format: src.format, workers: w }, src.bytes, w)
    binSource ??= name
  }
}
if (formats.includes('bin')) {
  if (!binSource) binSource = await run('jsonl (for bin)', { from: write('seed.jsonl', jsonl), format: 'jsonl', workers: defaultWorkerCount() }, Buffer.byteLength(jsonl), defaultWorkerCount())
  const ds = loadDataset(dataDir, binSource)
  const binDir = path.join(inputs, 'bin')
  fs.mkdirSync(binDir)
  for (const p of [...ds.trainPaths, ...ds.valPaths]) fs.copyFileSync(p, path.join(binDir, path.basename(p)))
  const binBytes = dirSize(binDir)
  await run('bin (copy+validate)', { from: path.join(binDir, '*.bin'), format: 'bin' }, binBytes, 0)
}

// ---- report --------------------------------------------------------------------------------------------------
const fmtN = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const byFormat = new Map<string, Row[]>()
for (const r of rows) byFormat.set(r.format, [...(byFormat.get(r.format) ?? []), r])
const head = ['format', 'input MB', ...workerCounts.flatMap((w) => [`MB/s (${w}w)`, `tok/s (${w}w)`]), 'tokens']
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
for (const [fmt, rs] of byFormat) {
  const cells = [fmt, fmtN(rs[0]!.inputMB)]
  for (const w of workerCounts) {
    const r = rs.find((x) => x.workers === w) ?? (rs[0]!.workers === 0 ? rs[0] : undefined)
    cells.push(r ? fmtN(r.mbPerSec) : '—', r ? fmtN(r.tokensPerSec / 1e6, 2) + ' M' : '—')
  }
  cells.push(rs[0]!.tokens.toLocaleString('en-US'))
  lines.push(`| ${cells.join(' | ')} |`)
}
const header = `data import benchmark: ${tokenizer} tokenizer, ${fmtN(bytes / 1e6)} MB of text (${docs.length} documents), node ${process.version}, ${cores} cores (${os.cpus()[0]?.model ?? 'cpu'}), workers ${workerCounts.join(' vs ')}`
console.log(header)
console.log(lines.join('\n'))
if (a.json) fs.writeFileSync(a.json, JSON.stringify({ header, tokenizer, textBytes: bytes, docs: docs.length, cores, rows }, null, 2))
if (!a.keep) fs.rmSync(root, { recursive: true, force: true })
else console.log(`kept ${root}`)
