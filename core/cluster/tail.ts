/** A running Slurm job's files read back: new metrics.jsonl lines into the store, and the tail of its output. */
import type { ClusterJob } from '../store/clusters.js'
import { lineValues, toPoints } from '../store/run-folder.js'
import type { Store } from '../store/store.js'
import { shq, type ClusterShell } from './shell.js'

export interface ClusterProgress {
  runId: number
  clusterJobId: number
  event: 'step' | 'validation'
  step: number
  totalSteps: number
  values: Record<string, number>
}

/** bytes of metrics.jsonl read per command */
const TAIL_CHUNK = 4 * 1024 * 1024

/** Read new complete lines of the run's metrics.jsonl into the store (idempotent: rows are keyed by step). */
export async function tailMetrics(store: Store, sh: ClusterShell, job: ClusterJob, emit: (e: ClusterProgress) => void): Promise<void> {
  const run = store.runs.get(job.runId)
  if (!run) return
  const totalSteps = Number((run.config.training as { train_steps?: number } | undefined)?.train_steps ?? 0)
  let offset = job.metricsOffset
  for (let round = 0; round < 64; round++) {
    const f = `${job.remoteRunDir}/metrics.jsonl`
    const r = await sh.run(`f=${shq(f)}; [ -f "$f" ] || exit 0; stat -c %s "$f"; tail -c +${offset + 1} "$f" | head -c ${TAIL_CHUNK}`, { timeoutMs: 60_000, retries: 2 })
    if (r.code !== 0 || r.timedOut || !r.stdout) return
    const nl = r.stdout.indexOf('\n')
    const size = Number(r.stdout.slice(0, nl))
    if (size < offset) {
      // truncated (a resume rewrote it): read again from the start; stored rows are never duplicated
      offset = 0
      continue
    }
    const body = r.stdout.slice(nl + 1)
    const end = body.lastIndexOf('\n')
    if (end < 0) break
    const text = body.slice(0, end + 1)
    const points: ReturnType<typeof toPoints> = []
    const progress: ClusterProgress[] = []
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      let obj: unknown
      try {
        obj = JSON.parse(line)
      } catch {
        continue
      }
      const lv = obj && typeof obj === 'object' ? lineValues(obj as Record<string, unknown>) : null
      if (!lv) continue
      points.push(...toPoints(lv.step, lv.values))
      progress.push({ runId: job.runId, clusterJobId: job.id, event: lv.type, step: lv.step, totalSteps, values: lv.values })
    }
    const next = offset + Buffer.byteLength(text, 'utf8')
    store.transaction(() => {
      if (points.length) store.metrics.insert(job.runId, points)
      store.clusters.updateJob(job.id, { metricsOffset: next })
      const tps = store.metrics.meanTokensPerSec(job.runId)
      if (tps !== null) store.runs.update(job.runId, { tokensPerSec: tps })
    })
    offset = next
    // one step event (the newest) and every validation, as the local runner's throttled events
    const steps = progress.filter((e) => e.event === 'step')
    for (const e of progress) if (e.event === 'validation' || e === steps[steps.length - 1]) emit(e)
    if (Buffer.byteLength(body, 'utf8') < TAIL_CHUNK) break
  }
}

export async function outputTail(store: Store, sh: ClusterShell, job: ClusterJob): Promise<string | null> {
  if (!job.outputPath) return null
  const r = await sh.run(`tail -n 40 ${shq(job.outputPath)} 2>/dev/null | cut -c1-400`, { timeoutMs: 30_000, retries: 1 })
  if (r.code !== 0) return null
  // the trainer's --json step lines say little to a reader: keep the rest, and the newest step line
  const lines = r.stdout.split('\n').filter(Boolean)
  const steps = lines.filter((l) => l.startsWith('{"event":"step"'))
  const kept = lines.filter((l) => !l.startsWith('{"event":"step"') || l === steps[steps.length - 1]).slice(-8)
  const text = kept.join('\n')
  store.clusters.updateJob(job.id, { outputTail: text })
  return text
}
