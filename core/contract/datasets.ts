/** Datasets and imports in the contract: what the Datasets page lists and what an import request carries. */
import { z } from 'zod'
import { Num } from './blocks.js'

export const DatasetInfo = z.object({
  name: z.string(),
  dir: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  tokenizer: z.string().nullable(),
  vocabSize: z.number().nullable(),
  trainTokens: z.number().nullable(),
  valTokens: z.number().nullable(),
  shards: z.number().nullable(),
  sourceKind: z.string().nullable(),
  createdAt: z.string().nullable(),
  description: z.string().nullable(),
})
export type DatasetInfo = z.infer<typeof DatasetInfo>

export const ImportState = z.object({
  importId: z.string(),
  name: z.string(),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  phase: z.string(),
  bytesRead: z.number(),
  bytesTotal: Num,
  docs: z.number(),
  tokens: z.number(),
  etaMs: Num,
  error: z.string().nullable(),
  startedAt: z.string(),
})
export type ImportState = z.infer<typeof ImportState>

export const DatasetList = z.object({
  datasets: z.array(DatasetInfo),
  /** whether the shipped corpus is prepared for each tokenizer */
  defaultCorpus: z.object({ byte: z.boolean(), gpt2: z.boolean() }),
  imports: z.array(ImportState),
})
export type DatasetList = z.infer<typeof DatasetList>

const DatasetName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'letters, digits, dot, dash and underscore; at most 64 characters' })

export const ImportRequest = z
  .object({
    name: DatasetName,
    /** file(s), folder(s) or glob(s) on the machine running skipbench */
    from: z.array(z.string().min(1, { error: 'give a file or folder' })).min(1, { error: 'give a file or folder' }).max(64),
    format: z.enum(['auto', 'txt', 'jsonl', 'parquet', 'bin']).default('auto'),
    tokenizer: z.enum(['byte', 'gpt2']).default('byte'),
    valFraction: z.number().gt(0).lt(1).optional(),
    textField: z.string().optional(),
    overwrite: z.boolean().default(false),
  })
  .strict()
export type ImportRequest = z.input<typeof ImportRequest>
