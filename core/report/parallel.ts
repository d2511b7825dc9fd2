/**
 * Parallel coordinates (ECharts `parallel`) of an experiment's runs: one axis per varying config field and metric,
 * one line per run, coloured by validation CE (or by kind when no run has one). Brushing an axis (drag along it)
 * selects runs; the renderer reads the active lines back and filters the runs table and the Pareto chart.
 * Pure: plain wire data in, an EChartsOption out.
 */
import type { EChartsOption } from 'echarts'
import { FIELD_LABELS } from '../config/index.js'
import type { ParallelData } from '../contract/api.js'
import { PALETTE } from './charts.js'

export interface ParallelOptions {
  animation?: boolean
  /** the metric the lines are coloured by (default the data's target, val/loss) */
  colorBy?: string
}

/** An axis's name: the field's human label where core/config has one, else its last path segment (the full path is
 * in the association table's tooltip). Long dotted paths all began "controller.…" and ECharts cut them alike. */
export function axisLabel(path: string): string {
  return FIELD_LABELS[path] ?? path.slice(path.lastIndexOf('.') + 1)
}

export function parallelChartOption(d: ParallelData, o: ParallelOptions = {}): EChartsOption {
  const colorKey = o.colorBy ?? d.target
  const colorDim = d.axes.findIndex((a) => a.path === colorKey)
  const colorValues = colorDim >= 0 ? d.values.map((v) => v[colorDim]).filter((x): x is number => typeof x === 'number') : []
  const lo = colorValues.length ? Math.min(...colorValues) : 0
  const hi = colorValues.length ? Math.max(...colorValues) : 1
  return {
    animation: o.animation ?? false,
    parallel: { left: 60, right: 80, top: 40, bottom: 30, parallelAxisDefault: { nameLocation: 'end', nameGap: 12, realtime: false, nameTextStyle: { fontSize: 11 }, axisLabel: { fontSize: 10 } } },
    parallelAxis: d.axes.map((a, i) =>
      a.type === 'category'
        ? { dim: i, name: axisLabel(a.path), type: 'category', data: a.categories ?? [] }
        : { dim: i, name: axisLabel(a.path), type: 'value', scale: true },
    ),
    ...(colorDim >= 0 && colorValues.length
      ? { visualMap: { type: 'continuous', dimension: colorDim, min: lo, max: hi === lo ? lo + 1e-9 : hi, inRange: { color: ['#1c7ed6', '#f59f00', '#d9480f'] }, right: 0, top: 'middle', itemHeight: 160, text: [`${colorKey} high`, 'low'], calculable: false, textStyle: { fontSize: 10 } } }
      : {}),
    tooltip: { show: false },
    series: [
      {
        type: 'parallel',
        name: 'runs',
        lineStyle: { width: 1, opacity: d.runs.length > 500 ? 0.25 : 0.6, ...(colorDim < 0 ? { color: PALETTE.gatedUnknown } : {}) },
        inactiveOpacity: 0.03,
        activeOpacity: 1,
        smooth: false,
        progressive: 1000,
        data: d.values.map((v, i) => ({ name: d.runs[i]!.name, value: v.map((x) => (x === null ? '-' : x)) })) as never,
      },
    ],
  }
}
