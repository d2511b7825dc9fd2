/** Experiments: list (with search), create, update, delete (optionally with their runs). */
import type { ApiHandlers } from '../contract/api.js'
import { notFound } from './errors.js'
import { deleteRun } from './runs.js'
import type { ServiceState } from './state.js'

export function experimentHandlers(s: ServiceState): Pick<ApiHandlers, 'listExperiments' | 'getExperiment' | 'createExperiment' | 'updateExperiment' | 'deleteExperiment'> {
  return {
    async listExperiments({ search }) {
      const all = s.ctx.store.experiments.list()
      const q = search?.trim().toLowerCase()
      if (!q) return all
      return all.filter((e) => e.name.toLowerCase().includes(q) || e.description.toLowerCase().includes(q) || e.tags.some((t) => t.toLowerCase().includes(q)))
    },
    async getExperiment({ id }) {
      return s.experimentOut(id)
    },
    async createExperiment(input) {
      const e = s.ctx.store.experiments.create(input)
      s.ctx.emit({ type: 'experiment-changed', change: 'created', experimentId: e.id })
      return s.experimentOut(e.id)
    },
    async updateExperiment({ id, ...patch }) {
      s.ctx.store.experiments.update(id, patch)
      s.ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId: id })
      return s.experimentOut(id)
    },
    async deleteExperiment({ id, deleteRuns }) {
      const ctx = s.ctx
      if (!ctx.store.experiments.get(id)) throw notFound(`experiment ${id}`)
      const ids = ctx.store.runs.list({ experimentId: id, limit: 10_000, summaries: [] }).rows.map((r) => r.id)
      let runsDeleted = 0
      if (deleteRuns) for (const runId of ids) if ((await deleteRun(ctx, runId, true)).deleted) runsDeleted++
      const deleted = ctx.store.experiments.remove(id)
      if (!deleteRuns) for (const runId of ids) ctx.forget(runId) // their experiment is now null
      ctx.emit({ type: 'experiment-changed', change: 'deleted', experimentId: id })
      return { deleted, runsDeleted }
    },
  }
}
