/**
 * Writing jobs into the queue's table: a new training job with its run, a job set queued again (resume, retry,
 * automatic retry), and the checkpoint a resume starts from. Plain functions of the store, called in (or as) one
 * transaction; the JobQueue publishes the events.
 */
import { randomUUID } from 'node:crypto'
import { join, resolve } from 'node:path'
import { syncCheckpoints } from '../store/ingest.js'
import { checkpointProblem, runKind } from '../store/run-folder.js'
import type { Store } from '../store/store.js'
import type { Job, JsonObject, Run } from '../store/types.js'
import { runConfigToJson, upgradeStoredConfig, type ResolvedRunConfig } from '../config/index.js'
import { parseTrainPayload, type TrainPayload } from './protocol.js'
import type { AddTrainOptions } from './types.js'
import { runFolderName } from '../paths.js'

/** A run row in status queued, with its folder under runsDir. Call in a transaction. */
function createQueuedRun(store: Store, runsDir: string, config: JsonObject, o: { name?: string | null; experimentId?: number | null; tags?: string[]; notes?: string }): Run {
  const uid = randomUUID()
  const name = o.name || (typeof config.name === 'string' && config.name) || 'run'
  const training = (config.training ?? {}) as { seed?: number }
  const data = (config.data ?? {}) as { dataset?: string }
  return store.runs.create({
    uid,
    name,
    kind: runKind(config),
    status: 'queued',
    config,
    seed: training.seed ?? null,
    dataset: data.dataset ?? null,
    runDir: join(resolve(runsDir), runFolderName(name, uid)),
    experimentId: o.experimentId ?? null,
    tags: o.tags ?? [],
    notes: o.notes ?? '',
  })
}

/**
 * Put a training job in the queue without running anything (`skipbench queue add`; JobQueue.addTrain uses it too).
 * Takes a config the caller resolved once (parseRunConfig at its boundary; nothing here parses or defaults it),
 * creates the run (status queued) and the job in one transaction. A runner (`skipbench worker`, the app, the
 * server) picks it up.
 */
export function enqueueTrain(store: Store, runsDir: string, config: ResolvedRunConfig, o: AddTrainOptions & { dataDir?: string } = {}): { job: Job; run: Run } {
  const configJson = runConfigToJson(config) as JsonObject
  return store.transaction(() => {
    const run = createQueuedRun(store, runsDir, configJson, { name: o.name ?? config.name, experimentId: o.experimentId ?? null, tags: o.tags, notes: o.notes })
    const payload: TrainPayload = { config: configJson, runDir: run.runDir!, runUid: run.uid, ...(o.dataDir ? { dataDir: o.dataDir } : {}) }
    const job = store.jobs.enqueue({ kind: 'train', payload: payload as JsonObject, runId: run.id, priority: o.priority, maxAttempts: o.maxAttempts })
    store.logs.event(job.id, 'queued', { runId: run.id })
    return { job, run }
  })
}

/**
 * A training payload queued again may hold a config stored by an earlier version (fields this one defaults are
 * missing): starting new work is an entry point, so it is resolved here once and the filled fields are logged. An
 * invalid stored config is left as it is — never thrown from here (auto-retry runs this): the worker refuses it
 * with the fields named.
 */
function upgradedPayload(store: Store, jobId: number, payload: JsonObject): JsonObject {
  let up: ReturnType<typeof upgradeStoredConfig>
  try {
    up = upgradeStoredConfig(payload.config)
  } catch {
    return payload
  }
  if (!up.filled.length) return payload
  store.logs.event(jobId, 'config-upgraded', { filled: up.filled })
  return { ...payload, config: runConfigToJson(up.config) as JsonObject }
}

/** Set a job queued again; `fresh` gives a training job a new run (new uid and folder). Call in a transaction. */
export function requeueTx(store: Store, runsDir: string, job: Job, o: { resumeFrom?: string; fresh?: boolean; event: string; reason?: string }): Job {
  let runId = job.runId
  let payload = job.payload
  if (o.fresh && job.kind === 'train') {
    const old = parseTrainPayload(job.payload)
    const prevRun = runId !== null ? store.runs.get(runId) : null
    const run = createQueuedRun(store, runsDir, old.config as JsonObject, {
      name: prevRun?.name,
      experimentId: prevRun?.experimentId ?? null,
      tags: prevRun?.tags,
      notes: prevRun ? `retry of run ${prevRun.id}${prevRun.notes ? `; ${prevRun.notes}` : ''}` : undefined,
    })
    runId = run.id
    payload = { ...old, runDir: run.runDir!, runUid: run.uid } as JsonObject
  } else if (runId !== null && job.kind === 'train') store.runs.update(runId, { status: 'queued', error: null })
  if (job.kind === 'train') payload = upgradedPayload(store, job.id, payload)
  store.logs.event(job.id, o.event, { ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}), ...(o.fresh ? { newRunId: runId } : {}), ...(o.reason ? { reason: o.reason } : {}) })
  return store.jobs.update(job.id, {
    status: 'queued',
    runId,
    payload,
    resumeFrom: o.resumeFrom ?? null,
    error: o.reason ?? null,
    pid: null,
    endedAt: null,
    ...(o.event === 'retry' ? { attempts: 0 } : {}),
  })
}

/**
 * The checkpoint to resume from: `preferred` if usable, else the newest valid one of the run (after syncing the
 * rows with the folder). Broken ones are marked invalid on the way, with their problem.
 */
export function pickCheckpoint(store: Store, job: Job, preferred?: string): { path: string | null; problems: string[] } {
  const problems: string[] = []
  const runId = job.runId
  if (runId === null) return { path: null, problems: ['the job has no run'] }
  const run = store.runs.get(runId)
  return store.transaction(() => {
    if (run?.runDir) syncCheckpoints(store, runId, run.runDir)
    if (preferred) {
      const p = checkpointProblem(preferred)
      const row = store.checkpoints.byPath(runId, preferred)
      if (!p && (!row || row.valid)) return { path: preferred, problems }
      problems.push(p ?? row?.problem ?? `${preferred}: marked invalid`)
      if (row && row.valid && p) store.checkpoints.markInvalid(row.id, p)
    }
    for (;;) {
      const c = store.checkpoints.latestValid(runId)
      if (!c) return { path: null, problems }
      const p = checkpointProblem(c.path)
      if (!p) return { path: c.path, problems }
      store.checkpoints.markInvalid(c.id, p)
      problems.push(p)
    }
  })
}
