import { describe, expect, it } from 'vitest'
import { compareRuns } from './compare.js'
import { parseRunRecord, seedGroupKey } from './records.js'

const model = (n_layers: number, gated = false, extra: Record<string, unknown> = {}) => ({
  dim: 16,
  n_heads: 2,
  n_layers,
  vocab_size: 64,
  max_seq_len: 32,
  zero_init_masks: !gated,
  ...(gated ? { gated_attention: 'key' } : {}),
  ...extra,
})

let nextId = 0
function run(o: {
  L: number
  gated?: boolean
  seed?: number
  loss: number
  flops: number
  trainFlops?: number
  id?: string
  extra?: Record<string, unknown>
  config?: Record<string, unknown>
}) {
  return {
    id: o.id ?? `r${nextId++}`,
    kind: o.gated ? 'gated' : 'dense',
    config: o.config ?? model(o.L, o.gated),
    seed: o.seed ?? 0,
    valLoss: o.loss,
    valTokens: 4096,
    dataset: 'sotu',
    tokenizer: 'gpt2',
    estimator: 'paper',
    inferenceFlops: o.flops,
    trainingFlops: o.trainFlops ?? o.flops * 1000,
    zeroFraction: o.gated ? 0.2 : null,
    ...(o.gated ? { target_end: 0.5, training: { controller: 'proportional', seed: o.seed ?? 0 } } : {}),
    ...o.extra,
  }
}

/**
 * Dense: L2 seeds 1, 2 at 1e9 with losses 3.9, 4.1 (mean 4.0); L4 at 1e10 → 3.5; L6 at 1e11 → 3.2;
 * L8 at 2e11 → 3.3 (dominated by L6). Frontier (group means): (9, 4.0), (10, 3.5), (11, 3.2) in log10 FLOPs.
 * Gated (one group, seeds 1..3) at 10^9.5 with losses 3.80, 3.70, 3.90; frontier there is 3.75.
 */
function paperGrid() {
  return [
    run({ id: 'd2a', L: 2, seed: 1, loss: 3.9, flops: 1e9 }),
    run({ id: 'd2b', L: 2, seed: 2, loss: 4.1, flops: 1e9 }),
    run({ id: 'd4', L: 4, seed: 1, loss: 3.5, flops: 1e10 }),
    run({ id: 'd6', L: 6, seed: 1, loss: 3.2, flops: 1e11 }),
    run({ id: 'd8', L: 8, seed: 1, loss: 3.3, flops: 2e11 }),
    run({ id: 'g1', L: 4, gated: true, seed: 1, loss: 3.8, flops: 10 ** 9.5 }),
    run({ id: 'g2', L: 4, gated: true, seed: 2, loss: 3.7, flops: 10 ** 9.5 }),
    run({ id: 'g3', L: 4, gated: true, seed: 3, loss: 3.9, flops: 10 ** 9.5 }),
  ]
}

describe('compareRuns', () => {
  it('builds the frontier from dense seed-group means and measures gated gaps', () => {
    const c = compareRuns(paperGrid(), { estimator: 'paper', flopsKind: 'inference' })
    expect(c.excluded).toEqual([])
    expect(c.reference).toEqual({ dataset: 'sotu', tokenizer: 'gpt2', valTokens: 4096, seqLen: 32 })
    expect(c.frontier.points.map((p) => [p.log10Flops, p.ids])).toEqual([
      [9, ['d2a', 'd2b']],
      [10, ['d4']],
      [11, ['d6']],
    ])
    expect(c.frontier.points[0]!.loss).toBeCloseTo(4.0, 12)
    expect(c.frontier.dominated.map((d) => d.ids)).toEqual([['d8']])
    // gaps: 3.8 − 3.75 = 0.05, 3.7 − 3.75 = −0.05, 3.9 − 3.75 = 0.15
    const gaps = Object.fromEntries(c.gated.map((g) => [g.id, g.atEqualFlops.gap!]))
    expect(gaps.g1).toBeCloseTo(0.05, 10)
    expect(gaps.g2).toBeCloseTo(-0.05, 10)
    expect(gaps.g3).toBeCloseTo(0.15, 10)
    // equal loss for g1: 3.8 lies 0.4 of the way from 4.0 to 3.5 → dense needs 10^9.4;
    // ratio 10^9.5 / 10^9.4 = 10^0.1 = 1.258925 → saving 1 − 1.258925 = −0.258925 (gated needs more)
    const g1 = c.gated.find((g) => g.id === 'g1')!
    expect(g1.atEqualLoss.denseFlops).toBeCloseTo(10 ** 9.4, -1)
    expect(g1.atEqualLoss.flopsRatio).toBeCloseTo(10 ** 0.1, 10)
    expect(g1.atEqualLoss.flopsSaving).toBeCloseTo(-0.258925, 6)
    expect(g1.atEqualFlops.extrapolated).toBeNull()
    // summary: the one configuration's mean gap 0.05, descriptive (no interval across configurations); beat: g2 only
    expect(c.summary.gap!.mean).toBeCloseTo(0.05, 10)
    expect(c.summary.gap!.n).toBe(1)
    expect(c.summary.gap!.sd).toBeNull()
    expect(c.summary.gap!.ci).toBeNull()
    expect(c.summary.beatFrontier).toBe(1)
    // L8 is dominated by L6: the frontier is not trustworthy, so the verdict is not conclusive, and says why
    expect(c.frontier.monotone).toBe(false)
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.reasons.join('\n')).toMatch(/dense L=8 d=16 is not better than dense L=6 d=16 \(CE \+0\.1000 nats with more FLOPs\): under-trained or noisy: train longer or add seeds/)
  })

  it('forms seed groups with mean, sample SD and a 95% t interval', () => {
    const c = compareRuns(paperGrid(), { estimator: 'paper', flopsKind: 'inference' })
    expect(c.groups.map((g) => [g.kind, g.n])).toEqual([
      ['dense', 2],
      ['dense', 1],
      ['dense', 1],
      ['dense', 1],
      ['gated', 3],
    ])
    const d2 = c.groups[0]!
    expect(d2.ids).toEqual(['d2a', 'd2b'])
    expect(d2.seeds).toEqual([1, 2])
    // losses 3.9, 4.1: mean 4.0, sd √(0.02/1) = 0.141421, se 0.1, half-width t(0.975, 1)·0.1 = 1.270620
    expect(d2.loss.mean).toBeCloseTo(4.0, 12)
    expect(d2.loss.sd).toBeCloseTo(Math.SQRT2 / 10, 12)
    expect(d2.loss.ci![1]).toBeCloseTo(4.0 + 1.270620, 6)
    expect(d2.onFrontier).toBe(true)
    expect(c.groups[3]!.onFrontier).toBe(false) // L8
    const g = c.groups[4]!
    // losses 3.8, 3.7, 3.9: mean 3.8, sd 0.1, half-width 4.302653·0.1/√3 = 0.248414
    expect(g.loss.mean).toBeCloseTo(3.8, 12)
    expect(g.loss.sd).toBeCloseTo(0.1, 12)
    expect(g.loss.ci![0]).toBeCloseTo(3.8 - 0.248414, 6)
    expect(g.gap!.mean).toBeCloseTo(0.05, 10)
    expect(g.gap!.ci![1]).toBeCloseTo(0.05 + 0.248414, 6)
  })

  it('seed groups: seeds (also inside training) do not split a group; any other difference does', () => {
    const a = parseRunRecord(run({ L: 4, gated: true, seed: 1, loss: 3, flops: 1 }))
    const b = parseRunRecord(run({ L: 4, gated: true, seed: 2, loss: 3, flops: 1 }))
    const c = parseRunRecord(run({ L: 4, gated: true, seed: 1, loss: 3, flops: 1, extra: { training: { controller: 'adaptive', seed: 1 } } }))
    const d = parseRunRecord(run({ L: 4, gated: true, seed: 1, loss: 3, flops: 1, extra: { target_end: 0.3 } }))
    // explicit defaults normalise to the same config
    const e = parseRunRecord(run({ L: 4, gated: true, seed: 3, loss: 3, flops: 1, config: { ...model(4, true), rope_theta: 10000, norm_eps: 1e-5 } }))
    if (!a.ok || !b.ok || !c.ok || !d.ok || !e.ok) throw new Error('fixture invalid')
    expect(seedGroupKey(a.run)).toBe(seedGroupKey(b.run))
    expect(seedGroupKey(a.run)).toBe(seedGroupKey(e.run))
    expect(seedGroupKey(a.run)).not.toBe(seedGroupKey(c.run))
    expect(seedGroupKey(a.run)).not.toBe(seedGroupKey(d.run))
  })

  it('flags gated runs beyond the frontier instead of extrapolating', () => {
    const runs = [
      ...paperGrid(),
      run({ id: 'gBig', L: 4, gated: true, seed: 9, loss: 3.1, flops: 1e12, extra: { target_end: 0.9 } }),
      run({ id: 'gSmall', L: 4, gated: true, seed: 9, loss: 4.5, flops: 1e8, extra: { target_end: 0.1 } }),
    ]
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })
    const big = c.gated.find((g) => g.id === 'gBig')!
    const small = c.gated.find((g) => g.id === 'gSmall')!
    expect(big.atEqualFlops).toEqual({ frontierLoss: null, gap: null, extrapolated: 'above' })
    expect(big.atEqualLoss).toEqual({ denseFlops: null, flopsRatio: null, flopsSaving: null, extrapolated: 'above' })
    expect(small.atEqualFlops.extrapolated).toBe('below')
    expect(small.atEqualLoss.extrapolated).toBe('below')
    expect(c.summary).toMatchObject({ gatedRuns: 5, withinRange: 3, extrapolatedBelow: 1, extrapolatedAbove: 1 })
    expect(c.summary.gap!.n).toBe(1) // the flagged configurations do not enter the mean
    expect(c.verdict.reasons.join('\n')).toMatch(/2 of 3 gated points lie outside the frontier's inference FLOPs range \(1 below, 1 above; not extrapolated\)/)
    const bigGroup = c.groups.find((g) => g.ids.includes('gBig'))!
    expect(bigGroup.gap).toBeNull()
  })

  it('uses training FLOPs when asked', () => {
    const runs = paperGrid().map((r) => ({ ...r, trainingFlops: r.inferenceFlops * 7 }))
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'training' })
    expect(c.frontier.points[0]!.flops).toBe(7e9)
    expect(c.gated[0]!.atEqualFlops.gap).toBeCloseTo(runs.find((r) => r.id === c.gated[0]!.id)!.valLoss - 3.75, 10)
    expect(c.flopsNote).toMatch(/^gated training FLOPs are hypothetical/)
  })

  it('fairness: mismatches are excluded with every reason, not mixed', () => {
    const runs = [
      ...paperGrid(),
      run({ id: 'otherEst', L: 4, loss: 3.4, flops: 1e10, extra: { estimator: 'corrected' } }),
      run({ id: 'otherEval', L: 4, loss: 3.4, flops: 1e10, extra: { dataset: 'moby-dick', valTokens: 999 } }),
      run({ id: 'otherCtx', L: 4, loss: 3.4, flops: 1e10, config: model(4, false, { max_seq_len: 64 }) }),
      run({ id: 'otherTok', L: 4, gated: true, loss: 3.4, flops: 1e10, extra: { tokenizer: 'char' } }),
    ]
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })
    const ex = Object.fromEntries(c.excluded.map((e) => [e.id, e.reasons]))
    expect(ex.otherEst).toEqual(['estimator "corrected" ≠ "paper": FLOPs from different estimators are not comparable'])
    expect(ex.otherEval).toEqual(['dataset "moby-dick" ≠ "sotu"', 'validation tokens 999 ≠ 4096'])
    expect(ex.otherCtx).toEqual(['context length (max_seq_len) 64 ≠ 32'])
    expect(ex.otherTok).toEqual(['tokenizer "char" ≠ "gpt2"'])
    expect(c.excluded.find((e) => e.id === 'otherEval')!.reason).toBe('dataset "moby-dick" ≠ "sotu"; validation tokens 999 ≠ 4096')
    expect(c.frontier.points).toHaveLength(3) // unchanged by the excluded runs
    expect(c.verdict.reasons).toContain('4 runs were left out (see the exclusions)')
    // pinning the reference picks the other evaluation instead
    const pinned = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference', dataset: 'moby-dick' })
    expect(pinned.reference).toEqual({ dataset: 'moby-dick', tokenizer: 'gpt2', valTokens: 999, seqLen: 32 })
    expect(pinned.frontier.points.map((p) => p.ids)).toEqual([['otherEval']])
    // and a pinned value no run has excludes everything, saying so
    const none = compareRuns(paperGrid(), { estimator: 'paper', flopsKind: 'inference', dataset: 'nowhere' })
    expect(none.reference).toBeNull()
    expect(none.excluded).toHaveLength(8)
    expect(none.excluded[0]!.reason).toMatch(/no evaluation reference/)
  })

  it('rejects zero or negative FLOPs, invalid records, kind mismatches and duplicate ids', () => {
    const runs = [
      ...paperGrid(),
      run({ id: 'zero', L: 4, gated: true, loss: 3.4, flops: 0 }),
      run({ id: 'neg', L: 10, loss: 3.4, flops: -1e10 }),
      { id: 'broken', kind: 'dense', config: model(2) },
      run({ id: 'liar', L: 4, loss: 3.4, flops: 1e10, config: model(4, true) }),
      run({ id: 'odd', L: 3, gated: true, loss: 3.4, flops: 1e10 }),
      run({ id: 'd4', L: 4, loss: 9, flops: 1e10 }),
      42,
    ]
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })
    const ex = Object.fromEntries(c.excluded.map((e) => [e.id, e.reason]))
    expect(ex.zero).toBe('inference FLOPs must be a finite number > 0 to sit on a log axis, got 0')
    expect(ex.neg).toMatch(/> 0 to sit on a log axis, got -10000000000/)
    expect(ex.broken).toMatch(/invalid record: seed/)
    expect(ex.broken).toMatch(/valLoss/)
    expect(ex.liar).toBe('kind "dense" but config has zero_init_masks false (a gated model)')
    expect(ex.odd).toMatch(/invalid config: (n_layers: )?gated \(skip-middle\) models need an even n_layers/)
    expect(ex.d4).toMatch(/duplicate id "d4"/)
    expect(ex['#14']).toMatch(/invalid record/)
    expect(c.frontier.points.map((p) => p.ids)).toEqual([['d2a', 'd2b'], ['d4'], ['d6']])
  })

  it('ties between dense groups merge into one frontier point', () => {
    const runs = [
      run({ id: 'a', L: 2, loss: 4, flops: 1e9 }),
      run({ id: 'b', L: 4, loss: 4, flops: 1e9, config: model(4, false, { rope_theta: 500000 }) }),
      run({ id: 'c', L: 6, loss: 3, flops: 1e10 }),
      run({ id: 'g', L: 4, gated: true, loss: 3.5, flops: 10 ** 9.5 }),
    ]
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })
    expect(c.frontier.points.map((p) => p.ids)).toEqual([['a', 'b'], ['c']])
    // frontier at 10^9.5: 4 + 0.5·(3 − 4) = 3.5 → gap 0, "exactly on"
    expect(c.gated[0]!.atEqualFlops.gap).toBeCloseTo(0, 12)
  })

  it('single-point frontier: only a run at exactly its FLOPs gets a gap', () => {
    const runs = [
      run({ id: 'd', L: 2, loss: 4, flops: 1e9 }),
      run({ id: 'gAt', L: 2, gated: true, loss: 3.9, flops: 1e9 }),
      run({ id: 'gOff', L: 2, gated: true, loss: 3.9, flops: 2e9, extra: { target_end: 0.2 } }),
    ]
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })
    const at = c.gated.find((g) => g.id === 'gAt')!
    expect(at.atEqualFlops.gap).toBeCloseTo(-0.1, 12)
    expect(at.atEqualLoss.extrapolated).toBe('above') // 3.9 is below the frontier's only loss
    expect(c.gated.find((g) => g.id === 'gOff')!.atEqualFlops.extrapolated).toBe('above')
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.reasons.join('\n')).toMatch(/only one dense depth \(dense L=2 d=16\): a frontier needs at least two/)
    expect(c.verdict.points.find((p) => p.gap !== null)!.gap).toBeCloseTo(-0.1, 12)
  })

  it('empty and one-sided inputs give an explicit verdict', () => {
    const empty = compareRuns([], { estimator: 'paper', flopsKind: 'inference' })
    expect(empty).toMatchObject({ gated: [], groups: [], excluded: [], frontier: { points: [], dominated: [] }, reference: null })
    expect(empty.verdict).toMatchObject({ conclusive: false, direction: null, text: 'inconclusive: no runs to compare' })
    expect(empty.verdict.reasons).toEqual(['no runs to compare: train dense baselines and gated runs first'])
    const gatedOnly = compareRuns([run({ L: 4, gated: true, loss: 3, flops: 1e9 })], { estimator: 'paper', flopsKind: 'inference' })
    expect(gatedOnly.verdict.reasons[0]).toMatch(/^no comparable dense runs, so there is no frontier: train dense baselines/)
    expect(gatedOnly.gated[0]!.atEqualFlops).toEqual({ frontierLoss: null, gap: null, extrapolated: null })
    const denseOnly = compareRuns([run({ L: 4, loss: 3, flops: 1e9 })], { estimator: 'paper', flopsKind: 'inference' })
    expect(denseOnly.verdict.reasons[0]).toMatch(/^no comparable gated runs: train gated runs/)
    const outside = compareRuns([run({ L: 2, loss: 4, flops: 1e9 }), run({ L: 4, gated: true, loss: 3, flops: 1e10 })], {
      estimator: 'paper',
      flopsKind: 'inference',
    })
    expect(outside.verdict.conclusive).toBe(false)
    expect(outside.verdict.reasons.join('\n')).toMatch(/1 of 1 gated point lies outside the frontier's inference FLOPs range \(1 above; not extrapolated\): add a deeper \(costlier\) dense depth/)
  })

  it('is JSON-able', () => {
    const c = compareRuns(paperGrid(), { estimator: 'paper', flopsKind: 'inference' })
    expect(JSON.parse(JSON.stringify(c))).toEqual(c)
  })
})
