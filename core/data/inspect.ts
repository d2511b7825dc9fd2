/**
 * `skipbench data inspect SHARD.bin`: header fields, token statistics and a decoded sample of one shard.
 */
import fs from 'node:fs'
import path from 'node:path'
import { getTokenizer } from '../tokenizer/index.js'
import { TOKENIZER_INFO, type TokenizerName } from '../tokenizer/types.js'
import { DATASET_MANIFEST, readDatasetManifest } from './dataset.js'
import { SHARD_HEADER_BYTES, openShard, scanShard } from './shard.js'

export interface ShardInspection {
  path: string
  fileBytes: number
  headerBytes: 1024 | 12
  /** header int32 values [magic, version, num_tokens] */
  magic: number
  version: number
  numTokens: number
  /** header ints 3..255 that are not zero (the reference writes zeros) */
  nonZeroHeaderInts: number
  maxTokenId: number
  /** tokenizer used to count documents and decode the sample */
  tokenizer: TokenizerName
  /** where the tokenizer came from */
  tokenizerSource: 'given' | 'dataset manifest' | 'guessed from ids'
  /** EOT occurrences (= documents when every document is EOT-prefixed) */
  eotCount: number
  /** the first ids and their decoded text */
  sample: { start: number; ids: number[]; text: string }
}

function tokenizerFromManifest(file: string): TokenizerName | null {
  const dir = path.dirname(path.resolve(file))
  if (!fs.existsSync(path.join(dir, DATASET_MANIFEST))) return null
  try {
    const m = readDatasetManifest(dir)
    const base = path.basename(file)
    const listed = [...m.splits.train.shards, ...m.splits.val.shards].some((s) => path.basename(s.file) === base)
    return listed ? m.tokenizer : null
  } catch {
    return null
  }
}

/**
 * Validates the whole shard (header, size, ids < vocabulary when the tokenizer is known) and describes it.
 * Without `tokenizer`, the dataset manifest next to the file decides, else the ids: max id ≤ 256 → byte, else gpt2.
 */
export function inspectShard(file: string, opts: { tokenizer?: TokenizerName; sampleTokens?: number; sampleStart?: number } = {}): ShardInspection {
  const pre = scanShard(file) // header/size validation + max id
  let tokenizer: TokenizerName
  let tokenizerSource: ShardInspection['tokenizerSource']
  if (opts.tokenizer) {
    tokenizer = opts.tokenizer
    tokenizerSource = 'given'
  } else {
    const fromManifest = tokenizerFromManifest(file)
    if (fromManifest) {
      tokenizer = fromManifest
      tokenizerSource = 'dataset manifest'
    } else {
      tokenizer = pre.maxTokenId <= 256 ? 'byte' : 'gpt2'
      tokenizerSource = 'guessed from ids'
    }
  }
  const info = TOKENIZER_INFO[tokenizer]
  const scan = scanShard(file, { vocabSize: info.vocabSize, eot: info.eot })
  const head = Buffer.alloc(Math.min(SHARD_HEADER_BYTES, scan.headerBytes))
  const fd = fs.openSync(file, 'r')
  try {
    fs.readSync(fd, head, 0, head.length, 0)
  } finally {
    fs.closeSync(fd)
  }
  let nonZero = 0
  for (let i = 3; i < head.length / 4; i++) if (head.readInt32LE(4 * i) !== 0) nonZero++
  const start = Math.min(opts.sampleStart ?? 0, scan.numTokens)
  const count = Math.min(opts.sampleTokens ?? 64, scan.numTokens - start)
  const r = openShard(file)
  let ids: number[]
  try {
    ids = Array.from(r.read(start, count))
  } finally {
    r.close()
  }
  return {
    path: path.resolve(file),
    fileBytes: scan.fileBytes,
    headerBytes: scan.headerBytes,
    magic: head.readInt32LE(0),
    version: head.readInt32LE(4),
    numTokens: scan.numTokens,
    nonZeroHeaderInts: nonZero,
    maxTokenId: scan.maxTokenId,
    tokenizer,
    tokenizerSource,
    eotCount: scan.eotCount,
    sample: { start, ids, text: getTokenizer(tokenizer).decode(ids) },
  }
}
