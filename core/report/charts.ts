/**
 * Pure ECharts option builders shared by the renderer (vue-echarts) and server-side reports (ECharts SSR to SVG).
 * Inputs are plain wire data (core/contract); outputs are EChartsOption objects. No DOM, no Node.
 */
import type { EChartsOption, SeriesOption } from 'echarts'
import type { Comparison } from '../contract/analysis.js'

export const PALETTE = {
  dense: '#1d2330',
  frontier: '#1d2330',
  dominated: '#8a90a0',
  gatedLow: '#d9480f', // low target end (aggressive skipping)
  gatedHigh: '#f59f00', // high target end (mild skipping)
  gatedUnknown: '#7048e8',
}

/** Linear colour ramp between two hex colours, t ∈ [0, 1]. */
export function ramp(a: string, b: string, t: number): string {
  const p = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16))
  const [x, y] = [p(a), p(b)]
  const c = x.map((v, i) => Math.round(v + (y[i]! - v) * Math.min(1, Math.max(0, t))))
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`
}

export const fmtFlops = (x: number): string => {
  if (!Number.isFinite(x) || x <= 0) return String(x)
  const e = Math.floor(Math.log10(x))
  const m = x / 10 ** e
  return `${m.toFixed(m < 9.95 ? 1 : 0)}e${e}`
}

export interface ParetoChartOptions {
  title?: string
  /** colour gated runs by their controller target end E (spec C); absent/null → one colour */
  targetOf?: (id: string) => number | null | undefined
  /** human label of a run id (tooltips) */
  labelOf?: (id: string) => string
  /** draw error bars for seed groups with n > 1 (mean ± CI) */
  errorBars?: boolean
  animation?: boolean
  /** label every point with this text (reports; off by default): the point's run ids → text */
  pointLabel?: (ids: string[]) => string
  /**
   * group-by (core/report/groups.ts): every point takes its run's group colour, one legend entry per group (in
   * `order`), the kind shown by the symbol (dense frontier ●, dominated ○, gated ◆); the frontier stays a line
   */
  groups?: { order: readonly { label: string; color: string }[]; of: (id: string) => { label: string; color: string } }
}

interface GatedDatum {
  value: [number, number]
  flops: number
  id: string
  name: string
  itemStyle: { color: string }
  gap: number | null
  extrapolated: string | null
  pointLabel?: string
}

/**
 * Log-FLOPs vs validation CE: dense frontier as a line (with its points), dominated dense runs hollow, gated runs
 * coloured by target end, seed-group error bars. The axis names say which estimator and which FLOPs.
 */
/**
 * Tick positions (log10 of round values) for a log axis from 10^lo to 10^hi: decades when it spans many, 1-2-5
 * within a few, finer round mantissas within one. Pure (charts.test.ts).
 */
export function logTicks(lo: number, hi: number): number[] {
  const span = hi - lo
  const mantissas = span >= 3 ? [1] : span >= 1.2 ? [1, 2, 5] : span >= 0.5 ? [1, 1.5, 2, 3, 5, 7] : [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8]
  const out: number[] = []
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++)
    for (const m of mantissas) {
      const v = Math.log10(m) + k
      if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push(v)
    }
  return out
}

/** The FLOPs axis' unit: inference FLOPs are per sequence, training FLOPs are the whole run's total. */
export function flopsUnit(kind: 'inference' | 'training' | 'measured'): string {
  return kind === 'training' ? 'training FLOPs (whole run)' : kind === 'measured' ? 'measured evaluation time per token' : 'inference FLOPs per sequence'
}

/** seconds per token, e.g. "412 µs" (the x of a measured-cost comparison) */
export const fmtSecondsPerToken = (x: number): string => (x >= 1e-3 ? `${+(x * 1e3).toPrecision(3)} ms` : `${+(x * 1e6).toPrecision(3)} µs`)

export function paretoChartOption(c: Comparison, o: ParetoChartOptions = {}): EChartsOption {
  const label = o.labelOf ?? ((id: string) => id)
  // x axis option 'measured': evaluation seconds per token measured on one machine and engine, instead of FLOPs
  const measured = c.flopsKind === 'measured'
  const fmtX = measured ? fmtSecondsPerToken : fmtFlops
  // x is plotted as log10(FLOPs) on a value axis (nice ticks at any range) and labelled in FLOPs
  const lx = Math.log10
  const pl = o.pointLabel
  const frontier = c.frontier.points.map((p) => ({ value: [lx(p.flops), p.loss] as [number, number], flops: p.flops, ids: p.ids, name: p.label ?? p.ids.map(label).join(', '), ...(pl ? { pointLabel: pl(p.ids) } : {}) }))
  const dominated = c.frontier.dominated.map((p) => ({ value: [lx(p.flops), p.loss] as [number, number], flops: p.flops, ids: p.ids, name: p.ids.map(label).join(', '), ...(pl ? { pointLabel: pl(p.ids) } : {}) }))
  const targets = c.gated.map((g) => o.targetOf?.(g.id)).filter((t): t is number => typeof t === 'number')
  const tMin = Math.min(...targets)
  const tMax = Math.max(...targets)
  const colourOf = (id: string) => {
    const t = o.targetOf?.(id)
    if (typeof t !== 'number') return PALETTE.gatedUnknown
    return ramp(PALETTE.gatedLow, PALETTE.gatedHigh, tMax > tMin ? (t - tMin) / (tMax - tMin) : 0.5)
  }
  const gated: GatedDatum[] = c.gated.map((g) => ({
    value: [lx(g.flops), g.loss],
    flops: g.flops,
    id: g.id,
    name: label(g.id),
    itemStyle: { color: colourOf(g.id) },
    gap: g.atEqualFlops.gap,
    extrapolated: g.atEqualFlops.extrapolated,
    ...(pl ? { pointLabel: pl([g.id]) } : {}),
  }))
  const grouped = o.groups ? groupedSeries(o.groups, frontier, dominated, gated) : null
  const pointLabels = pl
    ? {
        label: { show: true, position: 'right' as const, distance: 4, fontSize: 9, color: '#444', formatter: (p: unknown) => (p as { data?: { pointLabel?: string } }).data?.pointLabel ?? '' },
        labelLayout: { hideOverlap: true },
      }
    : {}

  const series: SeriesOption[] = grouped
    ? [
        // the frontier's line only: its points are drawn in their groups' colours
        { type: 'line', name: 'dense frontier', data: frontier, symbol: 'none', lineStyle: { color: PALETTE.frontier, width: 2 }, itemStyle: { color: PALETTE.dense }, z: 2, silent: true },
        ...grouped.map((g): SeriesOption => ({ type: 'scatter', name: g.label, data: g.data as ScatterDatum[], itemStyle: { color: g.color }, z: 3, ...pointLabels })),
      ]
    : [
        {
          type: 'line',
          name: 'dense frontier',
          data: frontier,
          symbol: 'circle',
          symbolSize: 8,
          lineStyle: { color: PALETTE.frontier, width: 2 },
          itemStyle: { color: PALETTE.dense },
          z: 2,
          ...pointLabels,
        },
        {
          type: 'scatter',
          name: 'dense (dominated)',
          data: dominated,
          symbol: 'emptyCircle',
          symbolSize: 8,
          itemStyle: { color: PALETTE.dominated },
          ...pointLabels,
        },
        {
          type: 'scatter',
          name: 'gated',
          data: gated,
          symbol: 'diamond',
          symbolSize: 11,
          itemStyle: { color: ramp(PALETTE.gatedLow, PALETTE.gatedHigh, 0.5) },
          z: 3,
          ...pointLabels,
        },
      ]

  if (o.errorBars !== false) {
    const bars: [number, number, number][] = []
    for (const g of c.groups) {
      if (g.n > 1 && g.loss.ci) bars.push([lx(g.flops.mean), g.loss.ci[0], g.loss.ci[1]])
    }
    if (bars.length) {
      series.push({
        type: 'custom',
        name: 'seed 95% interval',
        data: bars,
        encode: { x: 0, y: [1, 2] },
        renderItem: (_params, api) => {
          const x = api.value(0) as number
          const lo = api.coord([x, api.value(1) as number])
          const hi = api.coord([x, api.value(2) as number])
          const cap = 4
          const style = { stroke: '#555', lineWidth: 1.2 }
          return {
            type: 'group',
            children: [
              { type: 'line', shape: { x1: lo[0]!, y1: lo[1]!, x2: hi[0]!, y2: hi[1]! }, style },
              { type: 'line', shape: { x1: lo[0]! - cap, y1: lo[1]!, x2: lo[0]! + cap, y2: lo[1]! }, style },
              { type: 'line', shape: { x1: hi[0]! - cap, y1: hi[1]!, x2: hi[0]! + cap, y2: hi[1]! }, style },
            ],
          }
        },
        z: 1,
      } as SeriesOption)
    }
  }

  const allY = [...frontier, ...dominated, ...gated].map((d) => d.value[1])
  const allX = [...frontier, ...dominated, ...gated].map((d) => d.value[0])
  const ySpan = allY.length ? Math.max(...allY) - Math.min(...allY) : 0
  const yStep = niceStep(ySpan || 0.1)
  const xSpan = allX.length ? Math.max(...allX) - Math.min(...allX) : 0
  const xStep = niceStep(xSpan || 0.5)
  const xMin = allX.length ? Math.floor((Math.min(...allX) - xStep / 2) / xStep) * xStep : undefined
  const xMax = allX.length ? Math.ceil((Math.max(...allX) + xStep / 2) / xStep) * xStep : undefined
  const xTicks = xMin !== undefined && xMax !== undefined ? logTicks(xMin, xMax) : []
  return {
    animation: o.animation ?? true,
    title: measured
      ? { text: o.title ?? 'Validation cross-entropy vs measured evaluation time', subtext: `hard-skip evaluation time per token, measured on ${c.measuredOn ?? 'one machine'}`, left: 'center' }
      : { text: o.title ?? 'Validation cross-entropy vs FLOPs', subtext: `${flopsUnit(c.flopsKind)}, ${c.estimator} estimator`, left: 'center' },
    // only the kinds of point this chart has (no empty "dense (dominated)" entry); gated points name their E range
    legend: {
      bottom: 0,
      ...(grouped ? { type: 'scroll' as const } : {}),
      data: grouped
        ? [...(frontier.length ? ['dense frontier'] : []), ...grouped.map((g) => g.label)]
        : [
            ...(frontier.length ? ['dense frontier'] : []),
            ...(dominated.length ? ['dense (dominated)'] : []),
            ...(gated.length ? ['gated'] : []),
          ],
      formatter: (n: string) => (n === 'gated' && targets.length ? `gated: target end E ${tMin === tMax ? tMin : `${tMin} (orange) … ${tMax} (yellow)`}` : n),
    },
    grid: { left: 70, right: 30, top: 70, bottom: 70 },
    tooltip: {
      trigger: 'item',
      formatter: (p: unknown) => {
        const d = (p as { data?: { name?: string; flops?: number; value?: [number, number]; gap?: number | null; extrapolated?: string | null; group?: string } }).data
        if (!d?.value || d.flops === undefined) return ''
        const group = d.group ? `<br/>${d.group}` : ''
        const gap = d.gap === undefined ? '' : d.gap === null ? `<br/>gap: n/a${d.extrapolated ? ` (outside frontier, ${d.extrapolated})` : ''}` : `<br/>gap to frontier: ${d.gap >= 0 ? '+' : ''}${d.gap.toFixed(4)} nats`
        return `${d.name ?? ''}${group}<br/>${measured ? 'time / token' : 'FLOPs'}: ${fmtX(d.flops)}<br/>CE: ${d.value[1].toFixed(4)}${gap}`
      },
    },
    xAxis: {
      type: 'value',
      name: measured ? 'measured evaluation time / token (hard skipping for key-gated runs), log scale' : `${flopsUnit(c.flopsKind)} (${c.estimator}), log scale`,
      nameLocation: 'middle',
      nameGap: 32,
      // ticks at round values (1-2-5 or finer within a decade), not at even steps of log10 that read 2.2e7, 2.5e7, 2.8e7
      ...(xTicks.length >= 2
        ? { axisLabel: { formatter: (v: number) => fmtX(10 ** v), customValues: xTicks }, axisTick: { customValues: xTicks } }
        : { axisLabel: { formatter: (v: number) => fmtX(10 ** v) } }),
      min: xMin,
      max: xMax,
      // a fixed interval keeps ECharts from "nicing" a fractional log range (its assertion fails on some, e.g. 6.85–7.2)
      interval: xStep,
    },
    yAxis: {
      type: 'value',
      name: 'validation CE (nats/token)',
      nameLocation: 'middle',
      nameGap: 50,
      scale: true,
      min: allY.length ? Math.floor((Math.min(...allY) - yStep / 2) / yStep) * yStep : undefined,
      max: allY.length ? Math.ceil((Math.max(...allY) + yStep / 2) / yStep) * yStep : undefined,
      interval: yStep,
      axisLabel: { formatter: (v: number) => String(+v.toFixed(6)) },
    },
    dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none' }, { type: 'inside', yAxisIndex: 0, filterMode: 'none' }],
    series,
  }
}

type Point = { value: [number, number]; flops: number; name: string; pointLabel?: string }
type ScatterDatum = { value: [number, number]; name: string; symbol: string; symbolSize: number }
/** The Pareto points split by group: each keeps its kind's symbol; groups in the given order, empty ones dropped. */
function groupedSeries(
  groups: NonNullable<ParetoChartOptions['groups']>,
  frontier: (Point & { ids: string[] })[],
  dominated: (Point & { ids: string[] })[],
  gated: (Point & { id: string; gap: number | null; extrapolated: string | null })[],
): { label: string; color: string; data: unknown[] }[] {
  const out = new Map(groups.order.map((g) => [g.label, { label: g.label, color: g.color, data: [] as unknown[] }]))
  const put = (id: string, datum: object) => {
    const g = groups.of(id)
    let bucket = out.get(g.label)
    if (!bucket) out.set(g.label, (bucket = { label: g.label, color: g.color, data: [] }))
    bucket.data.push({ ...datum, group: g.label })
  }
  for (const p of frontier) put(p.ids[0]!, { ...p, symbol: 'circle', symbolSize: 9 })
  for (const p of dominated) put(p.ids[0]!, { ...p, symbol: 'emptyCircle', symbolSize: 8 })
  for (const g of gated) put(g.id, { value: g.value, flops: g.flops, id: g.id, name: g.name, gap: g.gap, extrapolated: g.extrapolated, symbol: 'diamond', symbolSize: 11, ...(g.pointLabel ? { pointLabel: g.pointLabel } : {}) })
  return [...out.values()].filter((b) => b.data.length)
}

/** A 1-2-5 step giving about 5 intervals over a span. */
function niceStep(span: number): number {
  const raw = span / 5
  const e = Math.floor(Math.log10(raw))
  const m = raw / 10 ** e
  const n = m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10
  return n * 10 ** e
}

export interface CurveSeries {
  id: string
  label: string
  /** x (step, tokens or FLOPs) and y pairs, x ascending */
  points: [number, number][]
  color?: string
  /** group-by: the line takes the group's colour and legend entry (one entry per group; the tooltip names the run) */
  group?: { label: string; color: string }
}

/** Exponential moving average smoothing (TensorBoard-style, debiased), weight in [0, 1). */
export function smooth(points: [number, number][], weight: number): [number, number][] {
  if (!(weight > 0)) return points
  let last = 0
  let n = 0
  return points.map(([x, y]) => {
    last = last * weight + (1 - weight) * y
    n++
    return [x, last / (1 - weight ** n)] as [number, number]
  })
}

/** Logged metrics in words, for axis names and headings (the key stays in the metric picker and tooltips). */
const METRIC_LABELS: Readonly<Record<string, string>> = {
  'train/loss': 'training loss (nats)',
  'val/loss': 'validation loss (nats)',
  'train/ce': 'training cross-entropy (nats)',
  'train/lr': 'learning rate',
  'train/tokens_per_sec': 'tokens per second',
  'train/controller_loss': 'controller loss',
  'train/gates/mean': 'gate mean (training)',
  'val/gates/mean': 'gate mean (validation)',
  'train/gates/var': 'gate variance (training)',
  'train/zeros/mean': 'zero fraction (training)',
  'val/zeros/mean': 'zero fraction (validation)',
  'val/tokens': 'validation tokens',
  'sys/cpu_percent': 'CPU (% of one core)',
  'sys/rss_mb': 'memory (MB)',
  'sys/heap_mb': 'JS heap (MB)',
}

/** A metric key in words: "val/loss" → "validation loss (nats)"; unknown keys with "/" and "_" as spaces. */
export function metricLabel(key: string): string {
  return METRIC_LABELS[key] ?? key.replace(/\//g, ' ').replace(/_/g, ' ')
}

export function lossCurvesOption(
  series: CurveSeries[],
  o: { xAxis: 'step' | 'tokens' | 'flops'; yName?: string; smoothing?: number; title?: string; animation?: boolean; logX?: boolean } = { xAxis: 'step' },
): EChartsOption {
  const xName = { step: 'optimizer step', tokens: 'training tokens', flops: 'training FLOPs' }[o.xAxis]
  const grouped = series.some((s) => s.group)
  const runLabel = new Map(series.map((s) => [s.id, s.label]))
  return {
    animation: o.animation ?? true,
    title: o.title ? { text: o.title, left: 'center' } : undefined,
    legend: grouped ? { bottom: 0, type: 'scroll', data: [...new Set(series.map((s) => s.group?.label ?? s.label))] } : { bottom: 0, type: 'scroll' },
    grid: { left: 60, right: 30, top: o.title ? 50 : 20, bottom: 70 },
    tooltip: grouped
      ? {
          trigger: 'axis',
          // series share their group's name: say which run each line is
          formatter: (ps: unknown) =>
            (ps as { seriesId?: string; seriesName?: string; marker?: string; value?: [number, number] }[])
              .map((p) => `${p.marker ?? ''}${runLabel.get(p.seriesId ?? '') ?? ''} (${p.seriesName ?? ''}): ${typeof p.value?.[1] === 'number' ? +p.value[1].toPrecision(5) : '–'}`)
              .join('<br/>'),
        }
      : { trigger: 'axis' },
    xAxis: { type: o.logX ? 'log' : 'value', name: xName, nameLocation: 'middle', nameGap: 30, scale: true, axisLabel: o.xAxis === 'step' ? {} : { formatter: (v: number) => fmtFlops(v) } },
    yAxis: { type: 'value', name: o.yName ?? 'loss (nats)', nameLocation: 'middle', nameGap: 42, scale: true },
    dataZoom: [{ type: 'inside', xAxisIndex: 0 }],
    series: series.map((s) => {
      const color = s.group?.color ?? s.color
      return {
        type: 'line',
        ...(grouped ? { id: s.id } : {}),
        name: s.group?.label ?? s.label,
        data: smooth(s.points, o.smoothing ?? 0),
        showSymbol: false,
        sampling: 'lttb',
        lineStyle: { width: 1.5, ...(color ? { color } : {}) },
        ...(color ? { itemStyle: { color } } : {}),
      }
    }),
  }
}

/**
 * Per-layer gate heatmap: rows = layers (0 at the bottom), columns = logged steps, value = mean gate (or zero
 * fraction). `values[layer][stepIndex]`.
 */
export function gateHeatmapOption(
  steps: number[],
  values: number[][],
  o: { metric?: 'gates mean' | 'zero fraction'; title?: string; animation?: boolean } = {},
): EChartsOption {
  const data: [number, number, number][] = []
  values.forEach((row, l) => row.forEach((v, i) => data.push([i, l, v])))
  const metric = o.metric ?? 'gates mean'
  return {
    animation: o.animation ?? true,
    title: o.title ? { text: o.title, left: 'center' } : undefined,
    tooltip: { position: 'top', formatter: (p: unknown) => {
      const v = (p as { value: [number, number, number] }).value
      return `step ${steps[v[0]]}<br/>layer ${v[1]}<br/>${metric}: ${v[2].toFixed(3)}`
    } },
    grid: { left: 60, right: 80, top: o.title ? 50 : 20, bottom: 50 },
    xAxis: { type: 'category', data: steps.map(String), name: 'step', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'category', data: values.map((_, l) => String(l)), name: 'layer', nameLocation: 'middle', nameGap: 35 },
    visualMap: {
      min: 0,
      max: 1,
      calculable: false,
      orient: 'vertical',
      right: 10,
      top: 'center',
      text: ['1', '0'],
      inRange: { color: metric === 'gates mean' ? ['#d9480f', '#fff3bf', '#1c7ed6'] : ['#1c7ed6', '#fff3bf', '#d9480f'] },
    },
    series: [{ type: 'heatmap', name: metric, data, progressive: 0 }],
  }
}
