/**
 * Parallel coordinates (ECharts `parallel`) of an experiment's runs: one axis per varying config field and metric,
 * one line per run, coloured by validation CE (or by kind when no run has one). Brushing an axis (drag along it)
 * selects runs; the renderer reads the active lines back and filters the runs table and the Pareto chart.
 * Pure: plain wire data in, an EChartsOption out.
 */
import type { EChartsOption } from 'echarts'
import { FIELD_LABELS } from '../config/index.js'
import type { ParallelData } from '../contract/api.js'
import { metricLabel, PALETTE } from './charts.js'

export interface ParallelOptions {
  animation?: boolean
  /** the metric the lines are coloured by (default the data's target, val/loss) */
  colorBy?: string
}

/** An axis's name: the field's human label where core/config has one, a metric's name in words, else the last path
 * segment in words (the full path is in the association table's tooltip). Long dotted paths all began
 * "controller.…" and ECharts cut them alike. */
export function axisLabel(path: string): string {
  if (FIELD_LABELS[path]) return FIELD_LABELS[path]
  if (path.includes('/')) return metricLabel(path)
  return path.slice(path.lastIndexOf('.') + 1).replace(/_/g, ' ')
}

/** The label on lines of at most `width` characters, broken at spaces: many axes leave ~60 px each, and ECharts
 * would otherwise run neighbouring names into each other. */
function wrapName(label: string, width = 10): string {
  const lines: string[] = []
  for (const word of label.split(' ')) {
    const last = lines.at(-1)
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`
    else lines.push(word)
  }
  return lines.join('\n')
}

/** The dense/gated flag (a 0/1 value axis for the rank correlation) read as the kind it stands for. */
const KIND_PATHS = new Set(['model.zero_init_masks', 'model.mask_zero_init'])

export function parallelChartOption(d: ParallelData, o: ParallelOptions = {}): EChartsOption {
  const colorKey = o.colorBy ?? d.target
  const colorDim = d.axes.findIndex((a) => a.path === colorKey)
  const colorValues = colorDim >= 0 ? d.values.map((v) => v[colorDim]).filter((x): x is number => typeof x === 'number') : []
  const lo = colorValues.length ? Math.min(...colorValues) : 0
  const hi = colorValues.length ? Math.max(...colorValues) : 1
  return {
    animation: o.animation ?? false,
    parallel: { left: 60, right: 100, top: 62, bottom: 30, parallelAxisDefault: { nameLocation: 'end', nameGap: 10, realtime: false, nameTextStyle: { fontSize: 10, lineHeight: 12, verticalAlign: 'bottom' }, axisLabel: { fontSize: 10 } } },
    parallelAxis: d.axes.map((a, i) =>
      a.type === 'category'
        ? { dim: i, name: wrapName(axisLabel(a.path)), type: 'category', data: a.categories ?? [] }
        : KIND_PATHS.has(a.path)
          ? { dim: i, name: wrapName(axisLabel(a.path)), type: 'value', min: 0, max: 1, interval: 1, axisLabel: { fontSize: 10, formatter: (v: number) => (v === 1 ? 'dense' : v === 0 ? 'gated' : '') } }
          : { dim: i, name: wrapName(axisLabel(a.path)), type: 'value', scale: true },
    ),
    ...(colorDim >= 0 && colorValues.length
      ? { visualMap: { type: 'continuous', dimension: colorDim, min: lo, max: hi === lo ? lo + 1e-9 : hi, inRange: { color: ['#1c7ed6', '#f59f00', '#d9480f'] }, right: 0, top: 'middle', itemHeight: 160, text: [`${colorKey === 'val/loss' ? 'val loss' : axisLabel(colorKey)} high`, 'low'], calculable: false, textStyle: { fontSize: 10 } } }
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
