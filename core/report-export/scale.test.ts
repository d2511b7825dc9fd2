/**
 * A report of 200 runs is produced in seconds (issue 8): synthetic stored rows (the tiny paper grid's configs with
 * seeds, made-up metrics) in a real SQLite store, every format written. scripts/bench/report.ts measures the same.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { escapeLatex } from '../report/index.js'
import { parseCsv } from '../report/test-support.js'
import { openStore } from '../store/index.js'
import { tempDir } from '../store/test-helpers.js'
import { buildReport } from './index.js'
import { findChromium } from './pdf.js'
import { seedSyntheticExperiment } from './synthetic.js'

const tmp = tempDir('skipbench-report-scale-')
afterAll(() => tmp.cleanup())

describe('report at scale', () => {
  it('writes a 200-run report in every format in seconds, with every run in each table', async () => {
    const store = openStore(tmp.file('db.sqlite'))
    try {
      const { runIds } = seedSyntheticExperiment(store, { experiment: 'grid-200', runs: 200 })
      expect(runIds).toHaveLength(200)
      const formats = findChromium() ? (['html', 'pdf', 'csv', 'json', 'md', 'tex'] as const) : (['html', 'csv', 'json', 'md', 'tex'] as const)
      const t0 = performance.now()
      const r = await buildReport(store, { experiment: 'grid-200', formats, outDir: tmp.file('out') })
      const seconds = (performance.now() - t0) / 1000
      console.log(`200-run report (${formats.join(',')}): ${seconds.toFixed(2)} s (model ${r.buildSeconds.toFixed(2)} s, writing ${r.seconds.toFixed(2)} s)`)
      expect(seconds).toBeLessThan(60) // shared 2-core CI; the benchmark quotes the real figure

      const c = r.model.comparisons.paper.inference
      expect(c.excluded).toEqual([])
      expect(c.groups.length).toBe(20) // 22 grid points × 10 seeds, the first 200 runs: the last two gated ends are cut
      expect(r.model.runs).toHaveLength(200)
      expect(r.model.curves.val.length).toBeLessThanOrEqual(16)
      expect(r.model.gates.length).toBe(12)

      const html = readFileSync(join(r.outDir, 'report.html'), 'utf8')
      expect(html.match(/<tr class="[^"]*" data-run=/g)).toHaveLength(200)
      const csv = parseCsv(readFileSync(join(r.outDir, 'runs.csv'), 'utf8'))
      expect(csv.slice(1).map((x) => Number(x[1]))).toEqual(runIds)
      const tex = readFileSync(join(r.outDir, 'runs-table.tex'), 'utf8')
      for (const run of r.model.runs) expect(tex).toContain(`${escapeLatex(run.name)} & ${run.kind} &`)
      const json = JSON.parse(readFileSync(join(r.outDir, 'report.json'), 'utf8')) as { runs: unknown[] }
      expect(json.runs).toHaveLength(200)
    } finally {
      store.close()
    }
  })
})
