/**
 * The batched writer of worker messages: what workers report (metric rows, status changes, logs) is queued as ops
 * and committed in one transaction every `flushIntervalMs` or once `maxBatchRows` metric rows wait; each op's
 * `after` (events, in-memory state) runs only after its commit. A commit that fails for a storage reason (full
 * disk, busy or locked database) keeps the ops and retries with backoff; any other failure applies the batch one
 * op at a time, dropping (and reporting) the ones that fail.
 *
 * It needs only a SMALL part of the store (WriterStore), so it can be tested with a real store without the rest.
 */
import type { MetricPoint } from '../store/types.js'

/** What the writer needs of the database: one transaction, and the batched metric insert. */
export interface WriterStore {
  transaction<T>(fn: () => T): T
  metrics: { insertBatch(items: Iterable<{ runId: number; points: Iterable<MetricPoint> }>): number }
}

export interface Op {
  /** metric rows: inserted for the whole batch at once, before every apply() of the batch */
  metrics?: { runId: number; points: MetricPoint[] }
  apply?: () => void
  /** runs after the commit (events, in-memory state) */
  after?: () => void
  rows: number
}

export interface BatchedWriterOptions {
  /** metric rows wait at most this long (ms) before they are committed */
  flushIntervalMs: number
  /** commit early once this many metric rows are waiting */
  maxBatchRows: number
  /** a commit failed for a storage reason; the rows are kept and retried */
  onStorageError(e: { message: string; pendingRows: number; failures: number }): void
  /** commits work again after storage errors */
  onStorageOk(e: { pendingRows: number }): void
  /** after a timed flush (the interval, or a retry) that left no storage failure */
  onTimedFlush(): void
}

export const isStorageError = (e: unknown) => {
  const code = String((e as { code?: unknown })?.code ?? '')
  return /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY)/.test(code) || (e as NodeJS.ErrnoException)?.code === 'ENOSPC'
}

export class BatchedWriter {
  private ops: Op[] = []
  private pending = 0
  private flushTimer: NodeJS.Timeout | null = null
  private storageFailures = 0

  constructor(
    private readonly store: WriterStore,
    private readonly opts: BatchedWriterOptions,
  ) {}

  /** metric rows waiting for a commit */
  get pendingRows(): number {
    return this.pending
  }

  /** commits that failed in a row (0 once one succeeds) */
  get failures(): number {
    return this.storageFailures
  }

  push(op: Op): void {
    this.ops.push(op)
    this.pending += op.rows
    if (this.storageFailures) return // the retry timer is running
    if (this.pending >= this.opts.maxBatchRows) this.flush()
    else this.scheduleFlush(this.opts.flushIntervalMs)
  }

  /** Commit pending rows now. False if the commit failed (they stay pending). */
  flush(): boolean {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer)
      this.flushTimer = null
    }
    if (!this.ops.length) return true
    const batch = this.ops
    try {
      this.store.transaction(() => {
        const rows: { runId: number; points: MetricPoint[] }[] = []
        for (const op of batch) if (op.metrics) rows.push(op.metrics)
        if (rows.length) this.store.metrics.insertBatch(rows)
        for (const op of batch) op.apply?.()
      })
    } catch (e) {
      if (!isStorageError(e)) return this.flushOneByOne(batch, e)
      this.storageFailures++
      this.opts.onStorageError({ message: (e as Error).message, pendingRows: this.pending, failures: this.storageFailures })
      this.scheduleFlush(Math.min(5000, this.opts.flushIntervalMs * 2 ** Math.min(this.storageFailures, 6)))
      return false
    }
    this.ops = []
    this.pending = 0
    if (this.storageFailures) {
      this.storageFailures = 0
      this.opts.onStorageOk({ pendingRows: 0 })
    }
    for (const op of batch) op.after?.()
    return true
  }

  scheduleFlush(ms: number): void {
    if (this.flushTimer) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      this.flush()
      if (!this.storageFailures) this.opts.onTimedFlush()
    }, ms)
  }

  /** Stop the timer (after a last flush()). */
  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
  }

  /** A non-storage error in a batch: apply ops one at a time, dropping (and reporting) the ones that fail. */
  private flushOneByOne(batch: Op[], first: unknown): boolean {
    this.ops = []
    this.pending = 0
    for (const op of batch) {
      try {
        this.store.transaction(() => {
          if (op.metrics) this.store.metrics.insertBatch([op.metrics])
          op.apply?.()
        })
        op.after?.()
      } catch (e) {
        if (isStorageError(e)) {
          this.ops.push(op)
          this.pending += op.rows
          continue
        }
        console.error('skipbench: a job-runner write failed and was dropped:', (e as Error).message, '(first error:', (first as Error)?.message, ')')
      }
    }
    if (this.ops.length) this.scheduleFlush(1000)
    return this.ops.length === 0
  }
}
