// The wire schema of a comparison (core/contract/analysis.ts) must accept what core/analysis produces.
import { describe, expect, expectTypeOf, it } from 'vitest'
import { compareRuns, type Comparison as AnalysisComparison } from '../core/analysis/index.js'
import { Comparison } from '../core/contract/analysis.js'
import { inferenceFlops } from '../core/flops/index.js'
import { parseModelConfig } from '../core/model/config.js'

const base = { dim: 32, n_heads: 4, vocab_size: 257, max_seq_len: 64 }
function run(id: string, L: number, gated: boolean, loss: number, seed = 0, s = 0) {
  const config = { ...base, n_layers: L, zero_init_masks: !gated, gated_attention: gated ? 'key' : 'query' }
  const f = inferenceFlops(parseModelConfig(config), { estimator: 'paper', sparsity: s }).perSequence
  return { id, kind: gated ? 'gated' : 'dense', config, seed, valLoss: loss, valTokens: 4096, dataset: 'd', tokenizer: 'byte', estimator: 'paper', inferenceFlops: f, trainingFlops: f * 100, zeroFraction: gated ? s : null, target_end: gated ? 0.5 : null }
}

describe('comparison wire schema', () => {
  it('accepts compareRuns output, including groups and extrapolation', () => {
    const runs = [run('d2', 2, false, 3.0), run('d4', 4, false, 2.6), run('d6', 6, false, 2.4), run('d6b', 6, false, 2.42, 1), run('g4a', 4, true, 2.55, 0, 0.2), run('g4b', 4, true, 2.5, 1, 0.2), run('g8', 8, true, 2.2, 0, 0.01)]
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'inference' })
    expect(c.gated.length).toBe(3)
    const parsed = Comparison.parse(JSON.parse(JSON.stringify(c)))
    expect(parsed.frontier.points.length).toBeGreaterThan(1)
    expectTypeOf<AnalysisComparison>().toMatchTypeOf<Comparison>()
  })
})
