/**
 * A cluster profile: how skipbench reaches a Slurm cluster and what every job asks for. The schema lives in
 * core/contract/cluster.ts (shared with the transports and the renderer); stored as JSON in the `clusters` table
 * (migration 0050).
 */
import { ClusterProfileSchema, type ClusterProfile } from '../contract/cluster.js'
import { UserError } from '../user-errors.js'

export { ClusterProfileSchema, type ClusterProfile, type ClusterProfileInput } from '../contract/cluster.js'

export class ClusterError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'ClusterError'
  }
}

/** Validate a profile; every problem is named, e.g. `cluster profile: time: a Slurm time limit, e.g. ...`. */
export function parseClusterProfile(input: unknown): ClusterProfile {
  const r = ClusterProfileSchema.safeParse(input)
  if (r.success) return r.data
  throw new ClusterError(`cluster profile: ${r.error.issues.map((i) => `${i.path.join('.') || '(profile)'}: ${i.message}`).join('; ')}`)
}
