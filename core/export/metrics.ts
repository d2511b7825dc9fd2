/** A stored run's metrics out of the store: TensorBoard event files, long-format CSV and Parquet (run, key, step, value). */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { buildParquet } from './parquet-writer.js'
import type { MetricsExportFormat } from '../contract/runs.js'
import type { Store } from '../store/store.js'
import { tensorboardEventFile, type ScalarSeries } from './tensorboard.js'

function allSeries(store: Store, runId: number): ScalarSeries[] {
  return store.metrics.keys(runId).map((k) => {
    const s = store.metrics.series(runId, k, { maxPoints: 0 })
    return { key: k, steps: s.steps, values: s.values }
  })
}

const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
/** Long format, one row per stored value; NaN as an empty cell; numbers as JavaScript prints them (round-trip exact). */
function metricsCsv(rows: { runId: number; run: string; series: ScalarSeries[] }[]): string {
  const out = ['run_id,run,key,step,value']
  for (const r of rows)
    for (const s of r.series) s.steps.forEach((st, i) => out.push(`${r.runId},${csvCell(r.run)},${csvCell(s.key)},${st},${Number.isNaN(s.values[i]) ? '' : String(s.values[i])}`))
  return out.join('\n') + '\n'
}

const idsPrefix = (runs: { id: number }[]) => (runs.length === 1 ? `run-${runs[0]!.id}` : runs.length <= 4 ? `runs-${runs.map((r) => r.id).join('-')}` : `${runs.length}-runs`)

/** One exported file: its path relative to the export folder (a run's TensorBoard file sits in a folder of its own), bytes and media type. */
export interface MetricsFile {
  path: string
  /** a flat name for a download: the path's folders joined with dots, run ids first (TensorBoard reads any name containing "tfevents") */
  name: string
  data: Buffer
  mediaType: string
}

/**
 * Runs' stored metrics as files, in memory: tensorboard → <run id>-<name>/events.out.tfevents.* per run; csv →
 * metrics.csv; parquet → metrics.parquet (both long format: run_id, run, key, step, value).
 */
export function metricsExportFiles(store: Store, runIds: number[], format: MetricsExportFormat): { files: MetricsFile[]; values: number } {
  const runs = runIds.map((id) => store.runs.require(id))
  let values = 0
  if (format === 'csv') {
    const rows = runs.map((r) => ({ runId: r.id, run: r.name, series: allSeries(store, r.id) }))
    for (const r of rows) for (const s of r.series) values += s.steps.length
    return { files: [{ path: 'metrics.csv', name: `${idsPrefix(runs)}-metrics.csv`, data: Buffer.from(metricsCsv(rows), 'utf8'), mediaType: 'text/csv' }], values }
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
    const data = buildParquet(
      [
        { name: 'run_id', type: 'int64', values: cols.run_id },
        { name: 'run', type: 'string', values: cols.run },
        { name: 'key', type: 'string', values: cols.key },
        { name: 'step', type: 'int64', values: cols.step },
        { name: 'value', type: 'double', optional: true, values: cols.value },
      ],
      { rowGroupSize: 100_000 },
    )
    return { files: [{ path: 'metrics.parquet', name: `${idsPrefix(runs)}-metrics.parquet`, data, mediaType: 'application/vnd.apache.parquet' }], values }
  }
  const files: MetricsFile[] = []
  for (const r of runs) {
    const started = r.startedAt ? Date.parse(r.startedAt) / 1000 : Date.now() / 1000
    const f = tensorboardEventFile(allSeries(store, r.id), { wallTime: () => started })
    const folder = `${r.id}-${r.name.replace(/[^A-Za-z0-9._-]+/g, '_')}`
    files.push({ path: `${folder}/${f.name}`, name: `run-${folder}.${f.name}`, data: f.data, mediaType: 'application/octet-stream' })
    values += f.events
  }
  return { files, values }
}

/** Export runs' metrics into `outDir` (the layout of metricsExportFiles). */
export function exportRunMetrics(store: Store, runIds: number[], format: MetricsExportFormat, outDir: string): { files: string[]; values: number } {
  const r = metricsExportFiles(store, runIds, format)
  const files: string[] = []
  for (const f of r.files) {
    const path = join(outDir, f.path)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, f.data)
    files.push(path)
  }
  mkdirSync(outDir, { recursive: true })
  return { files, values: r.values }
}
