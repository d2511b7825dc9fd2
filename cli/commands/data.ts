/** `skipbench data prepare|list|inspect`: thin wrappers over core/data. */
import { resolve } from 'node:path'
import { z } from 'zod'
import { listDatasets } from '../../core/data/dataset.js'
import { ensureDefaultCorpus } from '../../core/data/corpus.js'
import { importDataset } from '../../core/data/import/index.js'
import { formatProgress, formatSummary } from '../../core/data/import/format.js'
import { inspectShard } from '../../core/data/inspect.js'
import { defaultDataDir } from '../../core/paths.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'

export const DATA_HELP = `usage:
  skipbench data prepare --from PATH [--format auto|txt|jsonl|parquet|bin] [--text-field F]
                         [--tokenizer gpt2|byte] [--val-fraction X] [--val PATH] [--workers N] --name NAME
                         [--overwrite] [--data-dir DIR] [--json]
  skipbench data prepare --default [--tokenizer byte|gpt2] [--data-dir DIR]   (the shipped corpus)
  skipbench data list [--data-dir DIR] [--json]
  skipbench data inspect SHARD.bin [--tokenizer gpt2|byte] [--sample N] [--json]

prepare  tokenizes a folder of .txt files, .jsonl/.jsonl.gz (text field, default "text"), Parquet (text column,
         default "text"), or validates existing .bin shards (a glob such as 'fineweb_train_*.bin'; --val names the
         validation shards), into a named dataset of .bin shards (spec B.4) with a manifest. Progress and ETA on
         stderr; Ctrl-C cancels without leaving a half-written dataset.
list     the datasets in the data directory (default: $SKIPBENCH_DATA_DIR or ./.skipbench/data).
inspect  header fields, token count and a decoded sample of a shard.`

const Prepare = z.object({
  from: z.string().optional(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'use letters, digits, ".", "_" and "-"' }).optional(),
  format: z.enum(['auto', 'txt', 'jsonl', 'parquet', 'bin']).default('auto'),
  text_field: z.string().optional(),
  tokenizer: z.enum(['gpt2', 'byte']).optional(),
  val_fraction: z
    .string()
    .transform(Number)
    .refine((x) => x >= 0 && x < 1, { error: 'must be in [0, 1)' })
    .optional(),
  val: z.string().optional(),
  workers: z.string().regex(/^\d+$/, { error: 'must be a whole number' }).transform(Number).optional(),
  data_dir: z.string().optional(),
  default: z.boolean().optional(),
  overwrite: z.boolean().optional(),
  json: z.boolean().optional(),
})

const snake = (o: Record<string, string | boolean>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/-/g, '_'), v]))

async function prepare(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, {
    flags: ['default', 'overwrite', 'json'],
    values: ['from', 'name', 'format', 'text-field', 'tokenizer', 'val-fraction', 'val', 'workers', 'data-dir'],
  })
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]} (use --from PATH)`)
  const a = validate(Prepare, snake(options))
  const dataDir = a.data_dir ? resolve(a.data_dir) : defaultDataDir()
  const tty = process.stderr.isTTY
  const onProgress = (p: Parameters<typeof formatProgress>[0]) => {
    if (a.json) return
    if (tty) process.stderr.write(`\r\x1b[2K${formatProgress(p)}`)
    else if (p.phase === 'done') process.stderr.write(formatProgress(p) + '\n')
  }
  const ac = new AbortController()
  const onSigint = () => ac.abort()
  process.once('SIGINT', onSigint)
  try {
    if (a.default) {
      const m = await ensureDefaultCorpus({ dataDir, tokenizer: a.tokenizer ?? 'byte', onProgress, signal: ac.signal })
      if (tty && !a.json) process.stderr.write('\n')
      process.stdout.write(a.json ? JSON.stringify(m) + '\n' : `dataset ${m.name} ready in ${dataDir}\n`)
      return 0
    }
    if (!a.from) throw new UsageError('data prepare needs --from PATH (or --default for the shipped corpus)')
    if (!a.name) throw new UsageError('data prepare needs --name NAME')
    const m = await importDataset({
      dataDir,
      name: a.name,
      from: a.from,
      format: a.format,
      ...(a.text_field ? { textField: a.text_field } : {}),
      ...(a.tokenizer ? { tokenizer: a.tokenizer } : {}),
      ...(a.val_fraction !== undefined ? { valFraction: a.val_fraction } : {}),
      ...(a.val ? { val: a.val } : {}),
      ...(a.workers !== undefined ? { workers: a.workers } : {}),
      ...(a.overwrite ? { overwrite: true } : {}),
      onProgress,
      signal: ac.signal,
    })
    if (tty && !a.json) process.stderr.write('\n')
    if (a.json) process.stdout.write(JSON.stringify(m) + '\n')
    else {
      const s = m.import
      process.stdout.write(`dataset ${m.name} written to ${resolve(dataDir, 'datasets', m.name)}\n`)
      if (s) process.stdout.write(formatSummary(s) + '\n')
    }
    return 0
  } finally {
    process.off('SIGINT', onSigint)
  }
}

async function list(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['data-dir'] })
  if (positionals.length) throw new UsageError(`data list takes no arguments, got ${positionals.join(' ')}`)
  const dataDir = options['data-dir'] ? resolve(String(options['data-dir'])) : defaultDataDir()
  const rows = listDatasets(dataDir)
  if (options.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
    return 0
  }
  if (!rows.length) {
    process.stdout.write(`no datasets in ${dataDir} (prepare one with: skipbench data prepare --default)\n`)
    return 0
  }
  const w = Math.max(...rows.map((r) => r.name.length))
  for (const r of rows) {
    if (!r.ok) process.stdout.write(`${r.name.padEnd(w)}  BROKEN: ${r.error}\n`)
    else
      process.stdout.write(
        `${r.name.padEnd(w)}  ${String(r.tokenizer).padEnd(4)}  vocab ${String(r.vocabSize).padStart(5)}  train ${String(r.trainTokens).padStart(11)} tok  val ${String(r.valTokens).padStart(10)} tok  ${r.shards} shard(s)\n`,
      )
  }
  return 0
}

async function inspect(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['tokenizer', 'sample'] })
  if (positionals.length !== 1) throw new UsageError('data inspect needs exactly one SHARD.bin')
  const tokenizer = options.tokenizer === undefined ? undefined : validate(z.enum(['gpt2', 'byte']), options.tokenizer)
  const sample = options.sample === undefined ? undefined : validate(positiveInt('--sample'), options.sample)
  const r = inspectShard(resolve(positionals[0]!), { ...(tokenizer ? { tokenizer } : {}), ...(sample ? { sampleTokens: sample } : {}) })
  if (options.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n')
    return 0
  }
  process.stdout.write(
    [
      `file        ${r.path}`,
      `bytes       ${r.fileBytes} (header ${r.headerBytes} B${r.headerBytes === 12 ? ', legacy' : ''})`,
      `magic       ${r.magic}   version ${r.version}`,
      `tokens      ${r.numTokens}   max id ${r.maxTokenId}   end-of-text ${r.eotCount}`,
      `tokenizer   ${r.tokenizer} (${r.tokenizerSource})`,
      `sample @${r.sample.start}: ${JSON.stringify(r.sample.text.slice(0, 400))}`,
    ].join('\n') + '\n',
  )
  return 0
}

export async function dataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'prepare') return prepare(rest)
  if (sub === 'list') return list(rest)
  if (sub === 'inspect') return inspect(rest)
  throw new UsageError(`data needs a subcommand: prepare, list or inspect\n${DATA_HELP}`)
}
