import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RollingShardWriter, ShardWriter } from './shard-writer.js'
import {
  SHARD_HEADER_BYTES,
  ShardError,
  openShard,
  readShard,
  readShardHeader,
  scanShard,
  sha256File,
  writeShard,
} from './shard.js'

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-shard-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const p = (name: string): string => path.join(dir, name)

function header(magic: number, version: number, n: number, ints = 256): Buffer {
  const b = Buffer.alloc(ints * 4)
  b.writeInt32LE(magic, 0)
  b.writeInt32LE(version, 4)
  b.writeInt32LE(n, 8)
  return b
}

function tokensBuf(tokens: number[]): Buffer {
  const b = Buffer.alloc(tokens.length * 2)
  tokens.forEach((t, i) => b.writeUInt16LE(t, 2 * i))
  return b
}

function expectShardError(fn: () => unknown, code: string, ...patterns: RegExp[]): ShardError {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(ShardError)
  const se = err as ShardError
  expect(se.code).toBe(code)
  for (const re of patterns) expect(se.message).toMatch(re)
  return se
}

describe('shard format', () => {
  it('writes the 1024-byte header form, byte for byte, and reads it back', () => {
    const toks = [50256, 15496, 995, 0, 65535, 7]
    const f = p('a.bin')
    const h = writeShard(f, toks)
    expect(h).toEqual({ path: f, headerBytes: 1024, numTokens: 6, fileBytes: 1024 + 12 })
    const bytes = fs.readFileSync(f)
    expect(bytes.equals(Buffer.concat([header(20240520, 1, 6), tokensBuf(toks)]))).toBe(true)
    // header ints 3..255 are zero
    for (let i = 3; i < 256; i++) expect(bytes.readInt32LE(4 * i)).toBe(0)
    expect(Array.from(readShard(f))).toEqual(toks)
    expect(readShardHeader(f)).toEqual({ path: f, headerBytes: 1024, numTokens: 6, fileBytes: 1036 })
    // no temporary file left behind
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('a.bin'))).toEqual(['a.bin'])
  })

  it('writes an empty shard and reads windows positionally', () => {
    writeShard(p('empty.bin'), new Uint16Array(0))
    expect(readShardHeader(p('empty.bin')).numTokens).toBe(0)
    const toks = Uint16Array.from({ length: 10_000 }, (_, i) => i % 50257)
    writeShard(p('w.bin'), toks)
    const r = openShard(p('w.bin'))
    expect(Array.from(r.read(1234, 5))).toEqual([1234, 1235, 1236, 1237, 1238])
    const into = new Uint16Array(8)
    expect(r.read(9995, 5, into)).toBe(into)
    expect(Array.from(into.subarray(0, 5))).toEqual([9995, 9996, 9997, 9998, 9999])
    expect(r.read(10_000, 0).length).toBe(0)
    expectShardError(() => r.read(9996, 5), 'out-of-range', /tokens \[9996, 10001\) of a 10000-token shard/)
    expectShardError(() => r.read(-1, 1), 'out-of-range')
    r.close()
    expectShardError(() => r.read(0, 1), 'closed')
    r.close() // idempotent
  })

  it('accepts the legacy 12-byte header only when the file size proves it', () => {
    const toks = Array.from({ length: 600 }, (_, i) => (i * 7919) % 50257)
    fs.writeFileSync(p('legacy.bin'), Buffer.concat([header(20240520, 1, toks.length, 3), tokensBuf(toks)]))
    expect(readShardHeader(p('legacy.bin'))).toMatchObject({ headerBytes: 12, numTokens: 600, fileBytes: 12 + 1200 })
    expect(Array.from(readShard(p('legacy.bin')))).toEqual(toks)
    // a short legacy file (n < 506) is fine too
    fs.writeFileSync(p('legacy-small.bin'), Buffer.concat([header(20240520, 1, 3, 3), tokensBuf([1, 2, 3])]))
    expect(Array.from(readShard(p('legacy-small.bin')))).toEqual([1, 2, 3])
  })

  it('rejects a standard shard truncated by exactly 1012 bytes (the legacy-size ambiguity)', () => {
    const toks = Array.from({ length: 1000 }, (_, i) => (i % 100) + 1)
    writeShard(p('std.bin'), toks)
    const full = fs.readFileSync(p('std.bin'))
    fs.writeFileSync(p('cut1012.bin'), full.subarray(0, full.length - 1012))
    expectShardError(() => readShardHeader(p('cut1012.bin')), 'truncated', /cut1012\.bin/, /1000 tokens/, /zero padding/)
  })

  it('rejects truncated, oversized, odd-sized and too-small files naming the file and the numbers', () => {
    writeShard(p('t.bin'), Array.from({ length: 100 }, (_, i) => i))
    const full = fs.readFileSync(p('t.bin'))
    fs.writeFileSync(p('t-short.bin'), full.subarray(0, full.length - 10))
    const e = expectShardError(() => openShard(p('t-short.bin')), 'truncated', /t-short\.bin/, /100 tokens/, /1224 bytes/, /1214 bytes/, /10 bytes missing/)
    expect(e.details).toMatchObject({ numTokens: 100, fileBytes: 1214, expectedBytes: 1224 })
    fs.writeFileSync(p('t-long.bin'), Buffer.concat([full, Buffer.alloc(4)]))
    expectShardError(() => readShardHeader(p('t-long.bin')), 'size-mismatch', /t-long\.bin/, /4 bytes too many/)
    fs.writeFileSync(p('t-odd.bin'), Buffer.concat([full, Buffer.alloc(1)]))
    expectShardError(() => readShardHeader(p('t-odd.bin')), 'size-mismatch')
    fs.writeFileSync(p('tiny.bin'), Buffer.alloc(5))
    expectShardError(() => readShardHeader(p('tiny.bin')), 'too-small', /5 bytes/)
    fs.writeFileSync(p('header-only.bin'), header(20240520, 1, 1))
    expectShardError(() => readShardHeader(p('header-only.bin')), 'truncated', /1 tokens/)
    expectShardError(() => readShardHeader(p('missing.bin')), 'io', /missing\.bin: no such file/)
  })

  it('rejects bad magic, the llama-3 format, bad versions and negative counts', () => {
    fs.writeFileSync(p('magic.bin'), Buffer.concat([header(12345, 1, 1), tokensBuf([1])]))
    expectShardError(() => readShardHeader(p('magic.bin')), 'bad-magic', /not a token shard: its header does not start with the shard magic number 20240520/)
    fs.writeFileSync(p('llama.bin'), Buffer.concat([header(20240801, 7, 1), Buffer.alloc(4)]))
    expectShardError(() => readShardHeader(p('llama.bin')), 'bad-magic', /llama-3/)
    fs.writeFileSync(p('ver.bin'), Buffer.concat([header(20240520, 2, 1), tokensBuf([1])]))
    expectShardError(() => readShardHeader(p('ver.bin')), 'bad-version', /version 2 \(expected 1\)/)
    fs.writeFileSync(p('neg.bin'), header(20240520, 1, -5))
    expectShardError(() => readShardHeader(p('neg.bin')), 'bad-count', /-5/)
    fs.writeFileSync(p('text.bin'), 'hello world, this is not a shard at all')
    expectShardError(() => readShardHeader(p('text.bin')), 'bad-magic')
  })

  it('rejects token ids at or above the vocabulary size with the id, its position and the vocab size', () => {
    const toks = new Uint16Array(300).fill(5)
    toks[257] = 300
    writeShard(p('v.bin'), toks)
    const r = openShard(p('v.bin'), { vocabSize: 257 })
    expect(r.read(0, 257).length).toBe(257) // the window before the bad id is fine
    const e = expectShardError(() => r.read(250, 20), 'out-of-vocab', /v\.bin/, /token id 300 at position 257/, /vocabulary size 257/)
    expect(e.details).toEqual({ tokenId: 300, position: 257, vocabSize: 257 })
    r.close()
    expectShardError(() => scanShard(p('v.bin'), { vocabSize: 257 }), 'out-of-vocab', /position 257/)
    expect(scanShard(p('v.bin'), { vocabSize: 50257, eot: 5 })).toMatchObject({ numTokens: 300, maxTokenId: 300, eotCount: 299 })
    expectShardError(() => writeShard(p('v2.bin'), [1, 2, 257], { vocabSize: 257 }), 'out-of-vocab', /token id 257 at position 2/)
    expectShardError(() => writeShard(p('v3.bin'), [1, 70000]), 'bad-token', /70000 at position 1/)
    expectShardError(() => writeShard(p('v4.bin'), [1, 2.5]), 'bad-token')
    expect(fs.existsSync(p('v2.bin'))).toBe(false)
  })

  it('scans in chunks smaller than the shard', () => {
    const toks = Uint16Array.from({ length: 1001 }, (_, i) => (i % 10 === 0 ? 256 : i % 256))
    writeShard(p('scan.bin'), toks)
    expect(scanShard(p('scan.bin'), { vocabSize: 257, eot: 256, chunkTokens: 64 })).toMatchObject({ maxTokenId: 256, eotCount: 101 })
  })
})

describe('streaming writers', () => {
  it('ShardWriter never exposes an incomplete shard under its final name', () => {
    const f = p('stream.bin')
    const w = new ShardWriter(f)
    w.append([1, 2, 3])
    w.append(new Uint16Array([4, 5]))
    expect(fs.existsSync(f)).toBe(false)
    const tmp = fs.readdirSync(dir).filter((n) => n.startsWith('stream.bin.tmp-'))
    expect(tmp.length).toBe(1)
    // the partial temp file is not a valid shard (its header is still zero)
    expectShardError(() => readShardHeader(path.join(dir, tmp[0]!)), 'bad-magic', /not a token shard/)
    const done = w.finish()
    expect(done).toMatchObject({ numTokens: 5, fileBytes: SHARD_HEADER_BYTES + 10 })
    expect(done.sha256).toBe(sha256File(f))
    expect(Array.from(readShard(f))).toEqual([1, 2, 3, 4, 5])
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('stream.bin.tmp-'))).toEqual([])
    expect(() => w.append([1])).toThrow(ShardError)
  })

  it('ShardWriter.abort removes the partial file', () => {
    const w = new ShardWriter(p('aborted.bin'))
    w.append([1, 2, 3])
    w.abort()
    w.abort()
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('aborted.bin'))).toEqual([])
  })

  it('RollingShardWriter splits at maxTokens and writes no empty trailing shard', () => {
    const name = (i: number): string => p(`roll_${String(i).padStart(6, '0')}.bin`)
    const w = new RollingShardWriter(name, { maxTokens: 10 })
    w.append(Uint16Array.from({ length: 7 }, (_, i) => i))
    w.append(Array.from({ length: 18 }, (_, i) => 7 + i))
    const shards = w.finish()
    expect(shards.map((s) => s.numTokens)).toEqual([10, 10, 5])
    expect(Array.from(readShard(name(1)))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    const w2 = new RollingShardWriter((i) => p(`roll2_${i}.bin`), { maxTokens: 5 })
    w2.append(new Uint16Array(10))
    expect(w2.finish().map((s) => s.numTokens)).toEqual([5, 5])
    expect(fs.existsSync(p('roll2_2.bin'))).toBe(false)
    const w3 = new RollingShardWriter((i) => p(`roll3_${i}.bin`), { maxTokens: 5 })
    w3.append(new Uint16Array(7))
    w3.abort()
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('roll3_'))).toEqual([])
  })
})

describe('compatibility with the reference loader (numpy, skip-middle data.py rules)', () => {
  const py = '/usr/bin/python3'
  const hasNumpy = ((): boolean => {
    try {
      execFileSync(py, ['-c', 'import numpy'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()
  it.skipIf(!hasNumpy)('a shard we write passes DataShard-style validation in numpy', () => {
    const toks = Uint16Array.from({ length: 2049 }, (_, i) => (i * 31337) % 50257)
    writeShard(p('np.bin'), toks)
    const script = `
import numpy as np, sys
f = sys.argv[1]
h = np.fromfile(f, dtype=np.int32, count=256)
assert h[0] == 20240520 and h[1] == 1, h[:3]
n = int(h[2])
with open(f, 'rb') as fh:
    fh.seek(256 * 4)
    t = np.frombuffer(fh.read(), dtype=np.uint16)
assert len(t) == n, (len(t), n)
print(n, int(t[:10].astype(np.int64).sum()), int(t.astype(np.int64).sum()))
`
    const out = execFileSync(py, ['-c', script, p('np.bin')], { encoding: 'utf8' }).trim()
    const sum = (a: Uint16Array): number => a.reduce((s, x) => s + x, 0)
    expect(out).toBe(`2049 ${sum(toks.subarray(0, 10))} ${sum(toks)}`)
  })
})
