/**
 * Byte-level tokenizer: ids are the UTF-8 bytes of the text (0..255) and EOT is 256, so the vocabulary is 257.
 * Lossless for any well-formed string (lone surrogates become U+FFFD, as in every UTF-8 encoder) and needs no
 * vocabulary file: the fast choice for small CPU experiments.
 */
import { EOT_TEXT, type Tokenizer } from './types.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

const BYTE_EOT = 256
const BYTE_VOCAB_SIZE = 257

export class ByteTokenizer implements Tokenizer {
  readonly name = 'byte' as const
  readonly vocabSize = BYTE_VOCAB_SIZE
  readonly eot = BYTE_EOT

  encode(text: string): number[] {
    return Array.from(encoder.encode(text))
  }

  encodeToUint16(text: string): Uint16Array {
    const bytes = encoder.encode(text)
    const out = new Uint16Array(bytes.length)
    out.set(bytes)
    return out
  }

  decode(ids: ArrayLike<number>): string {
    let out = ''
    let bytes = new Uint8Array(Math.min(ids.length, 1 << 16))
    let n = 0
    const flush = (): void => {
      if (n > 0) out += decoder.decode(bytes.subarray(0, n))
      n = 0
    }
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!
      if (t === BYTE_EOT) {
        flush()
        out += EOT_TEXT
      } else if (Number.isInteger(t) && t >= 0 && t < 256) {
        if (n === bytes.length) {
          const grown = new Uint8Array(bytes.length * 2)
          grown.set(bytes)
          bytes = grown
        }
        bytes[n++] = t
      } else throw new RangeError(`byte tokenizer: id ${t} at position ${i} is outside the vocabulary [0, ${BYTE_VOCAB_SIZE})`)
    }
    flush()
    return out
  }
}
