/**
 * Tokenizers: `getTokenizer('gpt2' | 'byte')`, plus the document framing every dataset uses
 * (each document = [eot] + encode(text), as in the reference pipelines).
 */
import { ByteTokenizer } from './byte.js'
import { Gpt2Tokenizer } from './gpt2.js'
import { TOKENIZER_INFO, isTokenizerName, type Tokenizer, type TokenizerName } from './types.js'

export { ByteTokenizer } from './byte.js'
export { Gpt2Tokenizer } from './gpt2.js'
export { EOT_TEXT, TOKENIZER_INFO, isTokenizerName, type Tokenizer, type TokenizerName } from './types.js'

const cache = new Map<TokenizerName, Tokenizer>()

/** A shared instance of the named tokenizer. */
export function getTokenizer(name: TokenizerName): Tokenizer {
  if (!isTokenizerName(name)) throw new Error(`unknown tokenizer "${String(name)}": expected one of ${Object.keys(TOKENIZER_INFO).join(', ')}`)
  let t = cache.get(name)
  if (!t) {
    t = name === 'gpt2' ? new Gpt2Tokenizer() : new ByteTokenizer()
    cache.set(name, t)
  }
  return t
}

/** [eot, ...encode(text)] as uint16 ids: one document as stored in shards. */
export function encodeDocument(tok: Tokenizer, text: string): Uint16Array {
  const ids = tok.encodeToUint16(text)
  const out = new Uint16Array(ids.length + 1)
  out[0] = tok.eot
  out.set(ids, 1)
  return out
}

/**
 * Splits a token stream at EOT ids and decodes each piece: the inverse of concatenated `encodeDocument`s.
 * A leading EOT starts the first document; text before the first EOT (a window cut mid-document) is kept.
 */
export function decodeDocuments(tok: Tokenizer, ids: ArrayLike<number>): string[] {
  if (ids.length === 0) return []
  const docs: string[] = []
  let start = 0
  for (let i = 0; i <= ids.length; i++) {
    if (i === ids.length || ids[i] === tok.eot) {
      if (!(i === 0 && start === 0)) docs.push(tok.decode(Array.prototype.slice.call(ids, start, i) as number[]))
      start = i + 1
    }
  }
  return docs
}
