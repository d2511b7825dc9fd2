/**
 * The tokenizer contract shared by datasets, importers, the trainer and text sampling.
 *
 * Documents are framed by OUR code, never by special tokens inside the text: each document is encoded as
 * ordinary text and prefixed with `eot` (as modded-nanogpt and skip-middle do: `[eot] + encode_ordinary(doc)`).
 */
export type TokenizerName = 'gpt2' | 'byte'

export interface Tokenizer {
  readonly name: TokenizerName
  /** ids are in [0, vocabSize) */
  readonly vocabSize: number
  /** end-of-text id, inserted between documents by our code */
  readonly eot: number
  /** ordinary text → ids (special-token strings such as "<|endoftext|>" are encoded as plain text) */
  encode(text: string): number[]
  /** the same ids as `encode`, as a Uint16Array (faster for the byte tokenizer) */
  encodeToUint16(text: string): Uint16Array
  /** ids → text; `eot` decodes to "<|endoftext|>"; ids outside the vocabulary throw a RangeError */
  decode(ids: ArrayLike<number>): string
}

export const EOT_TEXT = '<|endoftext|>'

/** Static facts about each tokenizer (available without loading it). */
export const TOKENIZER_INFO: Record<TokenizerName, { vocabSize: number; eot: number; description: string }> = {
  gpt2: { vocabSize: 50257, eot: 50256, description: 'GPT-2 BPE (r50k_base via gpt-tokenizer), EOT 50256' },
  byte: { vocabSize: 257, eot: 256, description: 'UTF-8 bytes 0..255, EOT 256' },
}

export function isTokenizerName(s: unknown): s is TokenizerName {
  return s === 'gpt2' || s === 'byte'
}
