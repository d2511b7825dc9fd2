import { describe, expect, it } from 'vitest'
import { asDemo, comparisonSize, comparisonSpec, draftFrom, draftProblems, proposeDenseDepths } from './compare'

const tinyGated = {
  model: { dim: 128, n_layers: 4, n_heads: 4, vocab_size: 257, max_seq_len: 128, zero_init_masks: false, gated_attention: 'key' },
  training: { train_steps: 500, batch_size: 16, val_every: 100, val_tokens: 32768, checkpoint_every: 250 },
  controller: { name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: 1e-2 },
  data: { dataset: 'default', tokenizer: 'byte' },
  name: 'tiny-gated',
}

describe('the guided comparison', () => {
  it('proposes dense depths that bracket the gated depth', () => {
    expect(proposeDenseDepths(2)).toEqual([1, 2])
    expect(proposeDenseDepths(4)).toEqual([1, 2, 3, 4])
    expect(proposeDenseDepths(8)).toEqual([2, 4, 6, 8])
    expect(proposeDenseDepths(12)).toEqual([3, 6, 9, 12])
  })

  it('starts from the config: its depth, width, budget and evaluation set', () => {
    const d = draftFrom(tinyGated)
    expect(d).toMatchObject({ layers: 4, dim: 128, steps: 500, batchSize: 16, valTokens: 32768, dataset: 'default', denseDepths: '1, 2, 3, 4', targets: '0.25, 0.5, 0.75' })
    expect(draftProblems(d)).toEqual([])
    expect(comparisonSize(d)).toBe(7)
  })

  it('names each problem with its fix: odd depth, a target end outside (0, 1], one dense depth, no name', () => {
    const d = { ...draftFrom(tinyGated), name: ' ', layers: 3, targets: '0.5, 1.7', denseDepths: '2' }
    const p = Object.fromEntries(draftProblems(d).map((x) => [x.field, x.message]))
    expect(p['name']).toMatch(/Name the experiment/)
    expect(p['layers']).toMatch(/even/)
    expect(p['targets']).toMatch(/between 0 \(exclusive\) and 1/)
    expect(p['denseDepths']).toMatch(/at least two dense depths/)
  })

  it('builds one sweep: dense runs at each depth and gated runs at each target, all with the same budget', () => {
    const d = { ...draftFrom(tinyGated), layers: 2, dim: 32, steps: 20, batchSize: 4, valTokens: 1024, dataset: 'synthetic', denseDepths: '1, 2', targets: '0.5', seeds: 2 }
    const s = comparisonSpec(tinyGated, d)
    expect(s.seeds).toBe(2)
    expect(s.groups.map((g) => g.name)).toEqual(['dense', 'gated'])
    const [dense, gated] = s.groups
    expect(dense!.axes).toEqual([{ path: 'model.n_layers', values: [1, 2] }])
    expect(gated!.axes).toEqual([{ path: 'controller.mean_target_end', values: [0.5] }])
    for (const g of s.groups) {
      expect(g.base).toMatchObject({ model: { dim: 32, n_layers: 2 }, training: { train_steps: 20, batch_size: 4, val_tokens: 1024, val_every: 7, checkpoint_every: 20 }, data: { dataset: 'synthetic' } })
      expect((g.base as Record<string, unknown>)['name']).toBeUndefined()
    }
    expect(dense!.base).toMatchObject({ model: { zero_init_masks: true }, controller: { name: 'dummy' } })
    expect(gated!.base).toMatchObject({ model: { zero_init_masks: false }, controller: { name: 'proportional' } })
  })

  it('the demo is the quick demo grid', () => {
    const d = asDemo(draftFrom(tinyGated))
    expect(d).toMatchObject({ name: 'demo', layers: 4, dim: 32, steps: 60, denseDepths: '2, 4', targets: '0.3, 0.6' })
    expect(comparisonSize(d)).toBe(4)
  })
})
