// The terminal's comparison text (cli/format.ts) with flopsKind "measured": it names the axis, the machine and the
// engine, and prints measured times as times (the analysis itself is tested in core/trainer/measured-cost.test.ts).
import { describe, expect, it } from 'vitest'
import { compareRuns } from '../core/analysis/index.js'
import { formatComparison } from './format.js'

describe('formatComparison', () => {
  it('states the measured axis, the machine and engine, and prints times per token', () => {
    const base = { dim: 32, n_heads: 4, vocab_size: 64, max_seq_len: 32 }
    const run = (id: string, L: number, gated: boolean, loss: number, cost: number | null, on = 'machine A; ort ort-cpu') => ({
      id,
      kind: gated ? 'gated' : 'dense',
      config: { ...base, n_layers: L, zero_init_masks: !gated, gated_attention: 'key' },
      seed: 0,
      valLoss: loss,
      valTokens: 4096,
      dataset: 'd',
      tokenizer: 'byte',
      estimator: 'paper',
      inferenceFlops: 1e9 * L,
      trainingFlops: 1e12 * L,
      zeroFraction: gated ? 0.3 : null,
      measuredCost: cost,
      ...(cost !== null ? { measuredOn: on } : {}),
    })
    const runs = [run('d2', 2, false, 3.0, 2e-5), run('d4', 4, false, 2.6, 4e-5), run('d8', 8, false, 2.3, 8e-5), run('g8', 8, true, 2.45, 5e-5), run('g4', 4, true, 2.7, null), run('g6', 6, true, 2.5, 3e-5, 'machine B; ort ort-cpu')]
    const text = formatComparison(compareRuns(runs, { estimator: 'paper', flopsKind: 'measured' }))
    expect(text).toMatch(/measured evaluation time per token .* on machine A; ort ort-cpu/)
    expect(text).toMatch(/50 µs/)
  })
})
