/** The tracker (issue 18): parallel coordinates and saved views of an experiment's run list; metric exports. */
import type { ApiHandlers } from '../contract/api.js'
import { metricsExportFiles } from '../export/metrics.js'
import { compileFilter } from '../store/filter.js'
import type { SavedView as StoredView } from '../store/views.js'
import { getParallel } from './parallel.js'
import type { ServiceState } from './state.js'

const viewOut = (v: StoredView) => ({ id: v.id, experimentId: v.experimentId, name: v.name, state: v.state as never, updatedAt: v.updatedAt })

export function trackerHandlers(s: ServiceState): Pick<ApiHandlers, 'getParallel' | 'listViews' | 'saveView' | 'deleteView' | 'exportMetrics'> {
  return {
    /** the files of `skipbench runs export`, built in memory, bytes in base64 (both transports carry them as JSON); an unknown run id is the store's NotFoundError (not_found) */
    async exportMetrics({ runIds, format }) {
      const r = metricsExportFiles(s.ctx.store, runIds, format)
      return { values: r.values, files: r.files.map((f) => ({ name: f.name, path: f.path, mediaType: f.mediaType, bytes: f.data.length, base64: f.data.toString('base64') })) }
    },
    async getParallel(q) {
      return getParallel(s.ctx, q)
    },
    async listViews({ experimentId }) {
      return s.ctx.store.views.list(experimentId).map(viewOut)
    },
    async saveView({ experimentId, name, state }) {
      if (experimentId !== null) s.requireExperiment(experimentId)
      if (state.where.trim()) compileFilter(state.where) // refuse a view whose filter does not parse
      return viewOut(s.ctx.store.views.save(experimentId, name, state))
    },
    async deleteView({ id }) {
      return { deleted: s.ctx.store.views.remove(id) }
    },
  }
}
