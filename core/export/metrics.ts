/** A stored run's metrics out of the store: TensorBoard event files and long-format CSV (run, key, step, value). */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Store } from '../store/store.js'
import { writeTensorboardEvents, type ScalarSeries } from './tensorboard.js'

export const EXPORT_FORMATS = ['tensorboard', 'csv'] as const
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
  const files: string[] = []
  for (const r of runs) {
    const started = r.startedAt ? Date.parse(r.startedAt) / 1000 : Date.now() / 1000
    const w = writeTensorboardEvents(join(outDir, `${r.id}-${r.name.replace(/[^A-Za-z0-9._-]+/g, '_')}`), allSeries(store, r.id), { wallTime: () => started })
    files.push(w.path)
    values += w.events
  }
  return { files, values }
}
