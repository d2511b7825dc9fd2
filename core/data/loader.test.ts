import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoaderError, TokenLoader, evalWindows, planEval } from './loader.js'
import { ShardError, writeShard } from './shard.js'

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-loader-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Writes shards whose tokens encode (shard, index) so any mix-up shows. */
function makeShards(prefix: string, lens: number[]): { paths: string[]; data: Uint16Array[] } {
  const paths: string[] = []
  const data: Uint16Array[] = []
  lens.forEach((n, s) => {
    const t = Uint16Array.from({ length: n }, (_, i) => s * 1000 + i)
    const f = path.join(dir, `${prefix}_${String(s).padStart(6, '0')}.bin`)
    writeShard(f, t)
    paths.push(f)
    data.push(t)
  })
  return { paths, data }
}

/** Straight transcription of the reference DistributedDataLoader (world = 1). */
function* referenceBatches(data: Uint16Array[], B: number, T: number): Generator<{ x: number[]; y: number[] }> {
  let shard = 0
  let pos = 0
  for (;;) {
    const tokens = data[shard]!
    const buf = Array.from(tokens.subarray(pos, pos + B * T + 1))
    yield { x: buf.slice(0, -1), y: buf.slice(1) }
    pos += B * T
    if (pos + (B * T + 1) > tokens.length) {
      shard = (shard + 1) % data.length
      pos = 0
    }
  }
}

describe('TokenLoader (spec B.4, world = 1)', () => {
  it('matches the reference loader order across shard ends and wrap-around, dropping tails', () => {
    const { paths, data } = makeShards('ref', [25, 17, 40])
    const B = 2
    const T = 4
    const L = new TokenLoader(paths, { batchSize: B, seqLen: T })
    const ref = referenceBatches(data, B, T)
    for (let step = 0; step < 30; step++) {
      const b = L.next()
      const r = ref.next().value!
      expect(b.batchSize).toBe(B)
      expect(b.seqLen).toBe(T)
      expect(Array.from(b.inputs)).toEqual(r.x)
      expect(Array.from(b.targets)).toEqual(r.y)
    }
    // per pass: ⌊24/8⌋ + ⌊16/8⌋ + ⌊39/8⌋ = 3 + 2 + 4 = 9 batches
    expect(L.batchesPerEpoch).toBe(9)
    expect(L.epochs).toBe(3) // 30 batches = 3 passes + 3
    expect(L.tokensSeen).toBe(30 * 8)
    expect(L.state()).toEqual({ shard: 1, pos: 0, epochs: 3, tokensSeen: 240 })
    expect(L.totalTokens).toBe(82)
    L.close()
  })

  it('spells out one pass: positions, shard switches and the epoch counter', () => {
    const { paths } = makeShards('pass', [25, 17])
    const L = new TokenLoader(paths, { batchSize: 2, seqLen: 4 })
    const starts: string[] = []
    for (let i = 0; i < 6; i++) {
      const st = L.state()
      const b = L.next()
      starts.push(`${st.shard}:${st.pos}:${b.inputs[0]}`)
    }
    expect(starts).toEqual(['0:0:0', '0:8:8', '0:16:16', '1:0:1000', '1:8:1008', '0:0:0'])
    expect(L.epochs).toBe(1)
    L.close()
  })

  it('restores exactly from a saved state', () => {
    const { paths } = makeShards('resume', [50, 33, 61])
    const opts = { batchSize: 3, seqLen: 5 }
    const a = new TokenLoader(paths, opts)
    for (let i = 0; i < 7; i++) a.next()
    const saved = JSON.parse(JSON.stringify(a.state()))
    const rest = Array.from({ length: 9 }, () => Array.from(a.next().inputs))
    const b = new TokenLoader(paths, { ...opts, state: saved })
    expect(b.epochs).toBe(saved.epochs)
    expect(b.tokensSeen).toBe(7 * 15)
    const again = Array.from({ length: 9 }, () => Array.from(b.next().inputs))
    expect(again).toEqual(rest)
    expect(b.state()).toEqual(a.state())
    const c = new TokenLoader(paths, opts)
    c.restore({ shard: saved.shard, pos: saved.pos }) // counters optional
    expect(Array.from(c.next().inputs)).toEqual(rest[0])
    a.close()
    b.close()
    c.close()
  })

  it('refuses invalid states, shards shorter than B·T + 1 and empty shard lists with clear errors', () => {
    const { paths } = makeShards('bad', [30, 12])
    expect(() => new TokenLoader(paths, { batchSize: 2, seqLen: 8 })).toThrow(/bad_000001\.bin: 12 tokens, but one batch needs B·T \+ 1 = 2·8 \+ 1 = 17/)
    expect(() => new TokenLoader([], { batchSize: 1, seqLen: 4 })).toThrow(LoaderError)
    expect(() => new TokenLoader(paths, { batchSize: 0, seqLen: 4 })).toThrow(/batchSize must be a positive integer/)
    const L = new TokenLoader(paths, { batchSize: 1, seqLen: 4 })
    expect(() => L.restore({ shard: 2, pos: 0 })).toThrow(/shard index 2 is outside 0\.\.1/)
    expect(() => L.restore({ shard: 1, pos: 8 })).toThrow(/position 8 in .*bad_000001\.bin \(12 tokens\)/)
    expect(() => L.restore({ shard: 0, pos: -4 })).toThrow(LoaderError)
    L.close()
  })

  it('checks ids against the vocabulary when asked', () => {
    const t = new Uint16Array(40).fill(3)
    t[21] = 400
    const f = path.join(dir, 'oov.bin')
    writeShard(f, t)
    const L = new TokenLoader([f], { batchSize: 1, seqLen: 10, vocabSize: 257 })
    L.next()
    L.next() // tokens 10..20
    expect(() => L.next()).toThrow(ShardError)
    try {
      new TokenLoader([f], { batchSize: 1, seqLen: 10, vocabSize: 257, state: { shard: 0, pos: 20 } }).next()
    } catch (e) {
      expect((e as ShardError).message).toMatch(/token id 400 at position 21 is not below the vocabulary size 257/)
    }
    L.close()
  })
})

describe('evalWindows', () => {
  it('yields every full window of T + 1 tokens, stride T, batched with a partial last batch', () => {
    const { paths } = makeShards('val', [23])
    const batches = [...evalWindows(paths[0]!, 4, 2)]
    // ⌊22/4⌋ = 5 windows: [0..4], [4..8], …, [16..20]
    expect(batches.map((b) => b.batchSize)).toEqual([2, 2, 1])
    expect(Array.from(batches[0]!.inputs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(Array.from(batches[0]!.targets)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(Array.from(batches[2]!.inputs)).toEqual([16, 17, 18, 19])
    expect(Array.from(batches[2]!.targets)).toEqual([17, 18, 19, 20])
    expect(batches[2]!.inputs.length).toBe(4)
    expect(planEval(paths[0]!, 4, 2)).toEqual({ windows: 5, tokens: 20, batches: 3 })
    // the same windows every time
    expect([...evalWindows(paths[0]!, 4, 2)].map((b) => Array.from(b.inputs))).toEqual(batches.map((b) => Array.from(b.inputs)))
  })

  it('respects a token budget and spans several shards in order', () => {
    const { paths } = makeShards('val2', [9, 13])
    // shard 0: 2 windows, shard 1: 3 windows
    const all = [...evalWindows(paths, 4, 3)]
    expect(all.map((b) => b.batchSize)).toEqual([3, 2])
    expect(Array.from(all[0]!.inputs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 1000, 1001, 1002, 1003])
    expect(Array.from(all[1]!.targets)).toEqual([1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012])
    const capped = [...evalWindows(paths, 4, 3, 12)]
    expect(capped.map((b) => b.batchSize)).toEqual([3])
    expect(planEval(paths, 4, 3, 12)).toEqual({ windows: 3, tokens: 12, batches: 1 })
    expect(planEval(paths, 4, 3, 1)).toEqual({ windows: 1, tokens: 4, batches: 1 })
  })

  it('rejects a shard shorter than one window', () => {
    const { paths } = makeShards('val3', [4])
    expect(() => [...evalWindows(paths[0]!, 4, 1)]).toThrow(/val3_000000\.bin: 4 tokens, shorter than one evaluation window of T \+ 1 = 5 tokens/)
    expect(() => planEval(paths, 4, 1)).toThrow(LoaderError)
  })
})
