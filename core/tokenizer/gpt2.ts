/**
 * GPT-2 BPE (r50k_base, vocabulary 50257, EOT 50256) through gpt-tokenizer, which gives the same ids as tiktoken
 * and is the fastest pure-JS implementation measured (notes/data.md §2).
 *
 * - Text is always encoded as ORDINARY text (`disallowedSpecial: ∅`): gpt-tokenizer only recognises
 *   "<|endoftext|>" at the start of a string, so special tokens are never passed through it; EOT is inserted by
 *   our code between documents.
 * - Pathological input guard: BPE on one very long pre-token (e.g. 100 k letters with no space) is quadratic
 *   (10 s for 100 k letters). Any run of one pre-token class (letters, digits, other symbols, whitespace) longer
 *   than `maxRun` characters is cut into `maxRun`-character pieces that are encoded separately. Normal text never
 *   has such runs, so its ids are unchanged.
 */
import { decode as gptDecode, encode as gptEncode } from 'gpt-tokenizer/encoding/r50k_base'
import type { Tokenizer } from './types.js'

export const GPT2_EOT = 50256
export const GPT2_VOCAB_SIZE = 50257
export const DEFAULT_MAX_RUN = 512

const ORDINARY = { disallowedSpecial: new Set<string>() }

function longRunRegex(maxRun: number): RegExp {
  const n = maxRun + 1
  return new RegExp(`\\p{L}{${n},}|\\p{N}{${n},}|[^\\s\\p{L}\\p{N}]{${n},}|\\s{${n},}`, 'gu')
}

export class Gpt2Tokenizer implements Tokenizer {
  readonly name = 'gpt2' as const
  readonly vocabSize = GPT2_VOCAB_SIZE
  readonly eot = GPT2_EOT
  /** how many over-long runs were cut (for import summaries) */
  longRunsSplit = 0
  private readonly re: RegExp

  constructor(readonly maxRun = DEFAULT_MAX_RUN) {
    if (!Number.isInteger(maxRun) || maxRun < 16) throw new RangeError(`maxRun must be an integer ≥ 16, got ${maxRun}`)
    this.re = longRunRegex(maxRun)
  }

  encode(text: string): number[] {
    if (text.length <= this.maxRun) return gptEncode(text, ORDINARY)
    const re = this.re
    re.lastIndex = 0
    let m = re.exec(text)
    if (!m) return gptEncode(text, ORDINARY)
    const out: number[] = []
    const push = (ids: number[]): void => {
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!)
    }
    let last = 0
    while (m) {
      const start = m.index
      const end = start + m[0].length
      if (start > last) push(gptEncode(text.slice(last, start), ORDINARY))
      this.longRunsSplit++
      let p = start
      while (p < end) {
        let q = Math.min(end, p + this.maxRun)
        // never split a surrogate pair
        if (q < end) {
          const c = text.charCodeAt(q - 1)
          if (c >= 0xd800 && c <= 0xdbff) q--
        }
        push(gptEncode(text.slice(p, q), ORDINARY))
        p = q
      }
      last = end
      m = re.exec(text)
    }
    if (last < text.length) push(gptEncode(text.slice(last), ORDINARY))
    return out
  }

  encodeToUint16(text: string): Uint16Array {
    return Uint16Array.from(this.encode(text))
  }

  decode(ids: ArrayLike<number>): string {
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!
      if (!Number.isInteger(t) || t < 0 || t >= GPT2_VOCAB_SIZE)
        throw new RangeError(`gpt2 tokenizer: id ${t} at position ${i} is outside the vocabulary [0, ${GPT2_VOCAB_SIZE})`)
    }
    return gptDecode(Array.from(ids))
  }
}
