/**
 * Store benchmark: metric ingest rows/s, run-list latency at 10,000 runs and series query latency, each beside a
 * naive baseline.
 *
 *   npx tsx scripts/bench/store.ts [--runs 10000] [--steps 100] [--series 1000000] [--reps 15] [--json reports/bench-store.json]
 *
 * Ingest:   ours = the job runner's write path (MetricsRepository.insert, one call per step of 40 metrics, ~5,000 rows
 *           per transaction, summaries maintained); naive = the same INSERT, one row per transaction (autocommit), on
 *           the same WAL database; and the same with SQLite's default rollback journal + synchronous FULL.
 * Run list: ours = RunsRepository.list (metric_summaries join) sorted by min val/loss, 100 rows with the total;
 *           naive = the same page computed from the metrics table with correlated subqueries (no summary table).
 * Series:   ours = MetricsRepository.series → LTTB to 1,000 points; naive = every row of the series as objects.
 * Latencies are medians over --reps after one warm-up. Everything runs in a fresh temporary folder, deleted after.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { openStore, type Store } from '../../core/store/index.js'
import type { MetricPoint } from '../../core/store/types.js'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    steps: { type: 'string', default: '100' },
    series: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '15' },
    json: { type: 'string' },
  },
})
const RUNS = Number(args.runs)
const STEPS = Number(args.steps)
const SERIES = Number(args.series)
const REPS = Number(args.reps)

const dir = mkdtempSync(join(tmpdir(), 'skipbench-bench-store-'))
const now = () => performance.now()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
function time(fn: () => unknown, reps = REPS): { medianMs: number; minMs: number } {
  fn()
  const ts: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = now()
    fn()
    ts.push(now() - t0)
  }
  return { medianMs: median(ts), minMs: Math.min(...ts) }
}

/** 40 metric keys per step, like a tiny gated run's step event. */
const STEP_KEYS = ['train/loss', 'train/ce', 'train/lr', 'train/tokens', 'train/step_seconds', ...Array.from({ length: 35 }, (_, i) => `train/gates/mean/layer_${String(i).padStart(2, '0')}`)]
const stepPoints = (step: number): MetricPoint[] => STEP_KEYS.map((key, i) => ({ step, key, value: 1 / (step + 1) + i * 1e-3 }))

const results: Record<string, unknown> = { runs: RUNS, stepsPerRun: STEPS, seriesPoints: SERIES, reps: REPS, node: process.version, sqlite: '' }
const rows: [string, string, string][] = []

try {
  // ---------------------------------------------------------------- ingest
  {
    const store = openStore(join(dir, 'ingest.db'))
    results.sqlite = (store.db.prepare('SELECT sqlite_version()').pluck().get() as string) ?? ''
    const run = store.runs.create({ name: 'ingest', kind: 'gated', config: {} })
    const STEPS_INGEST = 25_000 // 1,000,000 rows
    const t0 = now()
    // what the job runner's flush does: the messages of ~100 ms (here 125 steps) in one insertBatch, one transaction
    for (let s = 0; s < STEPS_INGEST; s += 125) {
      const batch = Array.from({ length: 125 }, (_, i) => ({ runId: run.id, points: stepPoints(s + i) }))
      store.transaction(() => store.metrics.insertBatch(batch))
    }
    const oursSec = (now() - t0) / 1000
    const oursRows = STEPS_INGEST * STEP_KEYS.length
    // re-sending the same steps (a retry) adds nothing and costs:
    const t1 = now()
    store.transaction(() => store.metrics.insertBatch(Array.from({ length: 2500 }, (_, k) => ({ runId: run.id, points: stepPoints(k) }))))
    const dupSec = (now() - t1) / 1000
    store.close()

    // naive: one INSERT per transaction, same schema, same WAL + synchronous NORMAL connection
    const naive = openStore(join(dir, 'naive.db'))
    const nrun = naive.runs.create({ name: 'naive', kind: 'gated', config: {} })
    const keyIds = STEP_KEYS.map((k) => naive.metrics.keyId(k))
    const ins = naive.db.prepare('INSERT INTO metrics (run_id, key_id, step, value) VALUES (?, ?, ?, ?)')
    const NAIVE_STEPS = 1000 // 40,000 rows
    const t2 = now()
    for (let s = 0; s < NAIVE_STEPS; s++) for (let i = 0; i < STEP_KEYS.length; i++) ins.run(nrun.id, keyIds[i], s, 1 / (s + 1))
    const naiveSec = (now() - t2) / 1000
    naive.close()

    // naive with SQLite's defaults: rollback journal, synchronous FULL (an fsync per commit)
    const d = new Database(join(dir, 'defaults.db'))
    d.exec('CREATE TABLE metrics (run_id INTEGER, key TEXT, step INTEGER, value REAL, PRIMARY KEY (run_id, key, step)) WITHOUT ROWID')
    const dins = d.prepare('INSERT INTO metrics VALUES (1, ?, ?, ?)')
    const DEF_ROWS = 300
    const t3 = now()
    for (let r = 0; r < DEF_ROWS; r++) dins.run(STEP_KEYS[r % 40], Math.floor(r / 40), 1)
    const defSec = (now() - t3) / 1000
    d.close()

    results.ingest = {
      oursRowsPerSec: oursRows / oursSec,
      oursRows,
      duplicateRowsPerSec: (2500 * 40) / dupSec,
      naiveRowsPerSec: (NAIVE_STEPS * 40) / naiveSec,
      naiveRows: NAIVE_STEPS * 40,
      naiveDefaultsRowsPerSec: DEF_ROWS / defSec,
      naiveDefaultsRows: DEF_ROWS,
    }
    const f = (x: number) => `${Math.round(x).toLocaleString('en-US')} rows/s`
    rows.push(['metric ingest (40 metrics/step, ~5k rows/txn, summaries kept)', f(oursRows / oursSec), `${f((NAIVE_STEPS * 40) / naiveSec)} (1 row/txn, WAL) · ${f(DEF_ROWS / defSec)} (1 row/txn, SQLite defaults)`])
    rows.push(['re-sent rows (ignored duplicates)', f((2500 * 40) / dupSec), ''])
  }

  // ---------------------------------------------------------------- 10,000 runs
  const store: Store = openStore(join(dir, 'runs.db'))
  {
    const t0 = now()
    const kinds = ['dense', 'gated'] as const
    const statuses = ['completed', 'failed', 'cancelled', 'running'] as const
    const exp = store.experiments.create({ name: 'bench' })
    for (let base = 0; base < RUNS; base += 50)
      store.transaction(() => {
        for (let r = base; r < Math.min(RUNS, base + 50); r++) {
          const run = store.runs.create({
            name: `run-${r}`,
            kind: kinds[r % 2]!,
            status: statuses[r % 4]!,
            config: { model: { dim: 16 << r % 4, n_layers: 2 + (r % 3) * 2, zero_init_masks: r % 2 === 0 }, optimizer: { lr: 1e-3 * (1 + (r % 7)) }, training: { seed: r } },
            seed: r,
            engine: 'ort',
            dataset: 'synthetic',
            experimentId: r % 3 === 0 ? exp.id : null,
            tags: r % 5 === 0 ? ['sweep'] : [],
          })
          const pts: MetricPoint[] = []
          const a = 3 + (r % 97) / 50
          for (let s = 0; s < STEPS; s++) {
            pts.push({ step: s, key: 'train/loss', value: a / Math.sqrt(s + 1) })
            pts.push({ step: s, key: 'train/lr', value: 1e-3 })
          }
          for (let s = 0; s <= STEPS; s += Math.max(1, Math.floor(STEPS / 10))) pts.push({ step: s, key: 'val/loss', value: a / Math.sqrt(s + 1) + 0.1 })
          store.metrics.insert(run.id, pts)
        }
      })
    const metricRows = store.db.prepare('SELECT count(*) FROM metrics').pluck().get() as number
    results.populate = { seconds: (now() - t0) / 1000, metricRows, dbBytes: statSync(join(dir, 'runs.db')).size }

    const page = () => store.runs.list({ sort: { metric: 'val/loss', agg: 'min', dir: 'asc' }, summaries: ['train/loss', 'val/loss'], limit: 100 })
    const first = page()
    if (first.total !== RUNS || first.rows.length !== Math.min(100, RUNS)) throw new Error('run list returned the wrong rows')
    const ours = time(page)
    const filtered = time(() => store.runs.list({ status: ['completed'], kind: 'gated', tags: ['sweep'], sort: { metric: 'train/loss', agg: 'last', dir: 'desc' }, limit: 100 }))
    const byConfig = time(() => store.runs.list({ configEquals: { 'model.dim': 32 }, sort: { by: 'created_at', dir: 'desc' }, limit: 100 }))
    const search = time(() => store.runs.list({ search: 'run-12', limit: 100 }))

    const valKey = store.metrics.existingKeyId('val/loss')
    const trainKey = store.metrics.existingKeyId('train/loss')
    const naiveSql = store.db.prepare(`
      SELECT r.*, (SELECT min(value) FROM metrics m WHERE m.run_id = r.id AND m.key_id = @val) AS val_min,
             (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.key_id = @val ORDER BY step DESC LIMIT 1) AS val_last,
             (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.key_id = @train ORDER BY step DESC LIMIT 1) AS train_last,
             (SELECT count(*) FROM runs) AS total
      FROM runs r ORDER BY val_min ASC, r.id DESC LIMIT 100`)
    const naiveRes = naiveSql.all({ val: valKey, train: trainKey }) as { id: number }[]
    if (naiveRes[0]!.id !== first.rows[0]!.id) throw new Error('naive and ours disagree on the best run')
    const naive = time(() => naiveSql.all({ val: valKey, train: trainKey }), Math.min(REPS, 5))
    results.runList = { oursMs: ours.medianMs, filteredMs: filtered.medianMs, byConfigMs: byConfig.medianMs, searchMs: search.medianMs, naiveMs: naive.medianMs }
    const ms = (x: number) => `${x.toFixed(2)} ms`
    rows.push([`run list, ${RUNS.toLocaleString('en-US')} runs, sort by min val/loss, 100 rows + total`, ms(ours.medianMs), `${ms(naive.medianMs)} (subqueries over metrics)`])
    rows.push(['  … filtered (status, kind, tag), sort by last train/loss', ms(filtered.medianMs), ''])
    rows.push(['  … config field model.dim = 32, sort by created_at', ms(byConfig.medianMs), ''])
    rows.push(['  … name search', ms(search.medianMs), ''])

    // ---------------------------------------------------------------- series
    const big = store.runs.create({ name: 'long', kind: 'gated', config: {} })
    for (let s0 = 0; s0 < SERIES; s0 += 10_000)
      store.transaction(() => {
        const pts: MetricPoint[] = []
        for (let s = s0; s < Math.min(SERIES, s0 + 10_000); s++) pts.push({ step: s, key: 'train/loss', value: 3 / Math.sqrt(s + 1) + 0.01 * Math.sin(s) })
        store.metrics.insert(big.id, pts)
      })
    const mid = Math.floor(SERIES / 2)
    const s1 = time(() => store.metrics.series(big.id, 'train/loss', { maxPoints: 1000 }), Math.min(REPS, 7))
    const naiveSeries = store.db.prepare('SELECT step, value FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step')
    const s2 = time(() => naiveSeries.all(big.id, trainKey), Math.min(REPS, 7))
    if (store.metrics.series(big.id, 'train/loss', { maxPoints: 1000, fromStep: mid, toStep: mid + 9_999 }).total !== Math.min(10_000, SERIES - mid)) throw new Error('zoom window is wrong')
    const small = time(() => store.metrics.series(first.rows[0]!.id, 'train/loss', { maxPoints: 1000 }))
    const zoom = time(() => store.metrics.series(big.id, 'train/loss', { maxPoints: 1000, fromStep: mid, toStep: mid + 9_999 }))
    results.series = { points: SERIES, oursMs: s1.medianMs, naiveMs: s2.medianMs, smallMs: small.medianMs, zoom10kMs: zoom.medianMs }
    rows.push([`series of ${SERIES.toLocaleString('en-US')} points → LTTB 1,000`, ms(s1.medianMs), `${ms(s2.medianMs)} (all ${SERIES.toLocaleString('en-US')} rows as objects, no downsampling)`])
    rows.push([`series of ${STEPS} points (a run of the list)`, ms(small.medianMs), ''])
    rows.push(['zoom: 10,000-step window of the long series → 1,000', ms(zoom.medianMs), ''])
    store.close()
  }

  const w0 = Math.max(...rows.map((r) => r[0].length))
  const w1 = Math.max(...rows.map((r) => r[1].length), 4)
  const pop = results.populate as { seconds: number; metricRows: number; dbBytes: number }
  console.log(`skipbench store benchmark — SQLite ${results.sqlite}, Node ${process.version}, ${RUNS.toLocaleString('en-US')} runs, ${pop.metricRows.toLocaleString('en-US')} metric rows (${(pop.dbBytes / 2 ** 20).toFixed(0)} MiB, populated in ${pop.seconds.toFixed(1)} s)`)
  console.log(`${'measure'.padEnd(w0)}  ${'ours'.padEnd(w1)}  naive baseline`)
  for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`)
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true })
    writeFileSync(args.json, JSON.stringify(results, null, 2) + '\n')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
