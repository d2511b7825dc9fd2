import { describe, expect, it } from 'vitest'
import { compareRuns } from '../analysis/index.js'
import { Comparison } from '../contract/analysis.js'
import { inferenceFlops } from '../flops/index.js'
import { parseModelConfig } from '../model/config.js'
import { fmtFlops, gateHeatmapOption, logTicks, lossCurvesOption, paretoChartOption, ramp, smooth } from './charts.js'
import { renderSvg } from './ssr.js'

const base = { dim: 32, n_heads: 4, vocab_size: 257, max_seq_len: 64 }
function run(id: string, L: number, gated: boolean, loss: number, seed = 0, s = 0, target = 0.5) {
  const config = { ...base, n_layers: L, zero_init_masks: !gated, gated_attention: gated ? 'key' : 'query' }
  const f = inferenceFlops(parseModelConfig(config), { estimator: 'paper', sparsity: s }).perSequence
  return { id, kind: gated ? 'gated' : 'dense', config, seed, valLoss: loss, valTokens: 4096, dataset: 'd', tokenizer: 'byte', estimator: 'paper', inferenceFlops: f, trainingFlops: f * 100, zeroFraction: gated ? s : null, target_end: gated ? target : null }
}
const runs = [
  run('d2', 2, false, 3.0), run('d4', 4, false, 2.6), run('d6', 6, false, 2.4), run('d6s1', 6, false, 2.44, 1), run('d8', 8, false, 2.45),
  run('g4a', 4, true, 2.55, 0, 0.2, 0.2), run('g4b', 4, true, 2.5, 1, 0.2, 0.2), run('g8', 8, true, 2.3, 0, 0.3, 0.8),
]
const comparison = Comparison.parse(JSON.parse(JSON.stringify(compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' }))))
const targets = new Map(runs.map((r) => [r.id, r.target_end]))

describe('chart option builders', () => {
  it('pareto: frontier line, dominated dense, gated points, error bars, labelled axes', () => {
    const o = paretoChartOption(comparison, { targetOf: (id) => targets.get(id) })
    const series = o.series as { name: string; data: unknown[] }[]
    const byName = Object.fromEntries(series.map((s) => [s.name, s.data.length]))
    expect(byName['dense frontier']).toBe(comparison.frontier.points.length)
    expect(byName['gated']).toBe(3)
    expect(byName['dense (dominated)']).toBe(comparison.frontier.dominated.length)
    expect(byName['seed 95% interval']).toBeGreaterThanOrEqual(1)
    expect((o.xAxis as { name: string }).name).toContain('log scale')
    expect((o.xAxis as { name: string }).name).toContain('paper')
    const gatedColors = (series.find((s) => s.name === 'gated')!.data as { itemStyle: { color: string } }[]).map((d) => d.itemStyle.color)
    expect(new Set(gatedColors).size).toBe(2) // two target ends → two colours
  })
  it('pareto: the FLOPs unit follows the kind (whole-run training totals), the legend lists only present kinds and keys E', () => {
    const inf = paretoChartOption(comparison, { targetOf: (id) => targets.get(id) })
    expect((inf.xAxis as { name: string }).name).toContain('inference FLOPs per sequence')
    const trainRuns = compareRuns(runs, { estimator: 'paper', flopsKind: 'training' })
    const tr = paretoChartOption(Comparison.parse(JSON.parse(JSON.stringify(trainRuns))), { targetOf: (id) => targets.get(id) })
    expect((tr.xAxis as { name: string }).name).toContain('training FLOPs (whole run)')
    expect((tr.title as { subtext: string }).subtext).not.toContain('per sequence')
    const noDominated = Comparison.parse(JSON.parse(JSON.stringify(compareRuns(runs.filter((r) => r.id !== 'd8' && r.id !== 'd6s1'), { estimator: 'paper', flopsKind: 'inference' }))))
    expect(noDominated.frontier.dominated).toHaveLength(0)
    const legend = paretoChartOption(noDominated, { targetOf: (id) => targets.get(id) }).legend as { data: string[]; formatter: (n: string) => string }
    expect(legend.data).toEqual(['dense frontier', 'gated'])
    expect(legend.formatter('gated')).toBe('gated: target end E 0.2 (orange) … 0.8 (yellow)')
  })
  it('pareto: x ticks sit at round values on the log axis', () => {
    const at = (lo: number, hi: number) => logTicks(Math.log10(lo), Math.log10(hi)).map((v) => +(10 ** v).toPrecision(3))
    expect(at(1.6e7, 3.5e7)).toEqual([2e7, 2.5e7, 3e7])
    expect(at(1e6, 1e9)).toEqual([1e6, 1e7, 1e8, 1e9])
    expect(at(3e6, 1e8)).toEqual([5e6, 1e7, 2e7, 5e7, 1e8])
  })
  it('pareto: renders server-side on a fractional sub-decade log range (ECharts asserted on 6.85–7.2)', () => {
    const few = runs.filter((r) => ['d2', 'd4', 'g4a'].includes(r.id)).map((r, i) => ({ ...r, inferenceFlops: [8e6, 1.4e7, 1.4e7][i]! }))
    const c = Comparison.parse(JSON.parse(JSON.stringify(compareRuns(few, { estimator: 'paper', flopsKind: 'inference' }))))
    expect(renderSvg(paretoChartOption(c, { targetOf: (id) => targets.get(id), animation: false })).startsWith('<svg')).toBe(true)
  })
  it('renders to SVG server-side with one marker per point', () => {
    const svg = renderSvg(paretoChartOption(comparison, { targetOf: (id) => targets.get(id) }))
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('validation CE')
    // gated points are diamonds: ECharts draws them as paths; count via the series' data length rendered
    const diamonds = svg.match(/<path d="M[^"]*"[^>]*fill="#[0-9a-f]{6}"/gi) ?? []
    expect(diamonds.length).toBeGreaterThanOrEqual(comparison.gated.length + comparison.frontier.points.length)
  })
  it('loss curves: smoothing is debiased EMA and keeps lengths', () => {
    const pts: [number, number][] = [[0, 4], [1, 2], [2, 2], [3, 2]]
    const s = smooth(pts, 0.5)
    expect(s[0]![1]).toBeCloseTo(4)
    expect(s[1]![1]).toBeCloseTo((0.5 * 0.5 * 4 + 0.5 * 2) / (1 - 0.25))
    const o = lossCurvesOption([{ id: 'a', label: 'a', points: pts }], { xAxis: 'step', smoothing: 0.5 })
    expect(((o.series as { data: unknown[] }[])[0]!.data).length).toBe(4)
    expect(renderSvg(o)).toContain('<path')
  })
  it('gate heatmap: one cell per (layer, step)', () => {
    const o = gateHeatmapOption([0, 10, 20], [[1, 0.9, 0.8], [1, 0.5, 0.2], [1, 0.5, 0.2], [1, 0.9, 0.8]])
    expect(((o.series as { data: unknown[] }[])[0]!.data).length).toBe(12)
    expect(renderSvg(o, 600, 300)).toContain('<svg')
  })
  it('formats FLOPs and colours', () => {
    expect(fmtFlops(626_071_654_400)).toBe('6.3e11')
    expect(ramp('#000000', '#ffffff', 0.5)).toBe('#808080')
  })
})
