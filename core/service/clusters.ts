/** Slurm cluster profiles (Settings): list, save, remove, check. Runs are submitted by core/service/launch.ts. */
import type { ApiHandlers } from '../contract/api.js'
import { notFound } from './errors.js'
import type { ServiceState } from './state.js'

export function clusterHandlers(s: ServiceState): Pick<ApiHandlers, 'listClusters' | 'saveCluster' | 'removeCluster' | 'checkCluster'> {
  return {
    async listClusters() {
      return s.ctx.clusters.profiles()
    },
    async saveCluster(profile) {
      return s.ctx.clusters.saveProfile(profile)
    },
    async removeCluster({ name }) {
      if (!s.ctx.store.clusters.get(name)) throw notFound(`cluster "${name}"`)
      return { removed: s.ctx.clusters.removeProfile(name) }
    },
    async checkCluster({ name }) {
      if (!s.ctx.store.clusters.get(name)) throw notFound(`cluster "${name}"`)
      return s.ctx.clusters.check(name)
    },
  }
}
