import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeDocument, getTokenizer } from '../tokenizer/index.js'
import { formatProgress, formatSummary, importDataset, inspectShard, loadDataset, ShardError, writeShard } from './index.js'

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-inspect-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('inspectShard', () => {
  it('reports header fields, documents and a decoded sample; guesses the tokenizer', () => {
    const gpt2 = getTokenizer('gpt2')
    const toks = [...encodeDocument(gpt2, 'Hello world'), ...encodeDocument(gpt2, 'Second doc')]
    const f = path.join(dir, 'g.bin')
    writeShard(f, toks)
    const r = inspectShard(f)
    expect(r).toMatchObject({ magic: 20240520, version: 1, numTokens: toks.length, headerBytes: 1024, nonZeroHeaderInts: 0, tokenizer: 'gpt2', tokenizerSource: 'guessed from ids', eotCount: 2 })
    expect(r.sample.text).toBe('<|endoftext|>Hello world<|endoftext|>Second doc')
    const b = path.join(dir, 'b.bin')
    writeShard(b, encodeDocument(getTokenizer('byte'), 'bytes!'))
    expect(inspectShard(b, { sampleTokens: 3 })).toMatchObject({ tokenizer: 'byte', eotCount: 1, sample: { ids: [256, 98, 121], text: '<|endoftext|>by' } })
    expect(() => inspectShard(f, { tokenizer: 'byte' })).toThrow(ShardError)
  })

  it('uses the dataset manifest next to the shard', async () => {
    const src = path.join(dir, 'doc.txt')
    fs.writeFileSync(src, 'abc')
    await importDataset({ dataDir: dir, name: 'd', from: src, tokenizer: 'byte', workers: 0, valFraction: 0 })
    const r = inspectShard(loadDataset(dir, 'd').trainPaths[0]!)
    expect(r.tokenizerSource).toBe('dataset manifest')
    expect(r.sample.text).toBe('<|endoftext|>abc')
  })
})

describe('formatting', () => {
  it('formats progress and summaries', async () => {
    expect(
      formatProgress({ phase: 'import', bytesRead: 42.1e6, bytesTotal: 100e6, docs: 12345, tokens: 9.8e6, skipped: 3, elapsedMs: 8000, etaMs: 12000, mbPerSec: 5.2, tokensPerSec: 1.1e6, currentFile: null }),
    ).toBe('42.1 MB / 100.0 MB (42%) · 12.3 k docs · 9.80 M tokens · 3 skipped · 5.2 MB/s · 1.10 M tok/s · ETA 0:12')
    const src = path.join(dir, 'two')
    fs.mkdirSync(src)
    fs.writeFileSync(path.join(src, 'a.txt'), 'a')
    fs.writeFileSync(path.join(src, 'b.txt'), '')
    const m = await importDataset({ dataDir: dir, name: 'two', from: src, tokenizer: 'byte', workers: 0, valFraction: 0 })
    const s = formatSummary(m.import!)
    expect(s).toMatch(/^txt: 2 file\(s\), 0\.0 MB read, 1 of 2 documents, 2 tokens/)
    expect(s).toMatch(/skipped: 1 empty/)
  })
})
