// The terminal's comparison text (cli/format.ts) with flopsKind "measured": it names the axis, the machine and the
// engine, and prints measured times as times (the analysis itself is tested in core/trainer/measured-cost.test.ts).
import { describe, expect, it } from 'vitest'
import { compareRuns } from '../core/analysis/index.js'
import { formatComparison } from './format.js'
import { measuredCostRuns } from '../core/analysis/test-support.js'

describe('formatComparison', () => {
  it('states the measured axis, the machine and engine, and prints times per token', () => {
    const runs = measuredCostRuns()
    const text = formatComparison(compareRuns(runs, { estimator: 'paper', flopsKind: 'measured' }))
    expect(text).toMatch(/measured evaluation time per token .* on machine A; ort ort-cpu/)
    expect(text).toMatch(/50 µs/)
  })
})
