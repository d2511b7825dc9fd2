/** A stored run's metrics out of the store: TensorBoard event files, long-format CSV and Parquet (run, key, step, value). */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildParquet } from './parquet-writer.js'
import type { Store } from '../store/store.js'
import { writeTensorboardEvents, type ScalarSeries } from './tensorboard.js'

export const EXPORT_FORMATS = ['tensorboard', 'csv', 'parquet'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

function allSeries(store: Store, runId: number): ScalarSeries[] {
  return store.metrics.keys(runId).map((k) => {
    const s = store.metrics.series(runId, k, { maxPoints: 0 })
    return { key: k, steps: s.steps, values: s.values }
  })
}

const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
/** Long format, one row per stored value; NaN as an empty cell; numbers as JavaScript prints them (round-trip exact). */
export function metricsCsv(rows: { runId: number; run: string; series: ScalarSeries[] }[]): string {
  const out = ['run_id,run,key,step,value']
  for (const r of rows)
    for (const s of r.series) s.steps.forEach((st, i) => out.push(`${r.runId},${csvCell(r.run)},${csvCell(s.key)},${st},${Number.isNaN(s.values[i]) ? '' : String(s.values[i])}`))
  return out.join('\n') + '\n'
}

/** Export runs' metrics into `outDir`: tensorboard → <outDir>/<run id>-<name>/events.out.tfevents.*; csv → metrics.csv. */
export function exportRunMetrics(store: Store, runIds: number[], format: ExportFormat, outDir: string): { files: string[]; values: number } {
  mkdirSync(outDir, { recursive: true })
  const runs = runIds.map((id) => store.runs.require(id))
  let values = 0
  if (format === 'csv') {
    const rows = runs.map((r) => ({ runId: r.id, run: r.name, series: allSeries(store, r.id) }))
    for (const r of rows) for (const s of r.series) values += s.steps.length
    const path = join(outDir, 'metrics.csv')
    writeFileSync(path, metricsCsv(rows))
    return { files: [path], values }
  }
  if (format === 'parquet') {
    // long format, as the CSV; written with the project's minimal Parquet writer (PLAIN pages, uncompressed,
    // Thrift-compact footer; core/export/parquet-writer.ts), value OPTIONAL (NaN → null)
    const cols = { run_id: [] as number[], run: [] as string[], key: [] as string[], step: [] as number[], value: [] as (number | null)[] }
    for (const r of runs)
      for (const s of allSeries(store, r.id))
        s.steps.forEach((st, i) => {
          cols.run_id.push(r.id)
          cols.run.push(r.name)
          cols.key.push(s.key)
          cols.step.push(st)
          cols.value.push(Number.isNaN(s.values[i]) ? null : s.values[i]!)
        })
    values = cols.step.length
    const path = join(outDir, 'metrics.parquet')
    writeFileSync(
      path,
      buildParquet(
        [
          { name: 'run_id', type: 'int64', values: cols.run_id },
          { name: 'run', type: 'string', values: cols.run },
          { name: 'key', type: 'string', values: cols.key },
          { name: 'step', type: 'int64', values: cols.step },
          { name: 'value', type: 'double', optional: true, values: cols.value },
        ],
        { rowGroupSize: 100_000 },
      ),
    )
    return { files: [path], values }
  }
  const files: string[] = []
  for (const r of runs) {
    const started = r.startedAt ? Date.parse(r.startedAt) / 1000 : Date.now() / 1000
    const w = writeTensorboardEvents(join(outDir, `${r.id}-${r.name.replace(/[^A-Za-z0-9._-]+/g, '_')}`), allSeries(store, r.id), { wallTime: () => started })
    files.push(w.path)
    values += w.events
  }
  return { files, values }
}
