/**
 * The message protocol between the job runner (parent, the single database writer) and a worker process (one job).
 * Discriminated unions validated with zod at both ends: a malformed message is a protocol error, never a crash in
 * the database code. Payloads are plain data (structured-clone safe: the fork uses `serialization: 'advanced'`), so NaN
 * and ±Infinity metric values survive the trip.
 */
import { z } from 'zod'

/** A metric value: finite, ±Infinity, or NaN (a diverged loss is information). */
const MetricValue = z.union([z.number(), z.nan(), z.literal(Infinity), z.literal(-Infinity)])

// ---------------------------------------------------------------- job payloads (what the queue stores)

export const TrainPayload = z.object({
  /** the ResolvedRunConfig as JSON (parsed once before the job was added; the worker checks it with assertResolved) */
  config: z.record(z.string(), z.unknown()),
  /** the run folder (the trainer writes it; the parent ingests from it after a crash) */
  runDir: z.string().min(1),
  /** run.json `id`: the run's identity across machines */
  runUid: z.string().min(1),
  /** data folder for named datasets (default: the worker's SKIPBENCH_DATA_DIR / ./.skipbench/data) */
  dataDir: z.string().optional(),
})
export type TrainPayload = z.infer<typeof TrainPayload>

const EvalPayload = z.object({
  /** the run the checkpoint belongs to */
  runId: z.number().int(),
  /** checkpoint folder (model.safetensors + config.json) */
  checkpoint: z.string().min(1),
  /**
   * the resolved config of the evaluation as JSON: the run's, with the evaluation's data (another dataset) and token
   * budget (training.val_tokens) merged in and parsed once when the job was added
   */
  config: z.record(z.string(), z.unknown()),
  dataDir: z.string().optional(),
})
export type EvalPayload = z.infer<typeof EvalPayload>

// ---------------------------------------------------------------- parent → worker

const StartTrain = z.object({
  type: z.literal('start'),
  kind: z.literal('train'),
  jobId: z.number().int(),
  payload: TrainPayload,
  /** training-checkpoint folder to continue from; null: a fresh run */
  resumeFrom: z.string().nullable(),
})

const StartEval = z.object({
  type: z.literal('start'),
  kind: z.literal('eval'),
  jobId: z.number().int(),
  payload: EvalPayload,
})

const Stop = z.object({
  type: z.literal('stop'),
  /** both checkpoint, then stop; the parent records the difference (cancelled vs paused, resumable) */
  mode: z.enum(['cancel', 'pause']),
})

export const ToWorker = z.union([z.discriminatedUnion('kind', [StartTrain, StartEval]), Stop])
export type ToWorker = z.infer<typeof ToWorker>
export type StartMessage = z.infer<typeof StartTrain> | z.infer<typeof StartEval>

// ---------------------------------------------------------------- worker → parent

const Ready = z.object({ type: z.literal('ready'), pid: z.number().int() })

const Started = z.object({
  type: z.literal('started'),
  step: z.number().int(),
  totalSteps: z.number().int(),
  resumedFrom: z.string().nullable(),
  engine: z.object({ engine: z.string(), backend: z.string(), versions: z.record(z.string(), z.string()) }),
  dataset: z.string().nullable(),
  params: z.number().int(),
  /** core/provenance: versions, git, machine, dataset hashes, seed, resolved config */
  provenance: z.record(z.string(), z.unknown()).optional(),
})

/** One step's or one validation's metrics: committed together, so readers never see half a step. */
const Metrics = z.object({
  type: z.literal('metrics'),
  event: z.enum(['step', 'validation']),
  step: z.number().int(),
  totalSteps: z.number().int(),
  values: z.record(z.string(), MetricValue),
  tokensPerSec: z.number().nullable(),
  etaSeconds: z.number().nullable(),
})

const CheckpointMsg = z.object({
  type: z.literal('checkpoint'),
  step: z.number().int(),
  dir: z.string(),
  final: z.boolean(),
  reason: z.enum(['periodic', 'final', 'cancel']),
  pruned: z.array(z.string()),
  bytes: z.number().int().nullable(),
})

const Log = z.object({ type: z.literal('log'), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string() })

const Done = z.object({
  type: z.literal('done'),
  status: z.enum(['completed', 'cancelled']),
  step: z.number().int(),
  checkpoint: z.string().nullable(),
  tokens: z.number(),
  trainSeconds: z.number(),
})

const EvalResult = z.object({
  type: z.literal('eval-result'),
  dataset: z.string(),
  split: z.string(),
  step: z.number().int().nullable(),
  tokens: z.number().int(),
  loss: MetricValue,
  gateStats: z.unknown().nullable(),
  flopsPerToken: z.number().nullable(),
  flops: z.number().nullable(),
})

const ErrorMsg = z.object({
  type: z.literal('error'),
  message: z.string(),
  stack: z.string().optional(),
  step: z.number().int().nullable(),
  /** resume-failed: loading `checkpoint` failed (the parent falls back to an earlier one); no-space: a full disk */
  code: z.enum(['resume-failed', 'no-space', 'config', 'other']),
  checkpoint: z.string().nullable(),
})

export const FromWorker = z.discriminatedUnion('type', [Ready, Started, Metrics, CheckpointMsg, Log, Done, EvalResult, ErrorMsg])
export type FromWorker = z.infer<typeof FromWorker>
export type MetricsMessage = z.infer<typeof Metrics>
export type ErrorMessage = z.infer<typeof ErrorMsg>

export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly raw: unknown,
  ) {
    super(message)
    this.name = 'ProtocolError'
  }
}

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')

export function parseFromWorker(raw: unknown): FromWorker {
  const r = FromWorker.safeParse(raw)
  if (!r.success) throw new ProtocolError(`bad message from worker: ${issues(r.error)}`, raw)
  return r.data
}

export function parseToWorker(raw: unknown): ToWorker {
  const r = ToWorker.safeParse(raw)
  if (!r.success) throw new ProtocolError(`bad message to worker: ${issues(r.error)}`, raw)
  return r.data
}

/** Validate a stored job payload (the queue's parseData at the boundary). */
export function parseTrainPayload(raw: unknown): TrainPayload {
  const r = TrainPayload.safeParse(raw)
  if (!r.success) throw new ProtocolError(`bad train job payload: ${issues(r.error)}`, raw)
  return r.data
}

export function parseEvalPayload(raw: unknown): EvalPayload {
  const r = EvalPayload.safeParse(raw)
  if (!r.success) throw new ProtocolError(`bad eval job payload: ${issues(r.error)}`, raw)
  return r.data
}
