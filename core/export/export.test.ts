// TensorBoard event files and long-format CSV from a stored run, read back by an INDEPENDENT reader written here:
// TFRecord framing, a bit-by-bit CRC-32C (not the writer's table), and a generic protobuf wire-format decoder.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/store.js'
import { tempDir, type TempDir } from '../store/test-helpers.js'
import { exportRunMetrics } from './metrics.js'

function crc32cBitwise(b: Uint8Array): number {
  let crc = ~0 >>> 0
  for (const byte of b) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return ~crc >>> 0
}
const unmask = (m: number) => {
  const r = (m - 0xa282ead8) >>> 0
  return ((r << 15) | (r >>> 17)) >>> 0
}

/** TFRecord: [u64 len][u32 masked crc(len)][data][u32 masked crc(data)] — every CRC checked. */
function readRecords(buf: Buffer): Buffer[] {
  const out: Buffer[] = []
  let p = 0
  while (p < buf.length) {
    const lenBytes = buf.subarray(p, p + 8)
    const len = Number(buf.readBigUInt64LE(p))
    expect(unmask(buf.readUInt32LE(p + 8))).toBe(crc32cBitwise(lenBytes))
    const data = buf.subarray(p + 12, p + 12 + len)
    expect(unmask(buf.readUInt32LE(p + 12 + len))).toBe(crc32cBitwise(data))
    out.push(data)
    p += 12 + len + 4
  }
  expect(p).toBe(buf.length)
  return out
}

type Field = { field: number; wire: number; value: bigint | Buffer }
/** Generic protobuf wire-format decoder: varint (0), fixed64 (1), length-delimited (2), fixed32 (5). */
function decode(b: Buffer): Field[] {
  const out: Field[] = []
  let p = 0
  const varint = () => {
    let v = 0n
    let shift = 0n
    for (;;) {
      const byte = b[p++]!
      v |= BigInt(byte & 0x7f) << shift
      if (!(byte & 0x80)) return v
      shift += 7n
    }
  }
  while (p < b.length) {
    const k = Number(varint())
    const field = k >> 3
    const wire = k & 7
    if (wire === 0) out.push({ field, wire, value: varint() })
    else if (wire === 1) out.push({ field, wire, value: b.subarray(p, (p += 8)) })
    else if (wire === 5) out.push({ field, wire, value: b.subarray(p, (p += 4)) })
    else if (wire === 2) {
      const n = Number(varint())
      out.push({ field, wire, value: b.subarray(p, (p += n)) })
    } else throw new Error(`wire type ${wire}`)
  }
  return out
}

let dir: TempDir
let store: Store
afterEach(() => {
  store?.close()
  dir?.cleanup()
})

describe('metrics export', () => {
  it('TensorBoard event files: valid TFRecord + CRC32C, file_version first, one scalar event per stored value', () => {
    dir = tempDir('sb-export-')
    store = openStore(dir.file('sb.db'))
    const r = store.runs.create({ name: 'tiny run', kind: 'gated', config: {}, startedAt: '2026-12-06T08:00:00.000Z' })
    store.metrics.insert(r.id, [
      { step: 0, key: 'train/loss', value: 3.25 },
      { step: 1, key: 'train/loss', value: 2.5 },
      { step: 1, key: 'val/loss', value: 2.75 },
      { step: 2, key: 'train/loss', value: NaN },
    ])
    const res = exportRunMetrics(store, [r.id], 'tensorboard', join(dir.path, 'tb'))
    expect(res.values).toBe(4)
    const [file] = res.files
    expect(file).toMatch(/tb\/\d+-tiny_run\/events\.out\.tfevents\.\d+\./)
    const records = readRecords(readFileSync(file!))
    expect(records).toHaveLength(5)
    const first = decode(records[0]!)
    expect(first.find((f) => f.field === 3)!.value.toString()).toBe('brain.Event:2')
    const scalars = records.slice(1).map((rec) => {
      const ev = decode(rec)
      const wall = (ev.find((f) => f.field === 1)!.value as Buffer).readDoubleLE(0)
      const step = Number(ev.find((f) => f.field === 2)!.value)
      const summary = decode(ev.find((f) => f.field === 5)!.value as Buffer)
      const value = decode(summary.find((f) => f.field === 1)!.value as Buffer)
      return { wall, step, tag: value.find((f) => f.field === 1)!.value.toString(), v: (value.find((f) => f.field === 2)!.value as Buffer).readFloatLE(0) }
    })
    expect(scalars.map((s) => [s.step, s.tag])).toEqual([
      [0, 'train/loss'],
      [1, 'train/loss'],
      [1, 'val/loss'],
      [2, 'train/loss'],
    ])
    expect(scalars.slice(0, 3).map((s) => s.v)).toEqual([3.25, 2.5, 2.75])
    expect(scalars[3]!.v).toBeNaN()
    expect(scalars[0]!.wall).toBe(Date.parse('2026-12-06T08:00:00.000Z') / 1000)
  })

  it('long-format CSV holds every stored value exactly', () => {
    dir = tempDir('sb-export-')
    store = openStore(dir.file('sb.db'))
    const a = store.runs.create({ name: 'a, "quoted"', kind: 'dense', config: {} })
    const b = store.runs.create({ name: 'b', kind: 'dense', config: {} })
    store.metrics.insert(a.id, [
      { step: 0, key: 'train/loss', value: 0.1 + 0.2 },
      { step: 5, key: 'val/loss', value: NaN },
    ])
    store.metrics.insert(b.id, [{ step: 3, key: 'train/loss', value: 1e-300 }])
    const res = exportRunMetrics(store, [a.id, b.id], 'csv', join(dir.path, 'csv'))
    const text = readFileSync(res.files[0]!, 'utf8')
    expect(text.trim().split('\n')).toEqual(['run_id,run,key,step,value', `${a.id},"a, ""quoted""",train/loss,0,0.30000000000000004`, `${a.id},"a, ""quoted""",val/loss,5,`, `${b.id},b,train/loss,3,1e-300`])
    expect(Number('0.30000000000000004')).toBe(0.1 + 0.2)
    expect(readdirSync(join(dir.path, 'csv'))).toEqual(['metrics.csv'])
    expect(() => exportRunMetrics(store, [999], 'csv', join(dir.path, 'x'))).toThrow(/run 999/)
  })
})

describe('parquet export', () => {
  it('long-format Parquet read back with hyparquet: every value exact, NaN as null', async () => {
    dir = tempDir('sb-export-')
    store = openStore(dir.file('sb.db'))
    const a = store.runs.create({ name: 'a', kind: 'dense', config: {} })
    store.metrics.insert(a.id, [
      { step: 0, key: 'train/loss', value: 0.1 + 0.2 },
      { step: 1, key: 'train/loss', value: -1e-300 },
      { step: 5, key: 'val/loss', value: NaN },
    ])
    const res = exportRunMetrics(store, [a.id], 'parquet', join(dir.path, 'pq'))
    expect(res.values).toBe(3)
    const { parquetReadObjects } = await import('hyparquet')
    const buf = readFileSync(res.files[0]!)
    const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })
    expect(rows).toEqual([
      { run_id: BigInt(a.id), run: 'a', key: 'train/loss', step: 0n, value: 0.30000000000000004 },
      { run_id: BigInt(a.id), run: 'a', key: 'train/loss', step: 1n, value: -1e-300 },
      { run_id: BigInt(a.id), run: 'a', key: 'val/loss', step: 5n, value: null },
    ])
  })
})
