/** The tracker (issue 18): parallel coordinates and saved views of an experiment's run list. */
import type { ApiHandlers } from '../contract/api.js'
import { compileFilter } from '../store/filter.js'
import type { SavedView as StoredView } from '../store/views.js'
import { getParallel } from './parallel.js'
import type { ServiceState } from './state.js'

const viewOut = (v: StoredView) => ({ id: v.id, experimentId: v.experimentId, name: v.name, state: v.state as never, updatedAt: v.updatedAt })

export function trackerHandlers(s: ServiceState): Pick<ApiHandlers, 'getParallel' | 'listViews' | 'saveView' | 'deleteView'> {
  return {
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
