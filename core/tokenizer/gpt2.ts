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

const GPT2_EOT = 50256
const GPT2_VOCAB_SIZE = 50257
const DEFAULT_MAX_RUN = 512

const ORDINARY = { disallowedSpecial: new Set<string>() }

/** JavaScript's `\s` (what the GPT-2 pre-tokenizer regex uses), by UTF-16 code unit. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d)
  if (c < 0xa0) return false
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/** Maximal runs of one pre-tokenizer class: letters, digits, other symbols, whitespace. */
const CLASS_RUN = /\p{L}+|\p{N}+|[^\s\p{L}\p{N}]+|\s+/gu

/**
 * The [start, end) ranges of `text` that are runs of one class longer than `maxRun` code units. Linear time: a
 * cheap scan finds stretches of constant whitespace-ness longer than maxRun (only those can hold such a run),
 * then the class-run regex looks inside those stretches alone.
 */
export function findLongRuns(text: string, maxRun: number): [number, number][] {
  const out: [number, number][] = []
  const n = text.length
  if (n <= maxRun) return out
  let start = 0
  let prev = isSpace(text.charCodeAt(0))
  const inspect = (s: number, e: number): void => {
    CLASS_RUN.lastIndex = s
    for (;;) {
      const m = CLASS_RUN.exec(text)
      if (!m || m.index >= e) break
      const end = Math.min(e, m.index + m[0].length)
      if (end - m.index > maxRun) out.push([m.index, end])
      if (end >= e) break
    }
  }
  for (let i = 1; i <= n; i++) {
    const sp = i < n ? isSpace(text.charCodeAt(i)) : !prev
    if (sp !== prev) {
      if (i - start > maxRun) inspect(start, i)
      start = i
      prev = sp
    }
  }
  return out
}

export class Gpt2Tokenizer implements Tokenizer {
  readonly name = 'gpt2' as const
  readonly vocabSize = GPT2_VOCAB_SIZE
  readonly eot = GPT2_EOT
  /** how many over-long runs were cut (for import summaries) */
  longRunsSplit = 0

  constructor(readonly maxRun = DEFAULT_MAX_RUN) {
    if (!Number.isInteger(maxRun) || maxRun < 16) throw new RangeError(`maxRun must be an integer ≥ 16, got ${maxRun}`)
  }

  encode(text: string): number[] {
    const runs = findLongRuns(text, this.maxRun)
    if (runs.length === 0) return gptEncode(text, ORDINARY)
    const out: number[] = []
    const push = (ids: number[]): void => {
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!)
    }
    let last = 0
    for (const [start, end] of runs) {
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
