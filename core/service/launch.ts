/** Configs and launching: validation with estimates, sweep plans, and starting runs and sweeps (locally or on Slurm). */
import { existsSync } from 'node:fs'
import { checkRunConfig, ConfigError, hasGlob, isDatasetPath, issue, issueText, resolveRunConfigInput, type ConfigIssue, type ResolvedRunConfig } from '../config/index.js'
import type { ApiHandlers, RunConfigDoc } from '../contract/api.js'
import { queueSweep } from '../sweeps/index.js'
import { checkConfig, planSweep, storeIssues, type StoreChecks } from './config.js'
import { BadRequest, notFound } from './errors.js'
import { resolveSweepDataPaths } from './paths.js'
import type { ServiceState } from './state.js'

/**
 * What the schema cannot know, checked against the current data folder (ADR 0019): the data sets it has, and whether
 * a dataset path exists (inside the folders skipbench may read).
 */
function storeChecks(s: ServiceState): StoreChecks {
  // one listing per request (a sweep plan checks every point): read the data folder once, on first use
  let names: readonly string[] | null = null
  return {
    datasets: () => (names ??= s.imports.list().datasets.filter((d) => d.ok).map((d) => d.name)),
    pathIssue: (d) => {
      if (!isDatasetPath(d) || hasGlob(d)) return null
      try {
        const abs = s.paths.resolve(d, 'dataset folder', 'read')
        return existsSync(abs) ? null : issue('data.dataset', `no dataset folder or shard file at ${abs}`, `Nothing at ${abs}: give the folder of a prepared dataset or a token file`)
      } catch (e) {
        return issue('data.dataset', (e as Error).message)
      }
    },
  }
}

/** "Not started: …" with each issue in the app's words (the renderer shows it as is). */
const notStarted = (issues: readonly ConfigIssue[]) => new BadRequest(`Not started: ${issues.map(issueText).join('; ')}`)

export function launchHandlers(s: ServiceState): Pick<ApiHandlers, 'validateConfig' | 'planSweep' | 'startRun' | 'startSweep'> {
  const throughput = () => s.throughput()
  return {
    async validateConfig({ config }) {
      return checkConfig(s.withDefaults(config), throughput, storeChecks(s))
    },
    async planSweep(spec) {
      return planSweep(s.sweepDefaults(spec), throughput(), s.ctx.settings.concurrency, storeChecks(s)).plan
    },
    async startRun({ config: given, experimentId, name, tags, on }) {
      const ctx = s.ctx
      s.requireExperiment(experimentId)
      // parsed once, here; the queue, the worker and the trainer take this resolved config as it is
      const config = resolveToStart(s.withDefaults(s.withPaths(given)))
      // what only this data folder knows (the dataset exists): refused here, not as a stack trace in the run's log
      const missing = storeIssues(config.data, storeChecks(s))
      if (missing.length) throw notStarted(missing)
      if (on) {
        // "Run on: NAME": submitted to that Slurm cluster; the context's poller streams it into the store
        if (!ctx.store.clusters.get(on)) throw notFound(`cluster "${on}" (add it in Settings)`)
        const { runs, jobs } = await ctx.clusters.submit(on, [{ config, experimentId, tags, ...(name?.trim() ? { name: name.trim() } : {}) }])
        ctx.emit({ type: 'runs-changed', change: 'created', runIds: [runs[0]!.id], experimentId })
        if (experimentId !== null) ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId })
        ctx.watchClusters()
        return { runId: runs[0]!.id, jobId: jobs[0]!.id }
      }
      const { job, run } = ctx.queue.addTrain(config, { experimentId, tags, ...(name?.trim() ? { name: name.trim() } : {}) })
      ctx.emit({ type: 'runs-changed', change: 'created', runIds: [run.id], experimentId })
      if (experimentId !== null) ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId })
      return { runId: run.id, jobId: job.id }
    },
    async startSweep({ experimentId, spec }) {
      const ctx = s.ctx
      s.requireExperiment(experimentId)
      // data paths made absolute before the plan parses the points, as startRun does before its one parse
      const { plan, sweep } = planSweep(s.sweepDefaults(resolveSweepDataPaths(spec, s.paths)), throughput(), ctx.settings.concurrency, storeChecks(s))
      if (plan.axisIssues.length) throw notStarted(plan.axisIssues.map((a) => a.issue))
      if (plan.invalid) {
        const bad = plan.runs.filter((r) => !r.ok).slice(0, 5)
        throw new BadRequest(`Not started: ${plan.invalid} of ${plan.count} sweep runs are invalid: ${bad.map((r) => `${r.name}: ${r.issues.map(issueText).join(', ')}`).join('; ')}`)
      }
      // core/sweeps queues it as the CLI does (tags sweep:<name>, group:<group>); starting the same sweep again
      // resumes or retries its unfinished points instead of duplicating them
      const queued = queueSweep(ctx.queue, sweep, { experiment: ctx.store.experiments.get(experimentId)!.name })
      const runIds = queued.points.map((p) => p.runId)
      const jobIds = queued.points.map((p) => p.jobId)
      ctx.emit({ type: 'runs-changed', change: 'created', runIds, experimentId })
      ctx.emit({ type: 'experiment-changed', change: 'updated', experimentId })
      return { runIds, jobIds }
    },
  }
}

/** The one parse of a run the service starts: presets merged, validated, every default applied; else a BadRequest. */
function resolveToStart(doc: RunConfigDoc): ResolvedRunConfig {
  let issues: ConfigIssue[]
  try {
    const r = checkRunConfig(resolveRunConfigInput(doc))
    if (r.ok) return r.config
    issues = r.issues
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    issues = e.configIssues
  }
  throw notStarted(issues)
}
