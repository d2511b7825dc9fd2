import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeDocuments, getTokenizer, type TokenizerName } from '../../tokenizer/index.js'
import { loadDataset, type DatasetManifest } from '../dataset.js'
import { ShardError, readShard, readShardHeader, writeShard } from '../shard.js'
import { ImportAbortedError, ImportError, importDataset, normalizeText, type ImportOptions, type ImportProgress } from './index.js'
import { writeParquet } from '../../export/parquet-writer.js'

let root: string
let dataDir: string
let n = 0
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-import-'))
  dataDir = path.join(root, 'data')
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function input(rel: string, content: string | Buffer): string {
  const f = path.join(root, 'in', rel)
  fs.mkdirSync(path.dirname(f), { recursive: true })
  fs.writeFileSync(f, content)
  return f
}

function uniq(prefix: string): string {
  return `${prefix}${++n}`
}

/** Decoded documents of one split, in stored order. */
function splitDocs(m: DatasetManifest, split: 'train' | 'val'): string[] {
  const ds = loadDataset(dataDir, m.name)
  const tok = getTokenizer(m.tokenizer)
  const paths = split === 'train' ? ds.trainPaths : ds.valPaths
  const all = paths.flatMap((p) => Array.from(readShard(p, { vocabSize: m.vocabSize })))
  return decodeDocuments(tok, all)
}

function allDocs(m: DatasetManifest): string[] {
  return [...splitDocs(m, 'train'), ...splitDocs(m, 'val')]
}

function datasetFolderEntries(): string[] {
  const d = path.join(dataDir, 'datasets')
  return fs.existsSync(d) ? fs.readdirSync(d) : []
}

async function imp(opts: Omit<ImportOptions, 'dataDir' | 'name'> & { name?: string }): Promise<DatasetManifest> {
  return importDataset({ dataDir, name: opts.name ?? uniq('ds'), workers: 0, ...opts })
}

describe('txt folder import', () => {
  it('imports every .txt (recursively), normalises, and counts skips', async () => {
    const dir = path.join(root, 'in', 'txt1')
    input('txt1/a.txt', 'Alpha document.\nSecond line.')
    input('txt1/b.txt', '\ufeffWindows\r\nline endings\r\n')
    input('txt1/nested/c.txt', 'Nested “unicode” — text 😀')
    input('txt1/empty.txt', '')
    input('txt1/blank.txt', '  \n\t\n')
    input('txt1/bad.txt', Buffer.from([0x48, 0x69, 0xff, 0xfe, 0x21]))
    input('txt1/notes.md', '# not imported')
    const m = await imp({ from: dir, format: 'txt', tokenizer: 'byte', valFraction: 0 })
    const s = m.import!
    expect(s.files).toBe(6)
    expect(s.filesIgnored).toBe(1)
    expect(s.docsWritten).toBe(3)
    expect(s.skipped).toMatchObject({ empty: 2, invalidUtf8: 1 })
    expect(s.docsSeen).toBe(6)
    expect(s.skippedExamples.map((e) => e.reason).sort()).toEqual(['empty', 'empty', 'invalidUtf8'])
    expect(allDocs(m)).toEqual(['Alpha document.\nSecond line.', 'Windows\nline endings\n', 'Nested “unicode” — text 😀'])
    expect(m.splits.val).toEqual({ docs: 0, tokens: 0, shards: [] })
    expect(m.tokenizer).toBe('byte')
    expect(m.vocabSize).toBe(257)
    // invalid UTF-8 can be kept with replacement characters instead
    const r = await imp({ from: path.join(dir, 'bad.txt'), format: 'txt', tokenizer: 'byte', valFraction: 0, invalidUtf8: 'replace' })
    expect(r.import!.utf8Replaced).toBe(1)
    expect(allDocs(r)).toEqual(['Hi\ufffd\ufffd!'])
  })

  it('gives byte-identical shards for any worker count, with GPT-2', async () => {
    const dir = path.join(root, 'in', 'txt2')
    for (let i = 0; i < 40; i++) input(`txt2/doc${String(i).padStart(2, '0')}.txt`, `Document number ${i}. ` + 'The whale, the whale! '.repeat(20 + i))
    const a = await imp({ from: dir, tokenizer: 'gpt2', valFraction: 0.2, workers: 0 })
    const b = await imp({ from: dir, tokenizer: 'gpt2', valFraction: 0.2, workers: 2 })
    expect(b.import!.workers).toBe(2)
    expect(a.import!.format).toBe('txt') // auto-detected
    expect(b.splits.train.shards.map((s) => s.sha256)).toEqual(a.splits.train.shards.map((s) => s.sha256))
    expect(b.splits.val.shards.map((s) => s.sha256)).toEqual(a.splits.val.shards.map((s) => s.sha256))
    expect(a.splits.val.docs! + a.splits.train.docs!).toBe(40)
    expect(a.splits.val.docs).toBeGreaterThan(0)
    // every document exactly once across the splits; each split keeps the input order
    const docs = allDocs(b)
    expect([...docs].sort()).toEqual(fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).sort())
    const tr = splitDocs(b, 'train')
    expect(tr).toEqual([...tr].sort((x, y) => Number(/\d+/.exec(x)![0]) - Number(/\d+/.exec(y)![0])))
    // shards start with EOT and are valid
    const first = readShard(loadDataset(dataDir, b.name).trainPaths[0]!)
    expect(first[0]).toBe(50256)
  })

  it('falls back to the calling thread when worker threads cannot start', async () => {
    const f = input('fallback/a.txt', 'still imported')
    const m = await imp({ from: f, tokenizer: 'byte', workers: 2, workerUrl: new URL('file:///nonexistent/tokenize-worker.js'), valFraction: 0 })
    expect(m.import!.workers).toBe(0)
    expect(m.import!.warnings.join()).toMatch(/worker threads unavailable/)
    expect(allDocs(m)).toEqual(['still imported'])
  })

  it('splits by document with the seed: same seed same split, other seed other split', async () => {
    const dir = path.join(root, 'in', 'txt3')
    for (let i = 0; i < 30; i++) input(`txt3/${i}.txt`, `doc ${i}`)
    const a = await imp({ from: dir, tokenizer: 'byte', valFraction: 0.3, seed: 7 })
    const b = await imp({ from: dir, tokenizer: 'byte', valFraction: 0.3, seed: 7 })
    const c = await imp({ from: dir, tokenizer: 'byte', valFraction: 0.3, seed: 8 })
    expect(splitDocs(b, 'val')).toEqual(splitDocs(a, 'val'))
    expect(splitDocs(c, 'val')).not.toEqual(splitDocs(a, 'val'))
    expect(a.split).toEqual({ method: 'document-random', valFraction: 0.3, seed: 7 })
  })

  it('puts one document in validation even when the draw picked none', async () => {
    const dir = path.join(root, 'in', 'txt4')
    for (let i = 0; i < 3; i++) input(`txt4/${i}.txt`, `tiny ${i}`)
    const m = await imp({ from: dir, tokenizer: 'byte', valFraction: 0.01 })
    expect(m.splits.val.docs).toBe(1)
    expect(m.splits.train.docs).toBe(2)
    expect(splitDocs(m, 'val')).toEqual(['tiny 2'])
    const one = await imp({ from: path.join(dir, '0.txt'), tokenizer: 'byte', valFraction: 0.01 })
    expect(one.splits.val.docs).toBe(0)
    expect(one.import!.warnings.join()).toMatch(/validation split is empty/)
  })

  it('streams a file larger than maxDocBytes as chunks of one document', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => `line ${i} with ünïcödé and some words`).join('\n')
    const f = input('big/big.txt', big)
    const m = await imp({ from: f, format: 'txt', tokenizer: 'byte', valFraction: 0, maxDocBytes: 4096 })
    expect(m.import!.docsChunked).toBe(1)
    expect(m.splits.train.docs).toBe(1)
    expect(allDocs(m)).toEqual([big])
    // one EOT only
    const toks = readShard(loadDataset(dataDir, m.name).trainPaths[0]!)
    expect(toks.filter((t) => t === 256).length).toBe(1)
  })
})

describe('jsonl import', () => {
  const lines = [
    JSON.stringify({ text: 'first record', id: 1 }),
    '{"text": "broken',
    JSON.stringify({ id: 3 }),
    JSON.stringify({ text: 42 }),
    JSON.stringify({ text: '' }),
    '',
    '   ',
    JSON.stringify({ text: 'crlf\r\nrecord' }) + '\r',
    JSON.stringify({ text: 'x'.repeat(500) }),
    JSON.stringify({ text: 'lone surrogate \ud800 here' }),
    JSON.stringify({ text: null }),
    '[1, 2, 3]',
    JSON.stringify({ text: 'last record, no newline' }),
  ]
  const body = Buffer.concat([Buffer.from(lines.slice(0, 9).join('\n') + '\n'), Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]), Buffer.from(lines.slice(9).join('\n'))])

  it('skips malformed, missing, wrong-typed, empty, invalid-UTF-8 and over-long records with counts', async () => {
    const f = input('j/data.jsonl', body)
    const m = await imp({ from: f, tokenizer: 'byte', valFraction: 0, maxLineBytes: 300 })
    const s = m.import!
    expect(s.skipped).toEqual({ empty: 1, invalidUtf8: 1, malformedJson: 1, missingField: 3, wrongType: 1, tooLong: 1, unreadable: 0 })
    expect(allDocs(m)).toEqual(['first record', 'crlf\nrecord', 'lone surrogate \ufffd here', 'last record, no newline'])
    expect(s.skippedExamples.find((e) => e.reason === 'malformedJson')!.where).toBe(`${f}:2`)
    expect(m.source).toMatchObject({ kind: 'jsonl', textField: 'text' })
  })

  it('reads .jsonl.gz to the same tokens and reads a dotted field', async () => {
    const plain = input('j2/a.jsonl', body)
    const gz = input('j2gz/a.jsonl.gz', gzipSync(body))
    const a = await imp({ from: plain, tokenizer: 'byte', valFraction: 0, maxLineBytes: 300 })
    const b = await imp({ from: gz, tokenizer: 'byte', valFraction: 0, maxLineBytes: 300 })
    expect(b.splits.train.shards[0]!.sha256).toBe(a.splits.train.shards[0]!.sha256)
    expect(b.import!.bytesRead).toBe(fs.statSync(gz).size)
    const nested = input('j3/n.jsonl', [{ meta: { body: 'deep one' } }, { meta: { body: 'deep two' } }, { meta: 'flat' }].map((r) => JSON.stringify(r)).join('\n'))
    const c = await imp({ from: nested, tokenizer: 'byte', valFraction: 0, textField: 'meta.body' })
    expect(allDocs(c)).toEqual(['deep one', 'deep two'])
    expect(c.import!.skipped.missingField).toBe(1)
  })

  it('fails clearly on truncated gzip and leaves nothing behind', async () => {
    const gz = gzipSync(Buffer.from(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ text: `row ${i} ` + 'abc '.repeat(20) })).join('\n')))
    const f = input('j4/cut.jsonl.gz', gz.subarray(0, Math.floor(gz.length / 2)))
    const before = datasetFolderEntries()
    const name = uniq('cut')
    await expect(imp({ name, from: f, tokenizer: 'byte' })).rejects.toThrow(/cut\.jsonl\.gz: corrupt or truncated gzip data/)
    expect(datasetFolderEntries()).toEqual(before)
  })

  it('says which fields exist when the text field is missing everywhere', async () => {
    const f = input('j5/other.jsonl', Array.from({ length: 1200 }, (_, i) => JSON.stringify({ content: `c${i}`, url: 'u' })).join('\n'))
    await expect(imp({ from: f, tokenizer: 'byte' })).rejects.toThrow(/field "text" is missing in the first 1000 records .*fields seen: content, url/)
    const g = input('j5/few.jsonl', JSON.stringify({ content: 'x' }))
    await expect(imp({ from: g, tokenizer: 'byte' })).rejects.toThrow(/no documents to import .*1 missingField/)
  })

  it('rejects empty inputs with a clear error', async () => {
    const f = input('j6/empty.jsonl', '')
    await expect(imp({ from: f, tokenizer: 'byte' })).rejects.toThrow(/no documents to import.*1 empty/)
    await expect(imp({ from: path.join(root, 'in', 'nope'), tokenizer: 'byte' })).rejects.toThrow(/no such file or folder/)
  })
})

describe('pathological input', () => {
  it('a 200k-character unbroken string tokenizes quickly with GPT-2 and round-trips', async () => {
    const word = 'ACGT'.repeat(50_000)
    const f = input('p/dna.jsonl', JSON.stringify({ text: `genome: ${word} end` }) + '\n' + JSON.stringify({ text: 'normal' }))
    const t0 = performance.now()
    const m = await imp({ from: f, tokenizer: 'gpt2', valFraction: 0, workers: 1 })
    expect(performance.now() - t0).toBeLessThan(20_000)
    expect(m.import!.longRunsSplit).toBe(1)
    expect(allDocs(m)).toEqual([`genome: ${word} end`, 'normal'])
  })
})

describe('parquet import', () => {
  it('reads the text column row group by row group, for each codec', async () => {
    const texts = Array.from({ length: 25 }, (_, i) => `Parquet row ${i}: ` + 'lorem ipsum '.repeat(i))
    for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP'] as const) {
      const f = path.join(root, 'in', `pq-${codec}.parquet`)
      fs.mkdirSync(path.dirname(f), { recursive: true })
      writeParquet(
        f,
        [
          { name: 'id', type: 'int64', values: texts.map((_, i) => i) },
          { name: 'text', type: 'string', values: texts },
          { name: 'score', type: 'double', values: texts.map(() => 0.5) },
        ],
        { rowGroupSize: 7, codec },
      )
      const m = await imp({ from: f, tokenizer: 'byte', valFraction: 0 })
      expect(m.import!.format).toBe('parquet')
      expect(allDocs(m)).toEqual(texts)
      expect(m.import!.bytesRead).toBe(fs.statSync(f).size)
    }
  })

  it('counts nulls, empty strings and invalid UTF-8; picks a chosen or the first string column', async () => {
    const f = path.join(root, 'in', 'pq-mixed.parquet')
    writeParquet(f, [
      { name: 'id', type: 'int64', values: [1, 2, 3, 4, 5] },
      { name: 'body', type: 'string', optional: true, values: ['one', null, '', Buffer.from([0x61, 0xff]), 'five'] },
      { name: 'title', type: 'string', values: ['t1', 't2', 't3', 't4', 't5'] },
    ])
    const m = await imp({ from: f, tokenizer: 'byte', valFraction: 0 }) // no "text" column: first string column = body
    expect(allDocs(m)).toEqual(['one', 'five'])
    expect(m.source.textField).toBe('body')
    expect(m.import!.skipped).toMatchObject({ missingField: 1, empty: 1, invalidUtf8: 1 })
    const t = await imp({ from: f, tokenizer: 'byte', valFraction: 0, textField: 'title' })
    expect(allDocs(t)).toEqual(['t1', 't2', 't3', 't4', 't5'])
    await expect(imp({ from: f, tokenizer: 'byte', textField: 'content' })).rejects.toThrow(/no column "content"; columns: id, body, title \(text columns: body, title\)/)
    await expect(imp({ from: f, tokenizer: 'byte', textField: 'id' })).rejects.toThrow(/column "id" is not a string column \(INT64\)/)
    const g = path.join(root, 'in', 'pq-nostring.parquet')
    writeParquet(g, [{ name: 'x', type: 'double', values: [1, 2] }])
    await expect(imp({ from: g, tokenizer: 'byte' })).rejects.toThrow(/no string column to read text from; columns: x \(DOUBLE\)/)
    const bad = input('pq-bad/junk.parquet', 'this is not parquet at all, just text')
    await expect(imp({ from: bad, tokenizer: 'byte' })).rejects.toThrow(/junk\.parquet: not a readable Parquet file/)
  })
})

describe('bin shard import', () => {
  function shards(dir: string): void {
    fs.mkdirSync(path.join(root, 'in', dir), { recursive: true })
    const p = (f: string): string => path.join(root, 'in', dir, f)
    writeShard(p('fineweb_val_000000.bin'), [50256, 1, 2, 3, 50256, 4, 5])
    writeShard(p('fineweb_train_000001.bin'), [50256, 10, 11, 12, 13, 50256, 14])
    writeShard(p('fineweb_train_000002.bin'), [50256, 20, 21])
  }

  it('imports by glob, splits by file name, validates, counts documents and copies', async () => {
    shards('bins')
    const m = await imp({ from: path.join(root, 'in', 'bins', 'fineweb_*.bin'), format: 'bin', tokenizer: 'gpt2' })
    expect(m.splits.train).toMatchObject({ docs: 3, tokens: 10 })
    expect(m.splits.val).toMatchObject({ docs: 2, tokens: 7 })
    expect(m.storage).toBe('copied')
    const ds = loadDataset(dataDir, m.name)
    expect(ds.trainPaths.map((p) => path.basename(p))).toEqual([`${m.name}_train_000000.bin`, `${m.name}_train_000001.bin`])
    expect(Array.from(readShard(ds.trainPaths[1]!))).toEqual([50256, 20, 21])
    expect(m.splits.train.shards[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)
    const r = await imp({ from: path.join(root, 'in', 'bins'), binMode: 'reference', tokenizer: 'gpt2' })
    expect(r.storage).toBe('referenced')
    expect(loadDataset(dataDir, r.name).valPaths).toEqual([path.join(root, 'in', 'bins', 'fineweb_val_000000.bin')])
  })

  it('refuses shards with ids outside the tokenizer vocabulary, and rewrites legacy headers', async () => {
    shards('bins2')
    const bad = path.join(root, 'in', 'bins2', 'fineweb_train_000001.bin')
    await expect(imp({ from: path.join(root, 'in', 'bins2', '*.bin'), tokenizer: 'byte' })).rejects.toThrow(ShardError)
    await expect(imp({ from: path.join(root, 'in', 'bins2', '*.bin'), tokenizer: 'byte' })).rejects.toThrow(/token id 50256 at position 0 is not below the vocabulary size 257/)
    expect(fs.existsSync(bad)).toBe(true)
    const hdr = Buffer.alloc(12)
    hdr.writeInt32LE(20240520, 0)
    hdr.writeInt32LE(1, 4)
    hdr.writeInt32LE(3, 8)
    const legacy = input('bins3/legacy_train.bin', Buffer.concat([hdr, Buffer.from(new Uint16Array([256, 65, 66]).buffer)]))
    const m = await imp({ from: legacy, format: 'bin', tokenizer: 'byte' })
    const ds = loadDataset(dataDir, m.name)
    expect(readShardHeader(ds.trainPaths[0]!).headerBytes).toBe(1024)
    expect(Array.from(readShard(ds.trainPaths[0]!))).toEqual([256, 65, 66])
    expect(m.import!.warnings.join()).toMatch(/legacy 12-byte header/)
  })
})

describe('dataset lifecycle: names, overwrite, progress, cancellation', () => {
  it('removes build folders left by a killed import (dead pid) but not live ones', async () => {
    const d = path.join(dataDir, 'datasets')
    fs.mkdirSync(path.join(d, '.tmp-dead-2147483646-0123abcd'), { recursive: true })
    fs.writeFileSync(path.join(d, '.tmp-dead-2147483646-0123abcd', 'dead_train_000000.bin.tmp-2147483646-00ff00ff'), 'partial')
    fs.mkdirSync(path.join(d, `.tmp-live-${process.pid}-0123abcd`))
    await imp({ from: input('stale/a.txt', 'x'), tokenizer: 'byte' })
    expect(fs.existsSync(path.join(d, '.tmp-dead-2147483646-0123abcd'))).toBe(false)
    expect(fs.existsSync(path.join(d, `.tmp-live-${process.pid}-0123abcd`))).toBe(true)
    fs.rmdirSync(path.join(d, `.tmp-live-${process.pid}-0123abcd`))
  })

  it('refuses to clobber a dataset unless overwrite, and reserved names', async () => {
    const f = input('life/a.txt', 'some text')
    const name = uniq('same')
    await imp({ name, from: f, tokenizer: 'byte' })
    await expect(imp({ name, from: f, tokenizer: 'byte' })).rejects.toThrow(/already exists/)
    const again = await imp({ name, from: f, tokenizer: 'byte', overwrite: true })
    expect(again.name).toBe(name)
    await expect(imp({ name: 'default', from: f, tokenizer: 'byte' })).rejects.toThrow(/reserved/)
    await expect(imp({ name: '../evil', from: f, tokenizer: 'byte' })).rejects.toThrow(/invalid dataset name/)
  })

  it('reports progress with byte totals, rates and a final done event', async () => {
    const dir = path.join(root, 'in', 'prog')
    for (let i = 0; i < 20; i++) input(`prog/${i}.txt`, 'progress text '.repeat(200))
    const events: ImportProgress[] = []
    const m = await imp({ from: dir, tokenizer: 'byte', onProgress: (p) => events.push(p), progressIntervalMs: 0 })
    const last = events[events.length - 1]!
    expect(events[0]!.phase).toBe('scan')
    expect(last.phase).toBe('done')
    expect(last.bytesRead).toBe(last.bytesTotal)
    expect(last.bytesTotal).toBe(20 * 'progress text '.length * 200)
    expect(last.tokens).toBe(m.import!.tokens)
    expect(last.docs).toBe(20)
    expect(events.some((e) => e.phase === 'import' && e.etaMs !== null)).toBe(true)
  })

  it('cancels cleanly: AbortError, no dataset, no temporary folder, no shard files', async () => {
    const dir = path.join(root, 'in', 'cancel')
    for (let i = 0; i < 60; i++) input(`cancel/${i}.jsonl`, Array.from({ length: 200 }, (_, j) => JSON.stringify({ text: `doc ${i}/${j} ` + 'words here '.repeat(60) })).join('\n'))
    const before = datasetFolderEntries()
    for (const workers of [0, 2]) {
      const ac = new AbortController()
      let seen = 0
      const p = imp({
        from: dir,
        tokenizer: 'gpt2',
        workers,
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: (e) => {
          if (e.tokens > 0 && ++seen === 2) ac.abort()
        },
      })
      await expect(p).rejects.toBeInstanceOf(ImportAbortedError)
      expect(datasetFolderEntries()).toEqual(before)
    }
    const pre = new AbortController()
    pre.abort()
    await expect(imp({ from: dir, tokenizer: 'byte', signal: pre.signal })).rejects.toThrow(/cancelled/)
  })

  it('round-trips documents modulo the documented normalisation', () => {
    expect(normalizeText('\ufeffa\r\nb\rc\ud800')).toBe('a\nb\nc\ufffd')
  })
})

describe('every tokenizer round-trips an import', () => {
  for (const tokenizer of ['gpt2', 'byte'] as TokenizerName[]) {
    it(tokenizer, async () => {
      const docs = ['Hello world.', 'Ça va? 😀 日本語', '<|endoftext|> is just text here', 'tabs\tand\nnewlines\n\n']
      const f = input(`rt-${tokenizer}/d.jsonl`, docs.map((t) => JSON.stringify({ text: t })).join('\n'))
      const m = await imp({ from: f, tokenizer, valFraction: 0 })
      expect(allDocs(m)).toEqual(docs)
      expect(m.splits.train.tokens).toBe(readShardHeader(loadDataset(dataDir, m.name).trainPaths[0]!).numTokens)
      expect(m.import!.tokens).toBe(m.splits.train.tokens)
      // EOT appears only as document separator
      const toks = readShard(loadDataset(dataDir, m.name).trainPaths[0]!)
      expect(toks.filter((t) => t === m.eot).length).toBe(docs.length)
    })
  }
})

it('ImportError is the base class of cancellation errors', () => {
  expect(new ImportAbortedError()).toBeInstanceOf(ImportError)
})

it('leaves no temporary folders behind after all of the above (failures included)', () => {
  expect(datasetFolderEntries().filter((e) => e.startsWith('.'))).toEqual([])
})
