// The one duration formatter: three styles for three places (reports and CLI text, the app, clocks/ETAs), one
// arithmetic. The app's fmtDuration (renderer/src/util/util.test.ts) and the CLI's progress line are this function.
import { describe, expect, it } from 'vitest'
import { progressLine } from '../../cli/progress.js'
import { formatProgress } from '../data/import/format.js'
import { fmtDuration } from './format.js'

describe('fmtDuration', () => {
  it("'words': seconds with a decimal under 10 s, then min/s and h/min", () => {
    expect([4.24, 42, 185, 3720, 59.4, 59.6].map((s) => fmtDuration(s))).toEqual(['4.2 s', '42 s', '3 min 05 s', '1 h 02 min', '59 s', '1 min 00 s'])
    expect(fmtDuration(-3)).toBe('0.0 s') // an estimate never goes below zero
    expect(fmtDuration(null)).toBe('—')
    expect(fmtDuration(Number.NaN)).toBe('—')
  })
  it("'short' (the app): <1s, 42s, 3m 05s, 1h 02m; unknown or negative –", () => {
    expect([0.2, 42, 185, 3720].map((s) => fmtDuration(s, 'short'))).toEqual(['<1s', '42s', '3m 05s', '1h 02m'])
    expect([null, -1, Infinity].map((s) => fmtDuration(s, 'short'))).toEqual(['–', '–', '–'])
  })
  it("'clock' (progress and ETAs): m:ss and h:mm:ss; unknown or negative --:--", () => {
    expect([0, 42, 185, 3723].map((s) => fmtDuration(s, 'clock'))).toEqual(['0:00', '0:42', '3:05', '1:02:03'])
    expect([undefined, -5, NaN].map((s) => fmtDuration(s, 'clock'))).toEqual(['--:--', '--:--', '--:--'])
    expect(progressLine({ step: 1, total: 2, loss: 1, lr: 1e-3, tokensPerSec: 10, etaSeconds: 185, columns: 10 })).toContain('ETA 3:05')
    const p = { phase: 'tokenize', bytesRead: 1, bytesTotal: null, docs: 1, tokens: 1, skipped: 0, mbPerSec: 1, tokensPerSec: 1, elapsedMs: 0, etaMs: 3_723_000 }
    expect(formatProgress(p as Parameters<typeof formatProgress>[0])).toContain('ETA 1:02:03')
  })
})
