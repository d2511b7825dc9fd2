import { describe, expect, it } from 'vitest'
import type { ParallelData } from '../contract/api.js'
import { renderSvg } from './ssr.js'
import { axisLabel, parallelChartOption } from './parallel.js'

const data: ParallelData = {
  runs: [
    { id: 1, name: 'a', kind: 'dense' },
    { id: 2, name: 'b', kind: 'gated' },
    { id: 3, name: 'c', kind: 'gated' },
  ],
  axes: [
    { path: 'model.n_layers', source: 'config', type: 'value' },
    { path: 'controller.name', source: 'config', type: 'category', categories: ['dummy', 'proportional'] },
    { path: 'val/loss', source: 'metric', type: 'value' },
  ],
  values: [
    [2, 'dummy', 3.1],
    [4, 'proportional', null],
    [8, 'proportional', 2.2],
  ],
  association: [{ path: 'model.n_layers', rho: -1, n: 2 }],
  target: 'val/loss',
}

describe('parallelChartOption', () => {
  it('one axis per field (categories kept), one line per run, coloured by val CE; missing values are gaps', () => {
    const o = parallelChartOption(data) as { parallelAxis: { dim: number; name: string; type: string; data?: string[] }[]; series: { type: string; data: { name: string; value: unknown[] }[] }[]; visualMap: { dimension: number; min: number; max: number } }
    expect(o.parallelAxis.map((a) => [a.dim, a.name, a.type])).toEqual([
      [0, 'layers', 'value'],
      [1, 'controller', 'category'],
      [2, 'validation\nloss\n(nats)', 'value'],
    ])
    expect(o.parallelAxis[1]!.data).toEqual(['dummy', 'proportional'])
    expect(o.series[0]!.type).toBe('parallel')
    expect(o.series[0]!.data.map((d) => d.value)).toEqual([
      [2, 'dummy', 3.1],
      [4, 'proportional', '-'],
      [8, 'proportional', 2.2],
    ])
    expect(o.visualMap).toMatchObject({ dimension: 2, min: 2.2, max: 3.1 })
    expect(axisLabel('optimizer.lr')).toBe('learning rate')
    expect(axisLabel('controller.coef_update_multiplier')).toBe('update multiplier (k)')
    expect(axisLabel('val/zeros/mean')).toBe('zero fraction (validation)')
    expect(axisLabel('sys/some_new_metric')).toBe('sys some new metric')
    expect(axisLabel('training.some_new_field')).toBe('some new field')
  })

  it('renders (server-side SVG) with a polyline per run', () => {
    const svg = renderSvg(parallelChartOption(data), 600, 300)
    expect(svg).toContain('<svg')
    expect(svg).toContain('layers')
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(3)
  })
})
