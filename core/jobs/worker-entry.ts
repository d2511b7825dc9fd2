/**
 * The worker process: runs ONE job (train or eval) and speaks the protocol (protocol.ts) to its parent. It never
 * opens the database. A Node child process forked with an IPC channel (process.ts): `node --import tsx
 * worker-entry.ts` from sources, the bundled worker-entry.js from the CLI bundle, the Electron binary run as plain
 * Node (ELECTRON_RUN_AS_NODE) in the app.
 *
 * - stop {cancel|pause} or losing the parent (IPC disconnect): abort the trainer, which checkpoints and stops.
 * - every trainer event is forwarded as soon as it happens; the trainer has already written it to the run folder,
 *   so a message lost with a dying parent is recovered by ingesting the folder.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { CheckpointError, MODEL_FILE, readCheckpointConfig, readTrainerState } from '../checkpoint/index.js'
import { stepEventValues } from '../store/run-folder.js'
import { resolveEvalData } from '../trainer/data.js'
import { evaluateCheckpoint } from '../trainer/evaluate.js'
import { assertResolved, RunConfigError } from '../config/index.js'
import { prepareRun } from '../trainer/run.js'
import { parseToWorker, type FromWorker, type StartMessage } from './protocol.js'

interface Port {
  send(msg: FromWorker): Promise<void>
  onMessage(cb: (raw: unknown) => void): void
  onDisconnect(cb: () => void): void
}

function connect(): Port {
  if (!process.send) throw new Error('worker-entry must be started with an IPC channel (child_process.fork)')
  return {
    send: (m) =>
      new Promise<void>((resolve) => {
        if (!process.connected) return resolve()
        try {
          process.send!(m, undefined, undefined, () => resolve())
        } catch {
          resolve()
        }
      }),
    onMessage: (cb) => process.on('message', cb),
    onDisconnect: (cb) => process.on('disconnect', cb),
  }
}

// a parent that died closed our stdout/stderr pipes: a write must not crash us before the checkpoint is written
process.stdout.on('error', () => {})
process.stderr.on('error', () => {})

const port = connect()
const ac = new AbortController()
let running = false

const isNoSpace = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOSPC' || /ENOSPC|SQLITE_FULL|no space left/i.test(String((e as Error)?.message))

function fileSize(p: string): number | null {
  try {
    return statSync(p).size
  } catch {
    return null
  }
}

async function train(msg: Extract<StartMessage, { kind: 'train' }>): Promise<number> {
  const { payload } = msg
  // resolved once when the job was queued: checked here, never re-parsed or re-defaulted
  const config = assertResolved(payload.config)
  const prepared = await prepareRun({
    config,
    runDir: payload.runDir,
    signal: ac.signal,
    runInfo: { id: payload.runUid, job_id: msg.jobId },
    ...(msg.resumeFrom ? { resumeFrom: msg.resumeFrom } : {}),
    ...(payload.dataDir ? { dataDir: payload.dataDir } : {}),
  })
  const t = prepared.trainer
  let started = false
  let step: number | null = null
  const pending: Promise<void>[] = []
  const send = (m: FromWorker) => void pending.push(port.send(m))
  t.on('start', (e) => {
    started = true
    step = e.step
    const versions: Record<string, string> = {}
    for (const [k, v] of Object.entries(e.engine.versions ?? {})) versions[k] = String(v)
    send({ type: 'started', step: e.step, totalSteps: e.totalSteps, resumedFrom: e.resumedFrom, engine: { engine: e.engine.engine, backend: e.engine.backend, versions }, dataset: e.data.dataset ?? null, params: e.params, provenance: prepared.provenance as unknown as Record<string, unknown> })
  })
  t.on('step', (e) => {
    step = e.step + 1
    send({ type: 'metrics', event: 'step', step: e.step, totalSteps: e.totalSteps, values: stepEventValues(e), tokensPerSec: e.tokensPerSec, etaSeconds: e.etaSeconds })
  })
  t.on('validation', (e) => send({ type: 'metrics', event: 'validation', step: e.step, totalSteps: e.totalSteps, values: e.metrics, tokensPerSec: null, etaSeconds: null }))
  t.on('checkpoint', (e) => send({ type: 'checkpoint', step: e.step, dir: e.dir, final: e.final, reason: e.reason, pruned: e.pruned, bytes: fileSize(join(e.dir, MODEL_FILE)) }))
  try {
    const done = await t.run()
    send({ type: 'done', status: done.status, step: done.step, checkpoint: done.checkpoint, tokens: done.tokens, trainSeconds: done.trainSeconds })
    await Promise.all(pending)
    return 0
  } catch (e) {
    const err = e as Error
    const resumeFailed = !started && !!msg.resumeFrom && (e instanceof CheckpointError || err?.name === 'CheckpointError')
    send({
      type: 'error',
      message: err?.message ?? String(e),
      ...(err?.stack ? { stack: err.stack } : {}),
      step,
      code: resumeFailed ? 'resume-failed' : isNoSpace(e) ? 'no-space' : 'other',
      checkpoint: resumeFailed ? msg.resumeFrom : null,
    })
    await Promise.all(pending)
    return 1
  } finally {
    await prepared.close().catch(() => {})
  }
}

async function evaluate(msg: Extract<StartMessage, { kind: 'eval' }>): Promise<number> {
  const p = msg.payload
  // resolved (with the evaluation's data and token budget) once when the job was queued: checked, not re-parsed
  const config = assertResolved(p.config)
  // the same measurement as `skipbench eval` (core/trainer/evaluate.ts): the dataset's validation shards, or the
  // synthetic dataset's windows, up to training.val_tokens
  const data = await resolveEvalData({ ...config, model: readCheckpointConfig(p.checkpoint).config }, p.dataDir ? { dataDir: p.dataDir } : {})
  const r = await evaluateCheckpoint({
    checkpoint: p.checkpoint,
    data: 'shards' in data ? data.shards : data,
    maxTokens: config.training.val_tokens,
    engine: config.engine,
    signal: ac.signal,
  })
  let step: number | null = null
  try {
    step = readTrainerState(p.checkpoint).step
  } catch {
    step = null
  }
  await port.send({
    type: 'eval-result',
    dataset: data.dataset,
    split: 'val',
    step,
    tokens: r.tokens,
    loss: r.loss,
    gateStats: r.gate_stats,
    flopsPerToken: r.flops_per_token,
    flops: r.flops_per_token * r.tokens,
  })
  return 0
}

async function start(msg: StartMessage): Promise<number> {
  try {
    return msg.kind === 'train' ? await train(msg) : await evaluate(msg)
  } catch (e) {
    const err = e as Error
    await port.send({
      type: 'error',
      message: err?.message ?? String(e),
      ...(err?.stack ? { stack: err.stack } : {}),
      step: null,
      code: e instanceof RunConfigError ? 'config' : isNoSpace(e) ? 'no-space' : 'other',
      checkpoint: null,
    })
    return 1
  }
}

port.onMessage((raw) => {
  let msg
  try {
    msg = parseToWorker(raw)
  } catch (e) {
    void port.send({ type: 'error', message: (e as Error).message, step: null, code: 'other', checkpoint: null }).then(() => process.exit(2))
    return
  }
  if (msg.type === 'stop') {
    ac.abort()
    return
  }
  if (running) return
  running = true
  void start(msg).then((code) => {
    process.exitCode = code
    // let the IPC channel drain, then leave even if a native runtime keeps handles open
    setTimeout(() => process.exit(code), 50).unref()
    if (process.connected) process.disconnect()
  })
})
// the parent died or closed the channel: checkpoint and stop (the next parent resumes from that checkpoint)
port.onDisconnect(() => {
  ac.abort()
  if (!running) process.exit(0)
})
void port.send({ type: 'ready', pid: process.pid })
