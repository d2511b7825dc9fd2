/**
 * The report's figures as ECharts options (pure), and their server-side rendering to SVG (ECharts SSR): the Pareto
 * chart under each estimator, validation and training loss curves, and one gate heatmap per gated run.
 *
 * Every drawn point of a series carries `ecmeta_series_index` / `ecmeta_data_index` attributes in the SVG (ECharts
 * SSR), which is how the tests count markers per series.
 */
import type { EChartsOption, SeriesOption } from 'echarts'
import { gateHeatmapOption, lossCurvesOption, paretoChartOption, PALETTE, ramp, type CurveSeries } from './charts.js'
import type { ReportEstimator, ReportModel, ReportSeries } from './model.js'
import { renderSvg } from './ssr.js'

export interface ReportFigure {
  id: string
  kind: 'pareto' | 'curves' | 'gates'
  title: string
  caption: string
  option: EChartsOption
  width: number
  height: number
  /** Pareto: the estimator it shows */
  estimator?: ReportEstimator
}

export interface RenderedFigure extends ReportFigure {
  svg: string
}

/** Colour of a run in curve plots: dense runs blue-grey by depth, gated runs orange by target end. t ∈ [0, 1]. */
export function runColor(kind: 'dense' | 'gated', t: number): string {
  return kind === 'dense' ? ramp('#1d2330', '#4dabf7', t) : ramp(PALETTE.gatedLow, PALETTE.gatedHigh, t)
}

const LEGEND_PER_ROW = 4

function curvesFigure(id: string, title: string, caption: string, series: ReportSeries[], o: { yName: string; symbols: boolean; smoothing?: number }): ReportFigure {
  const curves: CurveSeries[] = series.map((s) => ({ id: s.id, label: s.label, color: s.color, points: s.steps.map((x, i) => [x, s.values[i]!] as [number, number]) }))
  const opt = lossCurvesOption(curves, { xAxis: 'step', yName: o.yName, smoothing: o.smoothing ?? 0, animation: false, title })
  const rows = Math.max(1, Math.ceil(series.length / LEGEND_PER_ROW))
  const legendHeight = rows * 20
  opt.legend = { type: 'plain', bottom: 4, left: 'center', itemWidth: 18, itemHeight: 8, textStyle: { fontSize: 11 }, width: 760 }
  opt.grid = { left: 64, right: 30, top: 50, bottom: 56 + legendHeight }
  opt.dataZoom = []
  opt.series = (opt.series as SeriesOption[]).map((s) =>
    o.symbols ? { ...s, showSymbol: true, symbol: 'circle', symbolSize: 5, sampling: undefined } : { ...s, sampling: undefined },
  ) as SeriesOption[]
  return { id, kind: 'curves', title, caption, option: opt, width: 800, height: 380 + legendHeight }
}

/** The figures of a report, in the order they appear. */
export function reportFigures(m: ReportModel): ReportFigure[] {
  const figs: ReportFigure[] = []
  const byId = new Map(m.runs.map((r) => [r.id, r]))
  const labelOf = (id: string) => byId.get(id)?.name ?? id
  const targetOf = (id: string) => byId.get(id)?.targetEnd ?? null
  const flopsWord = m.flopsKind === 'inference' ? 'inference FLOPs per sequence' : m.flopsKind === 'training' ? 'training FLOPs (whole run)' : 'measured evaluation time per token'
  const order: ReportEstimator[] = m.estimator === 'paper' ? ['paper', 'corrected'] : ['corrected', 'paper']
  for (const est of order) {
    const c = m.comparisons[est][m.flopsKind]
    // label the points with run names while they stay legible
    const points = c.frontier.points.length + c.frontier.dominated.length + c.gated.length
    const pointLabel =
      points <= 40 ? (ids: string[]) => (ids.length === 1 ? labelOf(ids[0]!) : `${labelOf(ids[0]!).replace(/-s\d+$/, '')} (${ids.length} seeds)`) : undefined
    figs.push({
      id: `pareto-${est}`,
      kind: 'pareto',
      estimator: est,
      title: `Validation CE vs ${flopsWord} — ${est} estimator`,
      caption:
        `Dense frontier (line: non-dominated dense seed-group means), dominated dense groups (hollow), gated runs (diamonds, ` +
        `orange = low target end, yellow = high), seed-group ${Math.round(c.level * 100)}% intervals. ` +
        `${c.frontier.points.length} frontier points, ${c.frontier.dominated.length} dominated, ${c.gated.length} gated runs; ${c.excluded.length} excluded.`,
      option: paretoChartOption(c, { labelOf, targetOf, animation: false, title: m.flopsKind === 'measured' ? 'Validation CE vs measured evaluation time' : `Validation CE vs FLOPs (${est} estimator)`, ...(pointLabel ? { pointLabel } : {}) }),
      width: 800,
      height: 500,
    })
  }
  if (m.curves.val.length)
    figs.push(
      curvesFigure('curves-val', 'Validation loss during training', `Validation cross-entropy at every logged validation (markers), ${m.curves.val.length} runs.`, m.curves.val, {
        yName: 'validation CE (nats/token)',
        symbols: true,
      }),
    )
  if (m.curves.train.length)
    figs.push(
      curvesFigure(
        'curves-train',
        'Training loss',
        `Training loss per optimizer step (exponential moving average, weight 0.8; the CSV and JSON hold the stored values), ${m.curves.train.length} runs.`,
        m.curves.train,
        { yName: 'training loss (nats/token)', symbols: false, smoothing: 0.8 },
      ),
    )
  for (const g of m.gates) {
    figs.push({
      id: `gates-${g.runId}`,
      kind: 'gates',
      title: `Gates: ${g.label}`,
      caption: `Mean gate per layer (rows, layer 0 at the bottom) over training steps (columns) of ${g.label}: 1 = block fully used, 0 = skipped.`,
      option: { ...gateHeatmapOption(g.steps, g.values, { title: g.label, animation: false }), grid: { left: 56, right: 70, top: 40, bottom: 48 } },
      width: 420,
      height: 260,
    })
  }
  return figs
}

/** Render every figure to SVG (no browser). */
export function renderFigures(m: ReportModel, figs: ReportFigure[] = reportFigures(m)): RenderedFigure[] {
  return figs.map((f) => ({ ...f, svg: renderSvg(f.option, f.width, f.height) }))
}
