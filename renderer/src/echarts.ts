/** ECharts modules used by the workbench, registered once (tree-shaken build; vue-echarts renders them). */
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { CustomChart, HeatmapChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts'
import { DataZoomComponent, GridComponent, LegendComponent, ParallelComponent, TitleComponent, ToolboxComponent, TooltipComponent, VisualMapComponent } from 'echarts/components'

use([CanvasRenderer, LineChart, ScatterChart, CustomChart, HeatmapChart, ParallelChart, ParallelComponent, GridComponent, TooltipComponent, LegendComponent, TitleComponent, DataZoomComponent, VisualMapComponent, ToolboxComponent])
