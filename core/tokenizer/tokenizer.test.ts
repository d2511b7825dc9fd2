import { encode as rawEncode } from 'gpt-tokenizer/encoding/r50k_base'
import { describe, expect, it } from 'vitest'
import { findLongRuns } from './gpt2.js'
import { ByteTokenizer, Gpt2Tokenizer, TOKENIZER_INFO, decodeDocuments, encodeDocument, getTokenizer, type TokenizerName } from './index.js'

const SAMPLES = [
  'Hello world',
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money…',
  '    def f(x):\n        return x**2  # code\n',
  'CRLF line\r\nnext\ttab',
  'emoji 👩‍👩‍👧 and combining é (e\u0301), CJK 漢字, RTL שלום',
  'digits 1234567890123456789 and "quotes" \'s it\'ll',
  ' leading and trailing spaces   ',
  '',
  'x<|endoftext|>y',
  '\u0000 NUL and \u0007 bell',
]

describe('GPT-2 tokenizer', () => {
  const tok = new Gpt2Tokenizer()
  it('gives the reference ids', () => {
    expect(tok.vocabSize).toBe(50257)
    expect(tok.eot).toBe(50256)
    expect(tok.encode('Hello world')).toEqual([15496, 995])
    expect(tok.encode('    def f(x):\n        return x**2  # code\n')).toEqual([
      220, 220, 220, 825, 277, 7, 87, 2599, 198, 220, 220, 220, 220, 220, 220, 220, 1441, 2124, 1174, 17, 220, 1303, 2438, 198,
    ])
  })
  it('never interprets special tokens inside text', () => {
    expect(tok.encode('x<|endoftext|>y')).toEqual([87, 27, 91, 437, 1659, 5239, 91, 29, 88])
    expect(tok.encode('<|endoftext|>')).not.toContain(50256)
  })
  it('round-trips text', () => {
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s)
    expect(Array.from(tok.encodeToUint16('Hello world'))).toEqual([15496, 995])
  })
  it('leaves normal long text identical to plain gpt-tokenizer', () => {
    const para = 'The quick brown fox jumps over the lazy dog, again and again. '.repeat(200)
    expect(tok.encode(para)).toEqual(rawEncode(para, { disallowedSpecial: new Set() }))
  })
  it('cuts pathological runs so a 100k-letter word takes well under a second, losslessly', () => {
    const t = new Gpt2Tokenizer()
    const word = 'a'.repeat(50_000) + 'b'.repeat(50_000)
    const t0 = performance.now()
    const ids = t.encode(`start ${word} end`)
    expect(performance.now() - t0).toBeLessThan(3000)
    expect(t.decode(ids)).toBe(`start ${word} end`)
    expect(t.longRunsSplit).toBe(1)
    for (const s of [' '.repeat(2000) + 'x', '7'.repeat(3000), '!?'.repeat(1500), '😀'.repeat(700) + 'z', 'é'.repeat(600)])
      expect(t.decode(t.encode(s))).toBe(s)
  })
  it('finds over-long runs in linear time, also in adversarial text just under the limit', () => {
    expect(findLongRuns('ab ' + 'x'.repeat(20) + '12345678901234567890' + '  ', 16)).toEqual([
      [3, 23],
      [23, 43],
    ])
    expect(findLongRuns('short words only', 16)).toEqual([])
    expect(findLongRuns(' '.repeat(40), 16)).toEqual([[0, 40]])
    const nearLimit = ('a'.repeat(500) + ' ').repeat(2000) // 1 MB of 500-letter words
    const t0 = performance.now()
    expect(findLongRuns(nearLimit, 512)).toEqual([])
    expect(performance.now() - t0).toBeLessThan(300)
  })

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([1, 50257])).toThrow(/id 50257 at position 1/)
    expect(() => tok.decode([-1])).toThrow(RangeError)
    expect(tok.decode([50256])).toBe('<|endoftext|>')
  })
})

describe('byte tokenizer', () => {
  const tok = new ByteTokenizer()
  it('uses UTF-8 bytes and EOT 256', () => {
    expect(tok.vocabSize).toBe(257)
    expect(tok.eot).toBe(256)
    expect(tok.encode('Aé')).toEqual([65, 0xc3, 0xa9])
    expect(Array.from(tok.encodeToUint16('Aé'))).toEqual([65, 0xc3, 0xa9])
    expect(tok.decode([72, 105, 256, 33])).toBe('Hi<|endoftext|>!')
  })
  it('round-trips text', () => {
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s)
    const big = 'ß∑😀'.repeat(30_000)
    expect(tok.decode(tok.encodeToUint16(big))).toBe(big)
  })
  it('rejects ids outside the vocabulary and decodes broken UTF-8 with U+FFFD', () => {
    expect(() => tok.decode([1, 257])).toThrow(/id 257 at position 1/)
    expect(tok.decode([0xc3])).toBe('\ufffd')
  })
})

describe('document framing', () => {
  for (const name of ['gpt2', 'byte'] as TokenizerName[]) {
    it(`${name}: [eot] + encode(doc) per document, and back`, () => {
      const tok = getTokenizer(name)
      expect(tok).toBe(getTokenizer(name))
      expect({ vocabSize: tok.vocabSize, eot: tok.eot }).toEqual({ vocabSize: TOKENIZER_INFO[name].vocabSize, eot: TOKENIZER_INFO[name].eot })
      const docs = ['First document.\nLine two.', 'Second — with “quotes”.', 'Third']
      const stream = docs.flatMap((d) => Array.from(encodeDocument(tok, d)))
      expect(stream[0]).toBe(tok.eot)
      expect(stream.filter((t) => t === tok.eot).length).toBe(3)
      expect(decodeDocuments(tok, stream)).toEqual(docs)
      // a window that starts mid-document keeps its leading text
      const cut = stream.slice(3)
      expect(decodeDocuments(tok, cut).slice(1)).toEqual(docs.slice(1))
      expect(decodeDocuments(tok, [])).toEqual([])
    })
  }
  it('rejects unknown tokenizer names', () => {
    expect(() => getTokenizer('bpe' as TokenizerName)).toThrow(/unknown tokenizer "bpe"/)
  })
})
