import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DatasetError, checkVocabFits, isValShardName, listDatasets, loadDataset, resolveDataset, verifyDataset } from './dataset.js'
import { datasetDir } from '../paths.js'
import { expandGlob } from './glob.js'
import { importDataset } from './import/index.js'
import { TokenLoader } from './loader.js'
import { writeShard } from './shard.js'

let root: string
let dataDir: string
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-dataset-'))
  dataDir = path.join(root, 'data')
  const src = path.join(root, 'src')
  fs.mkdirSync(src)
  for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(src, `${i}.txt`), `Document ${i}: ` + 'text '.repeat(50))
  await importDataset({ dataDir, name: 'tiny', from: src, tokenizer: 'byte', valFraction: 0.2, workers: 0, description: 'twelve documents' })
  await importDataset({ dataDir, name: 'tiny-gpt2', from: src, tokenizer: 'gpt2', valFraction: 0.2, workers: 0 })
  const shards = path.join(root, 'shards')
  fs.mkdirSync(shards)
  writeShard(path.join(shards, 'fineweb_train_000001.bin'), new Uint16Array(300).fill(7))
  writeShard(path.join(shards, 'fineweb_train_000002.bin'), new Uint16Array(200).fill(8))
  writeShard(path.join(shards, 'fineweb_val_000000.bin'), new Uint16Array(100).fill(9))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('datasets', () => {
  it('lists datasets with their facts, and broken ones as not ok', () => {
    fs.mkdirSync(path.join(dataDir, 'datasets', 'broken'))
    fs.writeFileSync(path.join(dataDir, 'datasets', 'broken', 'dataset.json'), '{"name": 1}')
    const list = listDatasets(dataDir)
    expect(list.map((d) => d.name)).toEqual(['broken', 'tiny', 'tiny-gpt2'])
    const tiny = list.find((d) => d.name === 'tiny')!
    expect(tiny).toMatchObject({ ok: true, tokenizer: 'byte', vocabSize: 257, sourceKind: 'txt', description: 'twelve documents', shards: 2 })
    expect(tiny.trainDocs! + tiny.valDocs!).toBe(12)
    expect(list.find((d) => d.name === 'broken')).toMatchObject({ ok: false })
    expect(list.find((d) => d.name === 'broken')!.error).toMatch(/invalid manifest/)
    fs.rmSync(path.join(dataDir, 'datasets', 'broken'), { recursive: true })
    expect(listDatasets(path.join(root, 'nowhere'))).toEqual([])
  })

  it('loads a dataset: manifest, shard paths, sha256 of every shard', () => {
    const ds = loadDataset(dataDir, 'tiny')
    expect(ds.tokenizer).toBe('byte')
    expect(ds.trainPaths).toEqual([path.join(datasetDir(dataDir, 'tiny'), 'tiny_train_000000.bin')])
    expect(ds.manifest.splits.train.shards[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(ds.manifest.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(ds.manifest.import!.skipped.empty).toBe(0)
    expect(verifyDataset(ds, { hash: true })).toEqual([])
    expect(() => loadDataset(dataDir, 'nope')).toThrow(/no dataset "nope" .*available: tiny, tiny-gpt2/)
  })

  it('detects a tampered or truncated shard', () => {
    const src = path.join(root, 'src')
    return importDataset({ dataDir, name: 'tamper', from: src, tokenizer: 'byte', workers: 0 }).then(() => {
      const ds = loadDataset(dataDir, 'tamper')
      const f = ds.trainPaths[0]!
      const b = fs.readFileSync(f)
      b[2000] = b[2000]! ^ 1
      fs.writeFileSync(f, b)
      expect(verifyDataset(ds)).toEqual([])
      expect(verifyDataset(ds, { hash: true })[0]).toMatch(/sha256 differs/)
      fs.writeFileSync(f, b.subarray(0, b.length - 2))
      expect(verifyDataset(ds)[0]).toMatch(/truncated|bytes/)
    })
  })
})

describe('resolveDataset', () => {
  it('resolves a dataset name and a dataset folder', async () => {
    const r = await resolveDataset(dataDir, 'tiny')
    expect(r).toMatchObject({ name: 'tiny', kind: 'dataset', tokenizer: 'byte', vocabSize: 257, eot: 256 })
    expect(r.trainPaths.length).toBe(1)
    expect(r.valPaths.length).toBe(1)
    expect(r.trainTokens + r.valTokens).toBe(r.manifest!.import!.tokens)
    const byDir = await resolveDataset(dataDir, datasetDir(dataDir, 'tiny-gpt2'))
    expect(byDir).toMatchObject({ name: 'tiny-gpt2', tokenizer: 'gpt2', vocabSize: 50257 })
  })

  it('resolves a glob of .bin shards, splitting train/val by name as the reference files are named', async () => {
    const r = await resolveDataset(dataDir, path.join(root, 'shards', 'fineweb_*.bin'))
    expect(r.kind).toBe('shards')
    expect(r.trainPaths.map((p) => path.basename(p))).toEqual(['fineweb_train_000001.bin', 'fineweb_train_000002.bin'])
    expect(r.valPaths.map((p) => path.basename(p))).toEqual(['fineweb_val_000000.bin'])
    expect(r).toMatchObject({ tokenizer: 'gpt2', trainTokens: 500, valTokens: 100, warnings: [] })
    const only = await resolveDataset(dataDir, 'fineweb_train_*.bin', { cwd: path.join(root, 'shards') })
    expect(only.valPaths).toEqual([])
    expect(only.warnings[0]).toMatch(/no validation shards/)
    const explicit = await resolveDataset(dataDir, 'fineweb_train_000001.bin', { cwd: path.join(root, 'shards'), val: 'fineweb_train_000002.bin', tokenizer: 'byte' })
    expect(explicit.valPaths.map((p) => path.basename(p))).toEqual(['fineweb_train_000002.bin'])
    expect(explicit.vocabSize).toBe(257)
    const folder = await resolveDataset(dataDir, path.join(root, 'shards'))
    expect(folder.trainPaths.length).toBe(2)
    // and a TokenLoader runs on what comes back
    const L = new TokenLoader(r.trainPaths, { batchSize: 2, seqLen: 8, vocabSize: r.vocabSize })
    expect(L.next().inputs[0]).toBe(7)
    L.close()
  })

  it('gives clear errors for unknown names, empty globs and vocabulary mismatches', async () => {
    await expect(resolveDataset(dataDir, 'no-such-thing')).rejects.toThrow(/"no-such-thing" is not a dataset name, a dataset folder, a \.bin file or a glob/)
    await expect(resolveDataset(dataDir, path.join(root, 'shards', 'zzz_*.bin'))).rejects.toThrow(/no files match/)
    await expect(resolveDataset(dataDir, path.join(root, 'shards', '*val*.bin'))).rejects.toThrow(/only validation shards/)
    await expect(resolveDataset(dataDir, 'tiny-gpt2', { vocabSize: 257 })).rejects.toThrow(
      /dataset "tiny-gpt2" is tokenized with gpt2 \(vocabulary 50257\), but the model's vocab_size is 257: set vocab_size to at least 50257/,
    )
    await expect(resolveDataset(dataDir, 'tiny', { vocabSize: 50257 })).resolves.toMatchObject({ name: 'tiny' })
  })

  it('checkVocabFits and isValShardName', () => {
    expect(() => checkVocabFits({ name: 'x', tokenizer: 'byte', vocabSize: 257 }, 256)).toThrow(DatasetError)
    expect(() => checkVocabFits({ name: 'x', tokenizer: 'byte', vocabSize: 257 }, 257)).not.toThrow()
    expect(isValShardName('fineweb_val_000000.bin')).toBe(true)
    expect(isValShardName('tiny_validation.bin')).toBe(true)
    expect(isValShardName('interval_train_000001.bin')).toBe(false)
    expect(isValShardName('eval_000.bin')).toBe(false)
  })
})

describe('glob', () => {
  it('supports *, ?, [..] and ** and sorts like sorted(glob())', () => {
    const g = path.join(root, 'g')
    for (const f of ['a/x_1.bin', 'a/x_2.bin', 'a/y_1.bin', 'a/b/x_3.bin', 'c/x_4.bin', 'a/x_1.txt']) {
      fs.mkdirSync(path.dirname(path.join(g, f)), { recursive: true })
      fs.writeFileSync(path.join(g, f), '')
    }
    const rel = (l: string[]): string[] => l.map((p) => path.relative(g, p))
    expect(rel(expandGlob(path.join(g, 'a', 'x_*.bin')))).toEqual(['a/x_1.bin', 'a/x_2.bin'])
    expect(rel(expandGlob('a/?_1.*', g))).toEqual(['a/x_1.bin', 'a/x_1.txt', 'a/y_1.bin'])
    expect(rel(expandGlob('a/x_[2-9].bin', g))).toEqual(['a/x_2.bin'])
    expect(rel(expandGlob('**/x_*.bin', g))).toEqual(['a/b/x_3.bin', 'a/x_1.bin', 'a/x_2.bin', 'c/x_4.bin'])
    expect(rel(expandGlob('*/x_4.bin', g))).toEqual(['c/x_4.bin'])
    expect(expandGlob('nothing/*.bin', g)).toEqual([])
  })
})
