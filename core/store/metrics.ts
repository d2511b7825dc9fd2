/**
 * Metrics: (run, key, step) → value, plus the per-(run, key) summaries the run list sorts by.
 *
 * Write semantics (decided, and tested in jobs/resume tests): a stored (run, key, step) is never overwritten —
 * inserts are INSERT OR IGNORE, so re-sending or re-ingesting the same step adds nothing. A run resumed from a
 * checkpoint at step S first discards its rows with step > S (`discardAfter`, in the same transaction that marks
 * it running): the resumed timeline then writes those steps afresh, so there are no duplicates, no gaps, and no
 * stale values from the abandoned timeline mixed in.
 */
import type { SqliteDatabase } from './open.js'
import { lttb } from './lttb.js'
import { fromDbNumber, toDbNumber, type Statement } from './sql.js'
import type { MetricPoint, MetricSummary, Series } from './types.js'

interface SummaryRow {
  key: string
  count: number
  first_step: number
  last_step: number
  last_value: number | null
  min_value: number | null
  min_step: number | null
  max_value: number | null
}

interface Agg {
  count: number
  first: number
  last: number
  lastValue: number | null
  min: number | null
  minStep: number | null
  max: number | null
}

export interface SeriesOptions {
  /** downsample to at most this many points with LTTB; default 1000; 0 = no downsampling */
  maxPoints?: number
  /** inclusive step range */
  fromStep?: number
  toStep?: number
}

export class MetricsRepository {
  private readonly keyIds = new Map<string, number>()
  private readonly s: Record<
    | 'keyInsert'
    | 'keyGet'
    | 'insert'
    | 'summaryUpsert'
    | 'runLastStep'
    | 'series'
    | 'keysOfRun'
    | 'summariesOfRun'
    | 'deleteAfter'
    | 'deleteForResume'
    | 'deleteSummaries'
    | 'rebuildSummaries'
    | 'recomputeLastStep'
    | 'countRun'
    | 'stepsOfKey'
    | 'meanTokensPerSec',
    Statement
  >

  constructor(private readonly db: SqliteDatabase) {
    this.s = {
      keyInsert: db.prepare('INSERT OR IGNORE INTO metric_keys (key) VALUES (?)'),
      keyGet: db.prepare('SELECT id FROM metric_keys WHERE key = ?').pluck(),
      insert: db.prepare('INSERT OR IGNORE INTO metrics (run_id, key_id, step, value) VALUES (?, ?, ?, ?)'),
      summaryUpsert: db.prepare(`
        INSERT INTO metric_summaries (run_id, key_id, count, first_step, last_step, last_value, min_value, min_step, max_value)
        VALUES (@run, @key, @count, @first, @last, @lastValue, @min, @minStep, @max)
        ON CONFLICT (run_id, key_id) DO UPDATE SET
          count = count + excluded.count,
          first_step = min(first_step, excluded.first_step),
          last_step = max(last_step, excluded.last_step),
          last_value = CASE WHEN excluded.last_step > last_step THEN excluded.last_value ELSE last_value END,
          min_value = CASE WHEN min_value IS NULL THEN excluded.min_value
                           WHEN excluded.min_value IS NULL THEN min_value
                           ELSE min(min_value, excluded.min_value) END,
          min_step = CASE WHEN min_value IS NULL THEN excluded.min_step
                          WHEN excluded.min_value IS NULL THEN min_step
                          WHEN excluded.min_value < min_value THEN excluded.min_step
                          WHEN excluded.min_value = min_value THEN min(min_step, excluded.min_step)
                          ELSE min_step END,
          max_value = CASE WHEN max_value IS NULL THEN excluded.max_value
                           WHEN excluded.max_value IS NULL THEN max_value
                           ELSE max(max_value, excluded.max_value) END`),
      runLastStep: db.prepare('UPDATE runs SET last_step = max(last_step, ?) WHERE id = ?'),
      // two JSON arrays built in C and parsed by V8: ~3× faster than one JS row object per point (doubles round-trip)
      series: db
        .prepare(
          `SELECT count(*), json_group_array(step), json_group_array(value) FROM
             (SELECT step, value FROM metrics WHERE run_id = ? AND key_id = ? AND step BETWEEN ? AND ? ORDER BY step)`,
        )
        .raw(true),
      keysOfRun: db.prepare('SELECT k.key FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ? ORDER BY k.key').pluck(),
      summariesOfRun: db.prepare(
        'SELECT k.key, s.* FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ? ORDER BY k.key',
      ),
      deleteAfter: db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?'),
      deleteForResume: db.prepare(`DELETE FROM metrics WHERE run_id = @run AND (step > @step OR (step = @step AND key_id NOT IN
          (SELECT id FROM metric_keys WHERE substr(key, 1, length(@prefix)) = @prefix)))`),
      deleteSummaries: db.prepare('DELETE FROM metric_summaries WHERE run_id = ?'),
      rebuildSummaries: db.prepare(`
        INSERT INTO metric_summaries (run_id, key_id, count, first_step, last_step, last_value, min_value, min_step, max_value)
        SELECT g.run_id, g.key_id, g.n, g.first_step, g.last_step,
               (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id AND m.step = g.last_step),
               g.min_value,
               (SELECT m.step FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id AND m.value = g.min_value ORDER BY m.step LIMIT 1),
               g.max_value
        FROM (SELECT run_id, key_id, count(*) AS n, min(step) AS first_step, max(step) AS last_step,
                     min(value) AS min_value, max(value) AS max_value
              FROM metrics WHERE run_id = ? GROUP BY key_id) g`),
      recomputeLastStep: db.prepare('UPDATE runs SET last_step = coalesce((SELECT max(last_step) FROM metric_summaries WHERE run_id = @run), 0) WHERE id = @run'),
      countRun: db.prepare('SELECT coalesce(sum(count), 0) FROM metric_summaries WHERE run_id = ?').pluck(),
      stepsOfKey: db.prepare('SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step').pluck(),
      // Steady-state throughput: cumulative train/tokens over summed train/step_seconds, leaving out the first
      // logged step (it includes graph building and session creation, which dominate short runs); a run with a
      // single step falls back to that step.
      meanTokensPerSec: db
        .prepare(
          `WITH tok AS (SELECT m.step, m.value FROM metrics m WHERE m.run_id = @run AND m.key_id = (SELECT id FROM metric_keys WHERE key = 'train/tokens')),
                sec AS (SELECT m.step, m.value FROM metrics m WHERE m.run_id = @run AND m.key_id = (SELECT id FROM metric_keys WHERE key = 'train/step_seconds')),
                lim AS (SELECT min(step) AS first, max(step) AS last, count(*) AS n FROM tok)
           SELECT CASE WHEN (SELECT n FROM lim) >= 2
             THEN ((SELECT value FROM tok WHERE step = (SELECT last FROM lim)) - (SELECT value FROM tok WHERE step = (SELECT first FROM lim)))
                  / (SELECT sum(value) FROM sec WHERE step > (SELECT first FROM lim))
             ELSE (SELECT value FROM tok WHERE step = (SELECT last FROM lim)) / (SELECT sum(value) FROM sec) END`,
        )
        .pluck(),
    }
  }

  /** Interned id of a metric key (created on first use). */
  keyId(key: string): number {
    let id = this.keyIds.get(key)
    if (id === undefined) {
      this.s.keyInsert.run(key)
      id = this.s.keyGet.get(key) as number
      this.keyIds.set(key, id)
    }
    return id
  }

  /** Id of a key if it exists (never creates one). */
  existingKeyId(key: string): number | null {
    const cached = this.keyIds.get(key)
    if (cached !== undefined) return cached
    const id = this.s.keyGet.get(key) as number | undefined
    if (id === undefined) return null
    this.keyIds.set(key, id)
    return id
  }

  /** Forget cached key ids (called when a transaction that may have created keys rolls back). */
  resetCache(): void {
    this.keyIds.clear()
  }

  private tx<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)()
    } catch (e) {
      this.resetCache()
      throw e
    }
  }

  /**
   * Insert points for one run in one transaction (or inside the caller's). Points already stored (same run, key,
   * step) are ignored. Returns the number of new rows. Maintains metric_summaries and runs.last_step.
   */
  insert(runId: number, points: Iterable<MetricPoint>): number {
    return this.insertBatch([{ runId, points }])
  }

  /**
   * Insert the points of several messages (of one or several runs) at once: the job runner's flush. Summaries are
   * aggregated over the whole batch, so a batch of 125 steps × 40 metrics does 40 summary upserts, not 5,000.
   */
  insertBatch(items: Iterable<{ runId: number; points: Iterable<MetricPoint> }>): number {
    const work = () => {
      const aggs = new Map<number, Map<number, Agg>>()
      const maxSteps = new Map<number, number>()
      let inserted = 0
      for (const { runId, points } of items) {
        let runAggs = aggs.get(runId)
        if (!runAggs) aggs.set(runId, (runAggs = new Map()))
        let maxStep = maxSteps.get(runId) ?? -1
        for (const p of points) {
          const keyId = this.keyId(p.key)
          const v = toDbNumber(p.value)
          if (this.s.insert.run(runId, keyId, p.step, v).changes === 0) continue
          inserted++
          if (p.step > maxStep) maxStep = p.step
          const a = runAggs.get(keyId)
          if (!a) {
            runAggs.set(keyId, { count: 1, first: p.step, last: p.step, lastValue: v, min: v, minStep: v === null ? null : p.step, max: v })
            continue
          }
          a.count++
          if (p.step < a.first) a.first = p.step
          if (p.step > a.last) {
            a.last = p.step
            a.lastValue = v
          }
          if (v !== null) {
            if (a.min === null || v < a.min || (v === a.min && p.step < a.minStep!)) {
              a.min = v
              a.minStep = p.step
            }
            if (a.max === null || v > a.max) a.max = v
          }
        }
        maxSteps.set(runId, maxStep)
      }
      for (const [runId, runAggs] of aggs)
        for (const [keyId, a] of runAggs)
          this.s.summaryUpsert.run({ run: runId, key: keyId, count: a.count, first: a.first, last: a.last, lastValue: a.lastValue, min: a.min, minStep: a.minStep, max: a.max })
      for (const [runId, maxStep] of maxSteps) if (maxStep >= 0) this.s.runLastStep.run(maxStep, runId)
      return inserted
    }
    // inside the caller's transaction no savepoint is needed: its failure rolls all of this back
    return this.db.inTransaction ? work() : this.tx(work)
  }

  /** Delete every row of the run with step > `step` (resume from a checkpoint at `step`); recomputes summaries. */
  discardAfter(runId: number, step: number): number {
    return this.tx(() => {
      const n = this.s.deleteAfter.run(runId, step).changes
      if (n > 0) {
        this.s.deleteSummaries.run(runId)
        this.s.rebuildSummaries.run(runId)
      }
      this.s.recomputeLastStep.run({ run: runId })
      return n
    })
  }

  /**
   * Resume from a checkpoint at `step`: keep validation rows (keys starting with `validationPrefix`) at ≤ step and
   * every other row at < step (the trainer's numbering: step line s is the step taken after the checkpoint at s).
   */
  discardForResume(runId: number, step: number, validationPrefix = 'val/'): number {
    return this.tx(() => {
      const n = this.s.deleteForResume.run({ run: runId, step, prefix: validationPrefix }).changes
      if (n > 0) {
        this.s.deleteSummaries.run(runId)
        this.s.rebuildSummaries.run(runId)
      }
      this.s.recomputeLastStep.run({ run: runId })
      return n
    })
  }

  /** A metric series, LTTB-downsampled to `maxPoints` (default 1000). NaN values come back as NaN. */
  series(runId: number, key: string, opts: SeriesOptions = {}): Series {
    const keyId = this.existingKeyId(key)
    if (keyId === null) return { key, steps: [], values: [], total: 0 }
    const [n, stepsJson, valuesJson] = this.s.series.get(runId, keyId, opts.fromStep ?? Number.MIN_SAFE_INTEGER, opts.toStep ?? Number.MAX_SAFE_INTEGER) as [number, string, string]
    const steps = JSON.parse(stepsJson) as number[]
    const values = (JSON.parse(valuesJson) as (number | null)[]).map(fromDbNumber)
    const max = opts.maxPoints ?? 1000
    if (max > 0 && n > max) {
      const d = lttb(steps, values, max)
      return { key, steps: d.xs, values: d.ys, total: n }
    }
    return { key, steps, values, total: n }
  }

  /** Steps stored for one key of a run (tests and integrity checks). */
  steps(runId: number, key: string): number[] {
    const keyId = this.existingKeyId(key)
    return keyId === null ? [] : (this.s.stepsOfKey.all(runId, keyId) as number[])
  }

  keys(runId: number): string[] {
    return this.s.keysOfRun.all(runId) as string[]
  }

  summaries(runId: number): MetricSummary[] {
    return (this.s.summariesOfRun.all(runId) as SummaryRow[]).map((r) => ({
      key: r.key,
      count: r.count,
      firstStep: r.first_step,
      lastStep: r.last_step,
      lastValue: r.last_value,
      minValue: r.min_value,
      minStep: r.min_step,
      maxValue: r.max_value,
    }))
  }

  /** Training throughput over the whole run: last train/tokens ÷ Σ train/step_seconds (as ingest computes it). */
  meanTokensPerSec(runId: number): number | null {
    const r = this.s.meanTokensPerSec.get({ run: runId }) as number | null
    return r !== null && Number.isFinite(r) ? r : null
  }

  /** Number of metric rows of a run (from the summaries: O(keys)). */
  count(runId: number): number {
    return this.s.countRun.get(runId) as number
  }
}
