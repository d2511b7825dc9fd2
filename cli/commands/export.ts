/** `skipbench export --checkpoint DIR --format onnx|safetensors --out PATH [--dtype f32|bf16] [--json]` */
import { z } from 'zod'
import { EXPORT_DTYPES, EXPORT_FORMATS, exportModel } from '../../core/trainer/index.js'
import { parseArgv, UsageError, validate } from '../args.js'

export const EXPORT_HELP = `usage: skipbench export --checkpoint DIR --format onnx|safetensors --out PATH [options]

Export a checkpoint as a standard model file.
  onnx         inference model: input_ids (batch, sequence) int64 → logits (batch, sequence, vocab) float32, plus
               gates (layers, batch, sequence) for gated models; dynamic batch and sequence axes (sequence up to
               max_seq_len), IR 8 / opset 17, standard ops only (passes onnx.checker full_check; opens in Netron)
  safetensors  the weights under the reference names (model. prefix), config.json written beside PATH

options:
  --checkpoint DIR     checkpoint folder (or a run folder: its final/)
  --format F           onnx or safetensors
  --out PATH           output file (its folder must exist; never the checkpoint's own folder for safetensors)
  --dtype f32|bf16     stored weight precision (default f32; bf16 rounds to nearest even, ONNX computes in f32)
  --json               print one JSON object (path, bytes, format, dtype, inputs, outputs)`

const Args = z.object({
  checkpoint: z.string({ error: 'is required' }),
  format: z.enum(EXPORT_FORMATS, { error: 'must be onnx or safetensors' }),
  out: z.string({ error: 'is required' }),
  dtype: z.enum(EXPORT_DTYPES, { error: 'must be f32 or bf16' }).default('f32'),
  json: z.boolean().default(false),
})

export async function exportCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['checkpoint', 'format', 'out', 'dtype'] })
  if (positionals.length) throw new UsageError(`export takes no positional arguments, got ${positionals.join(' ')}`)
  const a = validate(Args, { checkpoint: options.checkpoint, format: options.format, out: options.out, dtype: options.dtype, json: options.json ?? false })
  const r = await exportModel({ checkpoint: a.checkpoint, format: a.format, out: a.out, dtype: a.dtype })
  if (a.json) process.stdout.write(JSON.stringify(r) + '\n')
  else {
    const mb = (r.bytes / 1e6).toFixed(1)
    process.stdout.write(`wrote ${r.path} (${r.format}, ${r.dtype}, ${mb} MB)${r.configPath ? ` and ${r.configPath}` : ''}\n`)
    if (r.format === 'onnx') process.stdout.write(`inputs: ${r.inputs.join(', ')}; outputs: ${r.outputs.join(', ')}\n`)
  }
  return 0
}
