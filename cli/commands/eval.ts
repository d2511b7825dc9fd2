/** `skipbench eval --checkpoint DIR --data SHARD.bin [--max-tokens N] [--batch-size N] [--engine E] [--backend B] [--json]` */
import { resolve } from 'node:path'
import { z } from 'zod'
import { ENGINE_NAMES } from '../../core/engine/index.js'
import { evaluateCheckpoint } from '../../core/trainer/index.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'
import { formatRate } from '../progress.js'

export const EVAL_HELP = `usage: skipbench eval --checkpoint DIR --data SHARD.bin [options]

Evaluate a checkpoint folder (config.json + model.safetensors, e.g. one of the paper's released models) on a .bin
token shard: every full window of max_seq_len + 1 tokens, in order, stride max_seq_len.

options:
  --checkpoint DIR       checkpoint folder (or a run folder: its final/; checkpoints/step-XXXXXX/ work too)
  --data SHARD.bin       token shard (several: comma-separated, evaluated in order)
  --max-tokens N         evaluate at most the first ⌊N / max_seq_len⌋ windows
  --batch-size N         windows per batch (default ⌊4096 / max_seq_len⌋)
  --engine ort|tfjs      tensor engine
  --backend B            engine backend
  --threads N            ort: intra-op threads
  --hard-skip            also evaluate with blocks really skipped for zero-gate tokens (either engine; key gating,
                         spec H.13): hard-skip loss next to the dense one, measured (same engine, interleaved) and
                         FLOPs-predicted speed-up
  --json                 print one JSON object (loss, tokens, gates_mean, zeros_mean, flops_per_token, backend, ...)

The app's "Evaluate" on a run measures the same way (core/trainer/evaluate.ts).`

const Args = z.object({
  checkpoint: z.string({ error: 'is required' }),
  data: z.string({ error: 'is required' }),
  max_tokens: positiveInt('--max-tokens').optional(),
  batch_size: positiveInt('--batch-size').optional(),
  engine: z.enum(ENGINE_NAMES, { error: 'must be ort or tfjs' }).optional(),
  backend: z.string().optional(),
  threads: positiveInt('--threads').optional(),
  json: z.boolean().default(false),
})

export async function evalCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json', 'hard-skip'], values: ['checkpoint', 'data', 'max-tokens', 'batch-size', 'engine', 'backend', 'threads'] })
  if (positionals.length) throw new UsageError(`eval takes no positional arguments, got ${positionals.join(' ')}`)
  const a = validate(Args, {
    checkpoint: options.checkpoint,
    data: options.data,
    max_tokens: options['max-tokens'],
    batch_size: options['batch-size'],
    engine: options.engine,
    backend: options.backend,
    threads: options.threads,
    json: options.json ?? false,
  })
  const tty = !a.json && process.stderr.isTTY === true
  const r = await evaluateCheckpoint({
    checkpoint: resolve(a.checkpoint),
    data: a.data.split(',').map((p) => resolve(p.trim())),
    ...(a.max_tokens ? { maxTokens: a.max_tokens } : {}),
    ...(a.batch_size ? { batchSize: a.batch_size } : {}),
    engine: { ...(a.engine ? { engine: a.engine } : {}), ...(a.backend ? { backend: a.backend } : {}), ...(a.threads ? { threads: a.threads } : {}) },
    ...(options['hard-skip'] ? { hardSkip: true } : {}),
    ...(tty ? { onProgress: (d: number, t: number) => process.stderr.write(`\r\x1b[2Kwindow ${d}/${t}`) } : {}),
  })
  if (tty) process.stderr.write('\r\x1b[2K')
  if (a.json) {
    process.stdout.write(JSON.stringify(r) + '\n')
    return 0
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`
  const lines = [
    `checkpoint ${r.checkpoint}`,
    `model: ${r.model.n_layers} layers, dim ${r.model.dim}, ${r.model.zero_init_masks ? 'dense' : `gated (${r.model.gated_attention})`}; engine ${r.engine} (${r.backend})`,
    `loss ${r.loss.toFixed(6)} nats over ${r.tokens.toLocaleString('en-US')} tokens (${r.windows} windows, ${formatRate(r.tokens_per_sec)})`,
  ]
  if (!r.model.zero_init_masks) {
    lines.push(`gates mean per layer: ${r.gates_mean.map((g) => g.toFixed(3)).join(' ')}`)
    lines.push(`zeros per layer:      ${r.zeros_mean.map(pct).join(' ')}  (sparsity ${pct(r.sparsity)})`)
  }
  lines.push(`forward FLOPs per token: ${r.flops_per_token.toExponential(3)} (corrected estimator${r.model.zero_init_masks ? '' : ', at the measured sparsity'})`)
  if (r.hard_skip) {
    const h = r.hard_skip
    lines.push(
      `hard skip: loss ${h.loss.toFixed(6)} (dense pass ${h.loss_dense.toFixed(6)}, Δ ${Math.abs(h.loss - h.loss_dense).toExponential(1)}); ` +
        `${pct(h.zero_fraction)} of token-layers skipped; speed-up measured ×${h.measured_speedup.toFixed(2)}, predicted by FLOPs ×${h.predicted_speedup.toFixed(2)}`,
    )
  }
  process.stdout.write(lines.join('\n') + '\n')
  return 0
}
