/** Comparisons and reports of an experiment: the comparison table, the report preview, and exported reports. */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { ApiHandlers } from '../contract/api.js'
import { buildReport, previewReportHtml } from '../report-export/index.js'
import { previewReportOffThread } from '../report-export/offthread.js'
import { compareExperiment } from './compare.js'
import { conflict, notFound } from './errors.js'
import type { ServiceState } from './state.js'

/** experiments with at least this many runs get their report preview built off the event loop (a worker thread) */
const OFF_THREAD_MIN_RUNS = 100

export function reportHandlers(s: ServiceState): Pick<ApiHandlers, 'compareExperiment' | 'previewReport' | 'exportReport'> {
  return {
    async compareExperiment(q) {
      return compareExperiment(s.ctx, q)
    },
    async previewReport({ experimentId, estimator, flopsKind }) {
      const ctx = s.ctx
      if (!ctx.store.experiments.get(experimentId)) throw notFound(`experiment ${experimentId}`)
      const options = { experiment: experimentId, estimator, flopsKind }
      // a large experiment takes seconds of CPU: build it on a worker thread so other requests are answered meanwhile
      const runs = ctx.store.runs.list({ experimentId, limit: 1 }).total
      const off = runs >= OFF_THREAD_MIN_RUNS ? previewReportOffThread(ctx.dbPath, options, s.opts.nativeBinding) : null
      return { html: off ? await off : previewReportHtml(ctx.store, options) }
    },
    async exportReport({ experimentId, estimator, flopsKind, formats, outDir, overwrite }) {
      const ctx = s.ctx
      const e = ctx.store.experiments.get(experimentId)
      if (!e) throw notFound(`experiment ${experimentId}`)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
      const dir = outDir ? s.paths.resolve(outDir, 'report folder', 'write') : join(ctx.homeDir, 'reports', `${e.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stamp}`)
      if (!overwrite && existsSync(dir) && readdirSync(dir).length)
        throw conflict(`report folder ${dir} already exists and is not empty: choose another folder, or pass overwrite: true to replace its files`)
      const r = await buildReport(ctx.store, { experiment: experimentId, estimator, flopsKind, formats, outDir: dir })
      return { outDir: r.outDir, files: r.files.map((f) => ({ format: f.format, path: f.path })), seconds: r.seconds + r.buildSeconds, warnings: r.warnings }
    },
  }
}
