import { describe, expect, it } from 'vitest'
import { compareRuns } from '../analysis/index.js'
import { Comparison } from '../contract/analysis.js'
import { inferenceFlops } from '../flops/index.js'
import { parseModelConfig } from '../model/config.js'
import { lossCurvesOption, paretoChartOption, type CurveSeries } from './charts.js'
import { chartGroups, GROUP_COLORS, groupLabel } from './groups.js'
import { renderSvg } from './ssr.js'

describe('chart groups', () => {
  it('orders numbers numerically, then text, "not set" last; colours follow that order; labels are human', () => {
    const g = chartGroups('model.n_layers', [8, 2, null, 16, 2, undefined, 4])
    expect(g.groups.map((x) => x.label)).toEqual(['layers = 2', 'layers = 4', 'layers = 8', 'layers = 16', 'layers not set'])
    expect(g.groups.map((x) => x.color)).toEqual(GROUP_COLORS.slice(0, 5))
    expect(g.of(16).color).toBe(GROUP_COLORS[3])
    expect(g.of(undefined)).toBe(g.of(null))
    expect(chartGroups('engine.backend', ['webgpu', 'cpu', 'cuda']).groups.map((x) => x.label)).toEqual(['backend = cpu', 'backend = cuda', 'backend = webgpu'])
  })
  it('labels: the stored kind flag reads dense/gated, floats lose their noise, unlabelled paths use their last segment in words', () => {
    expect(groupLabel('model.zero_init_masks', 1)).toBe('kind = dense')
    expect(groupLabel('model.zero_init_masks', false)).toBe('kind = gated')
    expect(groupLabel('optimizer.lr', 0.1 + 0.2)).toBe('learning rate = 0.3')
    expect(groupLabel('controller.mean_target_end', null)).toBe('target end (E) not set')
    expect(groupLabel('model.rope_theta', 10000)).toBe('rotary base (θ) = 10000')
    expect(groupLabel('data.custom_option', 3)).toBe('custom option = 3')
  })
  it('more groups than colours: the palette repeats, every value keeps its own legend entry', () => {
    const g = chartGroups('training.seed', Array.from({ length: 12 }, (_, i) => i))
    expect(g.groups).toHaveLength(12)
    expect(g.groups[10]!.color).toBe(GROUP_COLORS[0])
    expect(new Set(g.groups.map((x) => x.label)).size).toBe(12)
  })
})

const base = { dim: 32, n_heads: 4, vocab_size: 257, max_seq_len: 64 }
function run(id: string, L: number, gated: boolean, loss: number, lr: number, s = 0) {
  const config = { ...base, n_layers: L, zero_init_masks: !gated, gated_attention: gated ? 'key' : 'query' }
  const f = inferenceFlops(parseModelConfig(config), { estimator: 'paper', sparsity: s }).perSequence
  return { id, kind: gated ? 'gated' : 'dense', config, seed: 0, valLoss: loss, valTokens: 4096, dataset: 'd', tokenizer: 'byte', estimator: 'paper', inferenceFlops: f, trainingFlops: f * 100, zeroFraction: gated ? s : null, target_end: gated ? 0.5 : null, lr }
}
const runs = [run('d2', 2, false, 3.0, 1e-3), run('d4', 4, false, 2.6, 3e-3), run('d6', 6, false, 2.4, 1e-3), run('d8', 8, false, 2.45, 3e-3), run('g4', 4, true, 2.55, 1e-3, 0.2), run('g8', 8, true, 2.3, 3e-3, 0.3)]
const comparison = Comparison.parse(JSON.parse(JSON.stringify(compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' }))))
const lrOf = new Map(runs.map((r) => [r.id, r.lr]))

describe('grouped charts', () => {
  it('Pareto: one legend entry and colour per group, every point in its group with its kind as the symbol, the frontier still a line', () => {
    const g = chartGroups('optimizer.lr', runs.map((r) => r.lr))
    const o = paretoChartOption(comparison, { groups: { order: g.groups, of: (id) => g.of(lrOf.get(id)!) }, errorBars: false })
    const series = o.series as { name: string; type: string; symbol?: string; itemStyle?: { color: string }; data: { id?: string; ids?: string[]; symbol?: string; group?: string }[] }[]
    expect(series.map((s) => [s.type, s.name])).toEqual([
      ['line', 'dense frontier'],
      ['scatter', 'learning rate = 0.001'],
      ['scatter', 'learning rate = 0.003'],
    ])
    expect((o.legend as { data: string[] }).data).toEqual(['dense frontier', 'learning rate = 0.001', 'learning rate = 0.003'])
    expect(series[0]!.symbol).toBe('none')
    expect(series[0]!.data).toHaveLength(comparison.frontier.points.length)
    expect(series[1]!.itemStyle!.color).toBe(GROUP_COLORS[0])
    expect(series[2]!.itemStyle!.color).toBe(GROUP_COLORS[1])
    // every run lands once, in the group of its lr; gated runs are diamonds, frontier dense circles, dominated hollow
    const placed = series.slice(1).flatMap((s) => s.data.map((d) => ({ group: s.name, id: d.id ?? d.ids![0]!, symbol: d.symbol })))
    expect(placed.map((p) => p.id).sort()).toEqual(runs.map((r) => r.id).sort())
    for (const p of placed) expect(p.group).toBe(g.of(lrOf.get(p.id)!).label)
    expect(placed.find((p) => p.id === 'g8')!.symbol).toBe('diamond')
    expect(placed.find((p) => p.id === 'd2')!.symbol).toBe('circle')
    expect(placed.find((p) => p.id === 'd8')!.symbol).toBe('emptyCircle') // d6 is lower at fewer FLOPs
    expect(renderSvg(paretoChartOption(comparison, { groups: { order: g.groups, of: (id) => g.of(lrOf.get(id)!) }, animation: false }))).toContain('learning rate = 0.003')
  })
  it('loss curves: each run a line in its group colour; the legend names the groups once; the tooltip names the run', () => {
    const g = chartGroups('model.n_layers', [4, 8, 4])
    const mk = (id: string, L: number): CurveSeries => ({ id, label: `run ${id}`, points: [[0, 3], [10, 2.5]], group: g.of(L) })
    const o = lossCurvesOption([mk('1', 4), mk('2', 8), mk('3', 4)], { xAxis: 'step', animation: false })
    const series = o.series as { id: string; name: string; lineStyle: { color: string } }[]
    expect(series.map((s) => [s.id, s.name, s.lineStyle.color])).toEqual([
      ['1', 'layers = 4', GROUP_COLORS[0]],
      ['2', 'layers = 8', GROUP_COLORS[1]],
      ['3', 'layers = 4', GROUP_COLORS[0]],
    ])
    expect((o.legend as { data: string[] }).data).toEqual(['layers = 4', 'layers = 8'])
    const tip = (o.tooltip as { formatter: (p: unknown) => string }).formatter([{ seriesId: '3', seriesName: 'layers = 4', marker: '', value: [10, 2.5] }])
    expect(tip).toBe('run 3 (layers = 4): 2.5')
    // ungrouped: one entry per run, as before
    const plain = lossCurvesOption([{ id: '1', label: 'a', points: [[0, 1]] }], { xAxis: 'step' })
    expect((plain.series as { name: string }[])[0]!.name).toBe('a')
    expect((plain.legend as { data?: string[] }).data).toBeUndefined()
  })
})
