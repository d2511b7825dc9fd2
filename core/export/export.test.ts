// TensorBoard event files and long-format CSV/Parquet from a stored run, read back by INDEPENDENT readers
// (./testing/readers.ts: TFRecord framing, a bit-by-bit CRC-32C, a generic protobuf decoder; hyparquet).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/store.js'
import { tempDir, type TempDir } from '../store/test-helpers.js'
import { exportRunMetrics, metricsExportFiles } from './metrics.js'
import { decodeProtobuf as decode, readParquetRows, readScalarEvents, readTfRecords as readRecords } from './testing/readers.js'

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
    const rows = await readParquetRows(readFileSync(res.files[0]!))
    expect(rows).toEqual([
      { run_id: BigInt(a.id), run: 'a', key: 'train/loss', step: 0n, value: 0.30000000000000004 },
      { run_id: BigInt(a.id), run: 'a', key: 'train/loss', step: 1n, value: -1e-300 },
      { run_id: BigInt(a.id), run: 'a', key: 'val/loss', step: 5n, value: null },
    ])
  })
})

describe('metrics export in memory (what the app downloads)', () => {
  it('the same bytes as the folder export, with flat download names', async () => {
    dir = tempDir('sb-export-')
    store = openStore(dir.file('sb.db'))
    const a = store.runs.create({ name: 'a/b run', kind: 'dense', config: {}, startedAt: '2026-12-06T08:00:00.000Z' })
    const b = store.runs.create({ name: 'b', kind: 'dense', config: {} })
    store.metrics.insert(a.id, [
      { step: 0, key: 'train/loss', value: 3.5 },
      { step: 1, key: 'sys/cpu_percent', value: 97.25 },
    ])
    store.metrics.insert(b.id, [{ step: 0, key: 'train/loss', value: 2 }])
    const tb = metricsExportFiles(store, [a.id, b.id], 'tensorboard')
    expect(tb.values).toBe(3)
    expect(tb.files.map((f) => f.name)).toEqual([expect.stringMatching(new RegExp(`^run-${a.id}-a_b_run\\.events\\.out\\.tfevents\\.\\d+\\.`)), expect.stringMatching(new RegExp(`^run-${b.id}-b\\.events\\.out\\.tfevents\\.`))])
    const ev = readScalarEvents(tb.files[0]!.data)
    expect(ev.fileVersion).toBe('brain.Event:2')
    expect(ev.scalars.map((x) => [x.step, x.tag, x.value])).toEqual([
      [0, 'train/loss', 3.5],
      [1, 'sys/cpu_percent', 97.25],
    ])
    const pq = metricsExportFiles(store, [a.id, b.id], 'parquet')
    expect(pq.files.map((f) => [f.name, f.mediaType])).toEqual([[`runs-${a.id}-${b.id}-metrics.parquet`, 'application/vnd.apache.parquet']])
    expect(await readParquetRows(pq.files[0]!.data)).toHaveLength(3)
    const csv = metricsExportFiles(store, [b.id], 'csv')
    expect(csv.files[0]!.name).toBe(`run-${b.id}-metrics.csv`)
    expect(csv.files[0]!.data.toString('utf8')).toBe(`run_id,run,key,step,value\n${b.id},b,train/loss,0,2\n`)
  })
  it('the readers refuse a corrupted event file', () => {
    dir = tempDir('sb-export-')
    store = openStore(dir.file('sb.db'))
    const a = store.runs.create({ name: 'a', kind: 'dense', config: {} })
    store.metrics.insert(a.id, [{ step: 0, key: 'train/loss', value: 3.5 }])
    const data = Buffer.from(metricsExportFiles(store, [a.id], 'tensorboard').files[0]!.data)
    data[data.length - 6] = data[data.length - 6]! ^ 0xff
    expect(() => readRecords(data)).toThrow(/bad data CRC/)
    expect(() => readRecords(data.subarray(0, data.length - 2))).toThrow(/torn record/)
  })
})
