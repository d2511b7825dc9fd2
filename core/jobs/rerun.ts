/**
 * "Re-run exactly": queue a new run with the stored run's full resolved config (same seed, same data, same engine
 * settings), remember which run it re-runs (runs.rerun_of), and compare the two runs' metrics value by value.
 *
 * On CPU the trainer is deterministic (seeded init, seeded data order, fixed reduction order), so every stored value
 * of a re-run equals the original's bit for bit — the comparison says so, or names the first value that differs.
 * Timing and system keys (tokens/s, step seconds, sys/*) measure the machine, not the computation: they are left out
 * and listed as such.
 */
import type { Store } from '../store/store.js'
import type { Job, Run } from '../store/types.js'
import { isTimingOrSystemKey } from '../trainer/system-metrics.js'
import { assertResolved, type ResolvedRunConfig } from '../config/index.js'
import { enqueueTrain } from './enqueue.js'
import { JobError, type AddTrainOptions } from './types.js'

export interface MetricMismatch {
  key: string
  step: number
  /** null: the value is missing from that run */
  original: number | null
  rerun: number | null
}

export interface RerunComparison {
  original: number
  rerun: number
  /** every compared value equal bit for bit (NaN equals NaN), and the same (key, step) pairs in both */
  identical: boolean
  /** values compared */
  compared: number
  keys: number
  /** values that differ or exist in one run only (the first 20) */
  mismatches: MetricMismatch[]
  mismatchCount: number
  /** keys left out because they measure the machine (timing, sys/*) */
  ignoredKeys: string[]
}

/** bit-for-bit equality of doubles as stored (NaN is stored as NULL, so any NaN equals any NaN; +0 and -0 differ) */
const same = (a: number, b: number) => Object.is(a, b)

/** Compare two runs' stored metrics exactly (bit for bit), leaving out timing and system keys. */
export function compareRunMetrics(store: Store, originalId: number, rerunId: number): RerunComparison {
  store.runs.require(originalId)
  store.runs.require(rerunId)
  const keysA = store.metrics.keys(originalId)
  const keysB = store.metrics.keys(rerunId)
  const all = [...new Set([...keysA, ...keysB])].sort()
  const ignored = all.filter(isTimingOrSystemKey)
  const keys = all.filter((k) => !isTimingOrSystemKey(k))
  const mismatches: MetricMismatch[] = []
  let mismatchCount = 0
  let compared = 0
  const miss = (m: MetricMismatch) => {
    mismatchCount++
    if (mismatches.length < 20) mismatches.push(m)
  }
  for (const key of keys) {
    const a = store.metrics.series(originalId, key, { maxPoints: 0 })
    const b = store.metrics.series(rerunId, key, { maxPoints: 0 })
    const bByStep = new Map<number, number>()
    b.steps.forEach((s, i) => bByStep.set(s, b.values[i]!))
    a.steps.forEach((s, i) => {
      const va = a.values[i]!
      const vb = bByStep.get(s)
      if (vb === undefined) return miss({ key, step: s, original: va, rerun: null })
      bByStep.delete(s)
      compared++
      if (!same(va, vb)) miss({ key, step: s, original: va, rerun: vb })
    })
    for (const [s, vb] of bByStep) miss({ key, step: s, original: null, rerun: vb })
  }
  return { original: originalId, rerun: rerunId, identical: mismatchCount === 0 && compared > 0, compared, keys: keys.length, mismatches, mismatchCount, ignoredKeys: ignored }
}

/** One line saying whether the re-run reproduced the original. */
export function formatRerunComparison(c: RerunComparison): string {
  if (c.identical)
    return `run ${c.rerun} reproduces run ${c.original} bit for bit: ${c.compared} values over ${c.keys} metric keys are identical (timing/system keys not compared: ${c.ignoredKeys.length})`
  if (!c.compared && !c.mismatchCount) return `run ${c.rerun} has no metrics to compare with run ${c.original} yet`
  const m = c.mismatches[0]
  const first = m ? `; first: ${m.key} at step ${m.step}: ${m.original ?? 'missing'} vs ${m.rerun ?? 'missing'}` : ''
  return `run ${c.rerun} DIFFERS from run ${c.original}: ${c.mismatchCount} of ${c.compared + c.mismatchCount} values differ or are missing${first}`
}

export type Enqueue = (config: ResolvedRunConfig, o: AddTrainOptions & { dataDir?: string }) => { job: Job; run: Run }

/**
 * Queue an exact re-run of a stored run: same resolved config (seed included), same data folder, same experiment and
 * tags. `enqueue` is the caller's way in (a JobQueue's addTrain, which also wakes the runner; default: the store).
 */
export function queueRerun(store: Store, runId: number, runsDir: string, enqueue?: Enqueue): { job: Job; run: Run } {
  const orig = store.runs.require(runId)
  if (!orig.config || !Object.keys(orig.config).length) throw new JobError(`run ${runId} has no stored config; it cannot be re-run`)
  const prevJob = store.jobs.forRun(runId).find((j) => j.kind === 'train')
  const dataDir = typeof prevJob?.payload.dataDir === 'string' ? prevJob.payload.dataDir : undefined
  const add: Enqueue = enqueue ?? ((c, o) => enqueueTrain(store, runsDir, c, o))
  // the stored config was resolved when the run was queued: checked, not re-parsed or re-defaulted
  const r = add(assertResolved(orig.config), {
    name: `${orig.name} (rerun of ${orig.id})`,
    experimentId: orig.experimentId,
    tags: orig.tags,
    notes: `exact re-run of run ${orig.id}`,
    ...(dataDir ? { dataDir } : {}),
  })
  return { job: r.job, run: store.runs.update(r.run.id, { rerunOf: orig.id }) }
}
