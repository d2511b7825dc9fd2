import { describe, expect, it } from 'vitest'
import { SweepSpec } from '../../../core/contract/api'
import { applyField, defaultGroups, fieldValue, issuesByField, SECTIONS, sweepSize, sweepSpec, withKind } from './form'

const field = (path: string) => SECTIONS.flatMap((s) => s.fields).find((f) => f.path === path)!
const tinyGated = { name: 'tiny', model: { dim: 32, n_layers: 2, n_heads: 2, zero_init_masks: false, gated_attention: 'key' }, controller: { name: 'proportional', mean_target_end: 0.5 }, training: { train_steps: 20 } }

describe('run-config form', () => {
  it('edits numbers, removes emptied fields, keeps non-numbers for the schema to reject', () => {
    let d = applyField(tinyGated, field('model.dim'), '64')
    expect(fieldValue(d, 'model.dim')).toBe(64)
    d = applyField(d, field('training.train_steps'), '')
    expect(fieldValue(d, 'training.train_steps')).toBeUndefined()
    d = applyField(d, field('optimizer.lr'), 'fast')
    expect(fieldValue(d, 'optimizer.lr')).toBe('fast')
  })
  it('switches kind: dense drops the controller, gated restores a proportional one', () => {
    const dense = applyField(tinyGated, field('kind'), 'dense')
    expect(dense).toMatchObject({ model: { zero_init_masks: true }, controller: { name: 'dummy' } })
    expect(fieldValue(dense, 'kind')).toBe('dense')
    const gated = withKind(dense, 'gated')
    expect(gated).toMatchObject({ model: { zero_init_masks: false, gated_attention: 'key' }, controller: { name: 'proportional', mean_target_end: 0.5 } })
    // controller fields show only for gated models with target controllers
    expect(field('controller.mean_target_end').when!(gated)).toBe(true)
    expect(field('controller.mean_target_end').when!(dense)).toBe(false)
    const c = applyField(gated, field('controller.name'), 'sparsity')
    expect(c.controller).toEqual({ name: 'sparsity' })
  })
  it('routes issues to fields, parents for unknown sub-paths, "" for the document', () => {
    const m = issuesByField([
      { path: 'model.dim', message: 'dim (30) must be divisible by n_heads (4)' },
      { path: 'training.foo', message: 'unknown key "foo"' },
      { path: 'model.zero_init_masks', message: 'x' },
      { path: '', message: 'whole' },
    ])
    expect(m.get('model.dim')).toEqual(['dim (30) must be divisible by n_heads (4)'])
    expect(m.get('')).toEqual(['training.foo: unknown key "foo"', 'whole'])
    expect(m.get('kind')).toEqual(['model.zero_init_masks: x'])
  })
  it('builds a valid contract SweepSpec: dense baselines and gated targets, seeds', () => {
    const groups = defaultGroups(tinyGated)
    expect(groups.map((g) => g.axes[0]!.values)).toEqual(['1, 2', '0.5'])
    const spec = sweepSpec('tiny', tinyGated, groups, 1)
    const parsed = SweepSpec.parse(spec)
    expect(parsed.groups[0]!.base).toMatchObject({ model: { zero_init_masks: true }, controller: { name: 'dummy' } })
    expect(parsed.groups[0]!.axes[0]).toEqual({ path: 'model.n_layers', values: [1, 2] })
    expect(parsed.groups[1]!.base).toMatchObject({ model: { zero_init_masks: false } })
    expect('name' in parsed.groups[0]!.base).toBe(false)
    expect(sweepSize(groups, 1)).toBe(3)
    expect(sweepSize(groups, 3)).toBe(9)
    expect(SweepSpec.parse(sweepSpec('x', tinyGated, groups, 2)).seeds).toBe(2)
  })
})
