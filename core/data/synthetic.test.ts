import { describe, expect, it } from 'vitest'
import { ArrayTokenLoader, arrayEvalWindows, makeSynthetic, unigramEntropy } from './synthetic.js'

describe('synthetic Markov data', () => {
  const d = makeSynthetic({ vocabSize: 64, seed: 1, trainTokens: 200_000, valTokens: 50_000 })
  it('is deterministic for a seed and different across seeds', () => {
    const e = makeSynthetic({ vocabSize: 64, seed: 1, trainTokens: 200_000, valTokens: 50_000 })
    expect(Buffer.from(e.train.buffer).equals(Buffer.from(d.train.buffer))).toBe(true)
    expect(makeSynthetic({ vocabSize: 64, seed: 2, trainTokens: 1000, valTokens: 10 }).train.slice(0, 50)).not.toEqual(d.train.slice(0, 50))
  })
  it('has low entropy rate and known unigram entropy that the sample matches', () => {
    expect(d.entropyRate).toBeLessThan(Math.log(4))
    expect(d.unigramEntropy).toBeGreaterThan(3.5)
    expect(d.unigramEntropy).toBeLessThanOrEqual(Math.log(64))
    expect(Math.abs(unigramEntropy(d.train) - d.unigramEntropy)).toBeLessThan(0.01)
    // the empirical bigram conditional entropy agrees with the entropy rate
    const pair = new Map<number, number>()
    for (let i = 0; i + 1 < d.train.length; i++) pair.set(d.train[i]! * 64 + d.train[i + 1]!, (pair.get(d.train[i]! * 64 + d.train[i + 1]!) ?? 0) + 1)
    const hJoint = unigramEntropy(Array.from(pair, ([k, c]) => Array(c).fill(k)).flat())
    expect(Math.abs(hJoint - unigramEntropy(d.train) - d.entropyRate)).toBeLessThan(0.02)
  })
  it('loads batches in the reference order with exact resume', () => {
    const l = new ArrayTokenLoader(d.val, 2, 8)
    const b0 = l.next()
    expect(Array.from(b0.inputs.slice(0, 4))).toEqual(Array.from(d.val.slice(0, 4)))
    expect(b0.targets[15]).toBe(d.val[16])
    const s = l.state()
    const b1 = l.next()
    const l2 = new ArrayTokenLoader(d.val, 2, 8)
    l2.restore(s)
    expect(l2.next()).toEqual(b1)
    expect(Array.from(b1.inputs.slice(0, 2))).toEqual(Array.from(d.val.slice(16, 18)))
  })
  it('eval windows: stride T, T+1 tokens each, last batch partial, budget', () => {
    const toks = Uint16Array.from({ length: 41 }, (_, i) => i)
    const bs = [...arrayEvalWindows(toks, 8, 2)]
    expect(bs.map((b) => b.batchSize)).toEqual([2, 2, 1])
    expect(bs[2]!.inputs[0]).toBe(32)
    expect(bs[2]!.targets[7]).toBe(40)
    expect([...arrayEvalWindows(toks, 8, 2, 17)].map((b) => b.batchSize)).toEqual([2])
    expect(() => [...arrayEvalWindows(toks.slice(0, 8), 8, 2)]).toThrow(/shorter than one window/)
  })
})
