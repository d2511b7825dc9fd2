/**
 * Server-side rendering of chart options to self-contained SVG (ECharts SSR): no browser needed for reports.
 */
import * as echarts from 'echarts'
import type { EChartsOption } from 'echarts'

export function renderSvg(option: EChartsOption, width = 800, height = 500): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height })
  try {
    chart.setOption({ ...option, animation: false })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}
