// The batched writer against a real SQLite store, through its small WriterStore interface.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { toPoints } from '../store/run-folder.js'
import { openStore, type Store } from '../store/store.js'
import { tempDir, type TempDir } from '../store/test-helpers.js'
import { BatchedWriter, type BatchedWriterOptions, type WriterStore } from './writer.js'

let tmp: TempDir
let store: Store
let runId: number
let writer: BatchedWriter | null = null
beforeEach(() => {
  tmp = tempDir('sb-writer-')
  store = openStore(tmp.file('s.db'))
  runId = store.runs.create({ name: 'r', kind: 'gated', config: {} }).id
})
afterEach(() => {
  writer?.close()
  writer = null
  store.close()
  tmp.cleanup()
})

const events: string[] = []
const options = (o: Partial<BatchedWriterOptions> = {}): BatchedWriterOptions => ({
  flushIntervalMs: 10_000, // tests flush by hand unless they say otherwise
  maxBatchRows: 1000,
  onStorageError: (e) => events.push(`storage-error ${e.pendingRows} ${e.failures}`),
  onStorageOk: () => events.push('storage-ok'),
  onTimedFlush: () => events.push('timed-flush'),
  ...o,
})
const step = (s: number) => ({ rows: 2, metrics: { runId, points: toPoints(s, { 'train/loss': 1 / (s + 1), 'train/tokens': 64 }) } })

describe('BatchedWriter', () => {
  beforeEach(() => void events.splice(0))

  it('commits pushed steps together, runs after() only after the commit, and flushes early at maxBatchRows', () => {
    writer = new BatchedWriter(store, options({ maxBatchRows: 6 }))
    const seen: number[] = []
    writer.push({ ...step(0), after: () => seen.push(store.metrics.count(runId)) })
    writer.push(step(1))
    expect(store.metrics.count(runId)).toBe(0) // waiting for the interval
    expect(writer.pendingRows).toBe(4)
    expect(seen).toEqual([])
    writer.push(step(2)) // 6 rows: committed at once
    expect(store.metrics.count(runId)).toBe(6)
    expect(seen).toEqual([6]) // after() saw the committed rows
    expect(writer.pendingRows).toBe(0)
    expect(store.metrics.steps(runId, 'train/loss')).toEqual([0, 1, 2])
  })

  it('commits on its timer and then calls onTimedFlush', async () => {
    writer = new BatchedWriter(store, options({ flushIntervalMs: 5 }))
    writer.push(step(0))
    await new Promise((r) => setTimeout(r, 50))
    expect(store.metrics.count(runId)).toBe(2)
    expect(events).toEqual(['timed-flush'])
  })

  it('a storage failure keeps every row and retries; nothing is lost or doubled', async () => {
    let failures = 2
    const flaky: WriterStore = {
      metrics: store.metrics,
      transaction: (fn) => {
        if (failures-- > 0) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
        return store.transaction(fn)
      },
    }
    writer = new BatchedWriter(flaky, options({ flushIntervalMs: 2 }))
    writer.push(step(0))
    expect(writer.flush()).toBe(false)
    expect(writer.failures).toBe(1)
    writer.push(step(1)) // waits for the retry timer
    await new Promise((r) => setTimeout(r, 100))
    expect(store.metrics.steps(runId, 'train/loss')).toEqual([0, 1])
    expect(store.metrics.count(runId)).toBe(4)
    expect(events).toEqual(['storage-error 2 1', 'storage-error 4 2', 'storage-ok', 'timed-flush'])
    expect(writer.failures).toBe(0)
  })

  it('any other failure drops only the op that fails, reporting it; the rest of the batch commits', () => {
    writer = new BatchedWriter(store, options())
    const after: string[] = []
    writer.push({ ...step(0), after: () => after.push('a') })
    writer.push({
      rows: 0,
      apply: () => {
        throw new Error('a bug in one op')
      },
      after: () => after.push('bad'),
    })
    writer.push({ ...step(1), after: () => after.push('b') })
    const err = console.error
    const printed: string[] = []
    console.error = (...a: unknown[]) => void printed.push(a.join(' '))
    try {
      expect(writer.flush()).toBe(true)
    } finally {
      console.error = err
    }
    expect(store.metrics.steps(runId, 'train/loss')).toEqual([0, 1])
    expect(after).toEqual(['a', 'b'])
    expect(printed.join('\n')).toMatch(/write failed and was dropped: a bug in one op/)
  })
})
