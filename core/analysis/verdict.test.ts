// The structured verdict (issue 13) on synthetic run sets, one per case a reviewer cares about.
import { describe, expect, it } from 'vitest'
import { Comparison as WireComparison } from '../contract/analysis.js'
import { compareRuns } from './compare.js'
import { checkFrontier, pooledNoise } from './verdict.js'

const model = (n_layers: number, gated: boolean) => ({
  dim: 16,
  n_heads: 2,
  n_layers,
  vocab_size: 64,
  max_seq_len: 32,
  zero_init_masks: !gated,
  ...(gated ? { gated_attention: 'key' } : {}),
})

interface R {
  L: number
  gated?: boolean
  seed: number
  loss: number
  flops: number
  end?: number
  trainTokens?: number
  lr?: number
}
let n = 0
function rec(o: R) {
  return {
    id: `${o.gated ? 'g' : 'd'}${o.L}${o.end !== undefined ? `e${o.end}` : ''}s${o.seed}#${n++}`,
    kind: o.gated ? 'gated' : 'dense',
    config: model(o.L, !!o.gated),
    seed: o.seed,
    valLoss: o.loss,
    valTokens: 65_536,
    dataset: 'default',
    tokenizer: 'byte',
    estimator: 'paper',
    inferenceFlops: o.flops,
    trainingFlops: o.flops * 1000,
    executedTrainingFlops: o.gated ? o.flops * 1500 : o.flops * 1000,
    zeroFraction: o.gated ? 0.3 : null,
    target_end: o.gated ? (o.end ?? 0.5) : null,
    trainTokens: o.trainTokens ?? 1_024_000,
    lrSchedule: { lr: o.lr ?? 1e-3, warmup_fraction: 0.1, start_factor: 0.1 },
    training: { seed: o.seed },
  }
}

const SPREAD = 0.004 // ± per seed: pooled SD √(2·0.004²/1) ≈ 0.00566 per group of two
/** Dense L = 2, 4, 6, 8 at 1, 2, 4, 8 GFLOPs with CE 3.0, 2.9, 2.8, 2.7 (two seeds each, ± SPREAD). */
function dense(o: { seeds?: number; losses?: number[]; spread?: number; trainTokens?: number } = {}) {
  const losses = o.losses ?? [3.0, 2.9, 2.8, 2.7]
  const seeds = o.seeds ?? 2
  const spread = o.spread ?? SPREAD
  return [2, 4, 6, 8].flatMap((L, i) =>
    Array.from({ length: seeds }, (_, s) =>
      rec({ L, seed: s, loss: losses[i]! + (seeds === 1 ? 0 : s === 0 ? spread : -spread), flops: 1e9 * 2 ** i, ...(o.trainTokens ? { trainTokens: o.trainTokens } : {}) }),
    ),
  )
}
/** Gated L = 8 at 3 GFLOPs (frontier CE there: 2.9 − 0.1·log2(1.5) ≈ 2.8415). */
const FRONTIER_AT_3G = 2.9 - 0.1 * Math.log2(1.5)
function gated(loss: number, o: { seeds?: number; flops?: number; end?: number; trainTokens?: number } = {}) {
  const seeds = o.seeds ?? 2
  return Array.from({ length: seeds }, (_, s) =>
    rec({ L: 8, gated: true, seed: s, loss: loss + (seeds === 1 ? 0 : s === 0 ? SPREAD : -SPREAD), flops: o.flops ?? 3e9, end: o.end ?? 0.5, ...(o.trainTokens ? { trainTokens: o.trainTokens } : {}) }),
  )
}
const compare = (runs: unknown[]) => compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })

describe('verdict', () => {
  it('clear win: conclusive, better, with a bounded saving and the frontier check', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G - 0.06)])
    expect(c.frontier.monotone).toBe(true)
    expect(c.frontier.noise!.sd).toBeCloseTo(Math.sqrt(2 * SPREAD ** 2), 10)
    expect(c.frontier.noise!.df).toBe(5) // five groups of two seeds
    expect(c.frontier.steps.every((s) => s.falls)).toBe(true)
    expect(c.fairness.every((f) => f.ok === true)).toBe(true)
    const v = c.verdict
    expect(v.conclusive).toBe(true)
    expect(v.direction).toBe('better')
    expect(v.text).toMatch(/^conclusive: 1 of 1 gated configuration beats the dense frontier/)
    const p = v.points[0]!
    expect(p.gap).toBeCloseTo(-0.06, 10)
    expect(p.gapCi![1]).toBeLessThan(0)
    expect(p.gapCi![0]).toBeLessThan(p.gap!)
    expect(p.gapCi![1]).toBeGreaterThan(p.gap!)
    // the interval includes the frontier's uncertainty: wider than the gated seeds' own t interval would be alone
    expect(p.direction).toBe('better')
    expect(p.saving).not.toBeNull()
    expect(p.saving!).toBeGreaterThan(0)
    // bounded by the frontier's FLOPs range: 1 − 3/1 … 1 − 3/8
    expect(p.savingCi![0]).toBeGreaterThanOrEqual(1 - 3 / 1 - 1e-12)
    expect(p.savingCi![1]).toBeLessThanOrEqual(1 - 3 / 8 + 1e-12)
    expect(p.savingCi![0]).toBeLessThanOrEqual(p.saving!)
    expect(p.savingCi![1]).toBeGreaterThanOrEqual(p.saving!)
    // and it survives the wire schema the app and the reports use
    expect(WireComparison.parse(JSON.parse(JSON.stringify(c))).verdict.conclusive).toBe(true)
  })

  it('clear loss: conclusive, worse', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G + 0.06)])
    expect(c.verdict.conclusive).toBe(true)
    expect(c.verdict.direction).toBe('worse')
    expect(c.verdict.points[0]!.gapCi![0]).toBeGreaterThan(0)
    expect(c.verdict.text).toMatch(/^conclusive: gated runs are worse than the dense frontier/)
  })

  it('no difference beyond noise: inconclusive, direction equal, with a reason to add seeds', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G + 0.001)])
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.direction).toBe('equal')
    expect(c.verdict.points[0]!.gapCi![0]).toBeLessThan(0)
    expect(c.verdict.points[0]!.gapCi![1]).toBeGreaterThan(0)
    expect(c.verdict.reasons.join('\n')).toMatch(/interval contains 0 .*: add seeds or train longer/)
  })

  it('noisy frontier (deeper dense not better): inconclusive, names the depths and says what to do', () => {
    // the issue's demo: L2 2.0641, L4 2.0788, L6 2.0522, L8 2.0617, a gated run far below
    const c = compare([...dense({ losses: [2.0641, 2.0788, 2.0522, 2.0617] }), ...gated(1.9)])
    expect(c.frontier.monotone).toBe(false)
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.direction).toBeNull()
    const r = c.verdict.reasons.join('\n')
    expect(r).toMatch(/dense L=4 d=16 is not better than dense L=2 d=16 .*: under-trained or noisy: train longer or add seeds/)
    expect(r).toMatch(/dense L=8 d=16 is not better than dense L=6 d=16/)
    expect(c.verdict.nextSteps).toContain('train longer or add seeds')
    expect(c.frontier.dominated.length).toBeGreaterThan(0)
  })

  it('a dense step that falls by less than seed noise is not trusted either', () => {
    const c = compare([...dense({ losses: [3.0, 2.9, 2.899, 2.7], spread: 0.01 }), ...gated(2.6, { flops: 6e9 })])
    expect(c.frontier.monotone).toBe(false)
    expect(c.frontier.steps[2 - 1]!.falls).toBe(false)
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.reasons.join('\n')).toMatch(/dense L=6 d=16 beats dense L=4 d=16 by only 0\.0010 nats, within seed noise/)
  })

  it('one seed per point: inconclusive, because the noise is unknown', () => {
    const c = compare([...dense({ seeds: 1 }), ...gated(FRONTIER_AT_3G - 0.06, { seeds: 1 })])
    expect(c.frontier.noise).toBeNull()
    expect(c.frontier.monotone).toBe(false)
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.reasons[0]).toMatch(/^one seed per point: seed noise is unknown.*: run at least 2 seeds of each point/)
    expect(c.verdict.points[0]!.gapCi).toBeNull()
    expect(c.verdict.points[0]!.saving).toBeNull()
    // and the per-run saving is withheld too
    expect(c.gated.every((g) => g.atEqualLoss.flopsSaving === null)).toBe(true)
  })

  it('a one-seed gated point may lean on the noise floor measured on the dense seeds', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G - 0.06, { seeds: 1 })])
    expect(c.verdict.conclusive).toBe(true)
    expect(c.verdict.reasons.join('\n')).toMatch(/1 gated point has one seed; its interval uses the noise floor measured/)
  })

  it('points out of range: inconclusive when no gated point lies within the frontier', () => {
    const c = compare([...dense(), ...gated(2.0, { flops: 2e10, end: 0.25 }), ...gated(3.5, { flops: 5e8, end: 0.75 })])
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.points.every((p) => p.gap === null)).toBe(true)
    expect(c.verdict.reasons.join('\n')).toMatch(/2 of 2 gated points lie outside the frontier's inference FLOPs range \(1 below, 1 above; not extrapolated\): add dense depths both cheaper and costlier/)
  })

  it('some points out of range: the others still decide, and the rest are named', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G - 0.06), ...gated(2.0, { flops: 2e10, end: 0.25 })])
    expect(c.verdict.conclusive).toBe(true)
    expect(c.verdict.reasons.join('\n')).toMatch(/1 of 2 gated points lies outside .*: add a deeper \(costlier\) dense depth/)
  })

  it('mixed budgets: training tokens differ, so nothing is conclusive and the check says which runs', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G - 0.06, { trainTokens: 512_000 })])
    const tokens = c.fairness.find((f) => f.name === 'training tokens')!
    expect(tokens.ok).toBe(false)
    expect(tokens.detail).toMatch(/8 runs with 1,024,000 training tokens; 2 runs with 512,000 training tokens \(g8e0\.5s0#\d+, g8e0\.5s1#\d+\)/)
    expect(c.verdict.conclusive).toBe(false)
    expect(c.verdict.reasons.join('\n')).toMatch(/training tokens differ between compared runs .*: train and evaluate every compared run with the same training tokens/)
  })

  it('a different LR schedule is flagged the same way', () => {
    const runs = [...dense(), ...gated(FRONTIER_AT_3G - 0.06)]
    ;(runs.at(-1)!.lrSchedule as { lr: number }).lr = 3e-3
    const c = compare(runs)
    expect(c.fairness.find((f) => f.name === 'LR schedule')!.ok).toBe(false)
    expect(c.verdict.conclusive).toBe(false)
  })

  it('a flat frontier segment gives no saving at equal CE (it would be unbounded noise)', () => {
    // L6 → L8 falls by 0.001 only: the gated CE 2.7995 lands on that segment
    const c = compare([...dense({ losses: [3.0, 2.9, 2.8, 2.799] }), ...gated(2.7995, { flops: 5e9, seeds: 1 })])
    expect(c.verdict.points[0]!.saving).toBeNull()
    expect(c.verdict.points[0]!.savingNote).toMatch(/flat within seed noise/)
    expect(c.gated.every((g) => g.atEqualLoss.flopsSaving === null)).toBe(true)
  })

  it('no interval across configurations: the summary is a descriptive mean, each configuration has its own interval', () => {
    const c = compare([...dense(), ...gated(FRONTIER_AT_3G - 0.06, { end: 0.25 }), ...gated(FRONTIER_AT_3G + 0.06, { end: 0.75 })])
    expect(c.summary.gap!.ci).toBeNull()
    expect(c.summary.gap!.sd).toBeNull()
    expect(c.verdict.points.map((p) => p.direction)).toEqual(['better', 'worse'])
    expect(c.verdict.simultaneousLevel).toBeCloseTo(0.975, 12) // Bonferroni over the two configurations
    expect(c.verdict.text).toMatch(/1 of 2 gated configurations beats/)
  })

  it('is deterministic (seeded bootstrap) and reports training FLOPs as hypothetical next to the executed ones', () => {
    const runs = [...dense(), ...gated(FRONTIER_AT_3G - 0.02)]
    const a = compare(runs).verdict
    const b = compare(runs).verdict
    expect(a).toEqual(b)
    const t = compareRuns(runs, { estimator: 'paper', flopsKind: 'training' })
    expect(t.flopsNote).toMatch(/hypothetical/)
    expect(t.gated[0]!.executedTrainingFlops).toBe(3e9 * 1500)
    expect(compare(runs).flopsNote).toBeNull()
  })

  it('pooledNoise and checkFrontier agree with hand computation', () => {
    const noise = pooledNoise([{ losses: [1, 1.2] }, { losses: [2, 2.1, 2.2] }, { losses: [5] }])!
    // ss = 0.02 + 0.02 = 0.04 over df 3
    expect(noise.sd).toBeCloseTo(Math.sqrt(0.04 / 3), 12)
    expect(noise.df).toBe(3)
    const small = { sd: 0.01, df: 3, groups: 2 }
    const chk = checkFrontier(
      [
        { key: 'a', label: 'a', kind: 'dense', losses: [3, 3.02], flops: 1, ids: ['a'] },
        { key: 'b', label: 'b', kind: 'dense', losses: [2.9, 2.92], flops: 2, ids: ['b'] },
      ],
      small,
      0.95,
    )
    // delta −0.1, half-width t(0.975, 3)·σ·√(1/2 + 1/2) = 3.182446·σ
    expect(chk.steps[0]!.delta).toBeCloseTo(-0.1, 12)
    expect(chk.steps[0]!.ci![1] - chk.steps[0]!.delta).toBeCloseTo(3.182446305 * small.sd, 6)
    expect(chk.monotone).toBe(true)
    expect(checkFrontier(chk.steps.length ? [] : [], small, 0.95).monotone).toBe(false) // no dense groups: not monotone
    expect(checkFrontier([{ key: 'a', label: 'a', kind: 'dense', losses: [3, 3.02], flops: 1, ids: ['a'] }, { key: 'b', label: 'b', kind: 'dense', losses: [2.9, 2.92], flops: 2, ids: ['b'] }], noise, 0.95).monotone).toBe(false) // −0.1 within ±0.37
  })
})
