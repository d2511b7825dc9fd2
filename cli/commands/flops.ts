/** `skipbench flops --config CONFIG.json | --preset NAME [--estimator paper|corrected] [--sparsity S] [--json]` */
import { z } from 'zod'
import { FLOPS_ESTIMATORS, flopsReport, type FlopsEstimator, type FlopsReport } from '../../core/flops/index.js'
import { ConfigError, getPreset, parseModelConfig, parseRunConfig, presetNames, resolveRunConfigInput, type ModelConfig, type RunConfig } from '../../core/config/index.js'
import { table } from '../format.js'
import { fmtSci } from '../../core/report/format.js'
import { readConfigFile } from '../../core/trainer/index.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'

export const FLOPS_HELP = `usage: skipbench flops --config CONFIG.json | --preset NAME [options]

Parameter count and FLOPs of a model (spec D, decision H.6), with both estimators:
  paper      the reference estimate_flops.py exactly (×2 on the layer term, full T² attention, forward only)
  corrected  each matmul once, causal attention, no mask FLOPs for dense models, training = 3 × forward

CONFIG.json is a run config (model/training/... sections, or "extends": PRESET) or a bare model config.json with
the reference keys (dim, n_layers, n_heads, vocab_size, max_seq_len, zero_init_masks, ...), e.g. a checkpoint's.

options:
  --config FILE          the config (or give it as the only positional argument)
  --preset NAME          a built-in run preset instead (${presetNames().join(', ')})
  --estimator E          paper or corrected (default: both in the table; paper at the top of --json)
  --sparsity S           zero fraction s in [0, 1] of a gated model: one number, or n_layers numbers "s0,s1,..."
  --steps N              training steps for training FLOPs (default: the run config's train_steps)
  --batch-size N         sequences per optimizer step (default: the run config's batch_size × grad_acc_steps)
  --json                 one JSON object: params, inference_flops_per_sequence, inference_flops_per_token, ...`

const Args = z
  .object({
    config: z.string().optional(),
    preset: z.string().optional(),
    estimator: z.enum(FLOPS_ESTIMATORS, { error: 'must be paper or corrected' }).optional(),
    sparsity: z.string().optional(),
    steps: positiveInt('--steps').optional(),
    batch_size: positiveInt('--batch-size').optional(),
    json: z.boolean().default(false),
  })
  .refine((a) => [a.config, a.preset].filter(Boolean).length === 1, { error: 'give exactly one of --config CONFIG.json or --preset NAME' })

/**
 * A run config (a "model" section, or "extends": PRESET) or a bare model config.json with the reference keys at the
 * top level — e.g. a checkpoint's, whose extra "training" section (our checkpoints write one) gives steps and batch.
 */
export function loadFlopsConfig(doc: unknown, what: string): { model: ModelConfig; steps?: number; batchSize?: number } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${what}: expected a JSON object (a run config or a model config.json)`)
  const o = doc as Record<string, unknown>
  if (typeof o.extends === 'string' || (o.model !== null && typeof o.model === 'object')) {
    const run: RunConfig = parseRunConfig(resolveRunConfigInput(doc))
    return { model: run.model, steps: run.training.train_steps, batchSize: run.training.batch_size * run.training.grad_acc_steps }
  }
  const model = parseModelConfig(doc)
  const t = o.training as { train_steps?: unknown; batch_size?: unknown; grad_acc_steps?: unknown } | undefined
  const int = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x > 0 ? x : undefined)
  const steps = int(t?.train_steps)
  const batch = int(t?.batch_size)
  return { model, ...(steps && batch ? { steps, batchSize: batch * (int(t?.grad_acc_steps) ?? 1) } : {}) }
}

function parseSparsity(text: string | undefined): number | number[] | undefined {
  if (text === undefined) return undefined
  const parts = text.split(',').map((s) => s.trim())
  const vals = parts.map(Number)
  if (parts.some((p) => p === '') || vals.some((v) => !Number.isFinite(v) || v < 0 || v > 1))
    throw new UsageError(`--sparsity: expected a zero fraction in [0, 1] or a comma-separated list of them, got "${text}"`)
  return vals.length === 1 ? vals[0]! : vals
}

export async function flopsCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['config', 'preset', 'estimator', 'sparsity', 'steps', 'batch-size'] })
  if (positionals.length > 1) throw new UsageError(`flops takes one CONFIG.json, got ${positionals.join(' ')}`)
  if (positionals.length && options.config) throw new UsageError('give the config either as --config FILE or as a positional argument, not both')
  const a = validate(Args, { ...options, batch_size: options['batch-size'], 'batch-size': undefined, config: options.config ?? positionals[0] })

  let loaded: ReturnType<typeof loadFlopsConfig>
  let source: string
  if (a.preset) {
    const p = getPreset(a.preset)
    if (!p) throw new UsageError(`unknown preset "${a.preset}"; available: ${presetNames().join(', ')}`)
    loaded = loadFlopsConfig(structuredClone(p.config), `preset ${a.preset}`)
    source = `preset ${a.preset}`
  } else {
    loaded = loadFlopsConfig(readConfigFile(a.config!), a.config!)
    source = a.config!
  }
  const { model } = loaded
  const sparsity = parseSparsity(a.sparsity)
  const steps = a.steps ?? loaded.steps
  const batchSize = a.batch_size ?? loaded.batchSize
  const training = steps !== undefined && batchSize !== undefined
  const meanS = sparsity === undefined ? 0 : typeof sparsity === 'number' ? sparsity : sparsity.reduce((x, y) => x + y, 0) / sparsity.length

  const report = (estimator: FlopsEstimator): FlopsReport => {
    try {
      return flopsReport(model, {
        estimator,
        ...(sparsity !== undefined ? { sparsity } : {}),
        ...(training ? { batchSize, ...(model.zero_init_masks ? { steps } : { zeroFractions: new Float64Array(steps).fill(meanS) }) } : {}),
      })
    } catch (e) {
      if (e instanceof RangeError || e instanceof ConfigError) throw new UsageError((e as Error).message)
      throw e
    }
  }
  const reports = Object.fromEntries(FLOPS_ESTIMATORS.map((e) => [e, report(e)])) as Record<FlopsEstimator, FlopsReport>
  const chosen = a.estimator ?? 'paper'

  if (a.json) {
    const r = reports[chosen]
    process.stdout.write(
      JSON.stringify({
        source,
        ...r,
        model: { ...model },
        ...(training ? { training_sparsity_assumed: meanS } : {}),
        estimators: a.estimator ? undefined : reports,
      }) + '\n',
    )
    return 0
  }

  const shown = a.estimator ? [a.estimator] : [...FLOPS_ESTIMATORS]
  const m = model
  const out: string[] = []
  out.push(`${source}: L=${m.n_layers} dim=${m.dim} heads=${m.n_heads}${m.n_kv_heads !== m.n_heads ? ` (kv ${m.n_kv_heads})` : ''} vocab=${m.vocab_size} context=${m.max_seq_len}, ` + (m.zero_init_masks ? 'dense (zero_init_masks true)' : `gated (gated_attention "${m.gated_attention}")`))
  out.push(`parameters: ${reports.paper.params.toLocaleString('en-US')}`)
  out.push(`sparsity (zero fraction): ${typeof sparsity === 'object' ? `${sparsity.join(', ')} (mean ${meanS})` : meanS}`)
  out.push('')
  const exact = (r: FlopsReport) => (r.inference_flops_per_sequence_exact ? ` (${BigInt(r.inference_flops_per_sequence_exact).toLocaleString('en-US')})` : '')
  const rows: string[][] = [
    ['inference FLOPs per sequence', ...shown.map((e) => fmtSci(reports[e].inference_flops_per_sequence) + exact(reports[e]))],
    ['inference FLOPs per token', ...shown.map((e) => fmtSci(reports[e].inference_flops_per_token))],
  ]
  if (training) {
    rows.push([`training FLOPs (${steps!.toLocaleString('en-US')} steps × ${batchSize} seq, s = ${meanS})`, ...shown.map((e) => fmtSci(reports[e].training_flops))])
    rows.push(['training FLOPs per token', ...shown.map((e) => fmtSci(reports[e].training_flops! / (steps! * batchSize! * m.max_seq_len)))])
  }
  out.push(table(['', ...shown], rows, ''))
  out.push('')
  for (const e of shown) for (const n of reports[e].notes) out.push(`note: ${n}`)
  if (training && !m.zero_init_masks) out.push('note: training FLOPs assume the same zero fraction at every step; a finished run is costed from its logged per-step values (skipbench compare)')
  process.stdout.write(out.join('\n') + '\n')
  return 0
}
