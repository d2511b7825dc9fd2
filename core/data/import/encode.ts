/**
 * Tokenizes a batch of documents into one uint16 buffer (shared by the worker threads and the inline path).
 */
import type { Tokenizer } from '../../tokenizer/types.js'

export interface EncodedBatch {
  /** all documents' ids, concatenated; a document with prefixEot = 1 starts with the EOT id */
  tokens: Uint16Array
  /** tokens per document (EOT included) */
  lengths: Uint32Array
  /** over-long runs cut by the GPT-2 guard while encoding this batch */
  longRunsSplit: number
}

export function encodeBatch(tok: Tokenizer, texts: readonly string[], prefixEot: Uint8Array): EncodedBatch {
  const counter = tok as unknown as { longRunsSplit?: number }
  const before = counter.longRunsSplit ?? 0
  const parts: Uint16Array[] = new Array(texts.length)
  let total = 0
  for (let i = 0; i < texts.length; i++) {
    const ids = tok.encodeToUint16(texts[i]!)
    parts[i] = ids
    total += ids.length + (prefixEot[i] ? 1 : 0)
  }
  const tokens = new Uint16Array(total)
  const lengths = new Uint32Array(texts.length)
  let o = 0
  for (let i = 0; i < texts.length; i++) {
    const start = o
    if (prefixEot[i]) tokens[o++] = tok.eot
    tokens.set(parts[i]!, o)
    o += parts[i]!.length
    lengths[i] = o - start
  }
  return { tokens, lengths, longRunsSplit: (counter.longRunsSplit ?? 0) - before }
}
