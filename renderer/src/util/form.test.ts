import { describe, expect, it } from 'vitest'
import { SweepSpec } from '../../../core/contract/api'
import { issue, parseRunConfig, RUN_DEFAULTS } from '../../../core/config/index'
import { applyField, axisHint, axisIssuesByDraft, defaultGroups, fieldDefault, fieldValue, issuesByField, SECTIONS, sweepSize, sweepSpec, withKind } from './form'

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
  it('routes issues to fields, parents for unknown sub-paths, "" for the document; shows texts, keys in the tooltip', () => {
    const m = issuesByField([
      issue('model.dim', 'dim (30) must be divisible by n_heads (4)', 'The width (30) must be a multiple of the number of heads (4)'),
      issue('training.foo', 'unknown key "foo"', 'Unknown field “foo” in training'),
      issue('model.zero_init_masks', 'zero_init_masks must be true or false'),
      issue('optimizer.eps', 'eps must be greater than 0', 'Optimiser epsilon must be greater than 0'),
      { path: '', message: 'whole' },
    ])
    expect(m.get('model.dim')).toEqual([{ text: 'The width (30) must be a multiple of the number of heads (4)', title: 'model.dim: dim (30) must be divisible by n_heads (4)' }])
    expect(m.get('')!.map((i) => i.text)).toEqual(['Unknown field “foo” in training', 'Optimiser epsilon must be greater than 0', 'Whole'])
    expect(m.get('')![0]!.title).toBe('training.foo: unknown key "foo"')
    expect(m.get('kind')).toEqual([{ text: 'Kind must be true or false', title: 'model.zero_init_masks: zero_init_masks must be true or false' }])
  })
  it('puts a plan\'s axis issues at the draft rows they came from (the spec leaves out axes still being typed)', () => {
    const groups = [
      { name: 'g', kind: 'gated' as const, axes: [{ path: 'controller.', values: '1' }, { path: '', values: '' }, { path: 'controller.mean_target_edn', values: '0.3, 0.6' }] },
    ]
    expect(sweepSpec('s', tinyGated, groups, 1).groups[0]!.axes!.map((a) => a.path)).toEqual(['controller.mean_target_edn'])
    const m = axisIssuesByDraft(groups, [{ group: 0, axis: 0, issue: issue('controller.mean_target_edn', 'unknown field', 'Unknown field “controller.mean_target_edn”') }])
    expect([...m.keys()]).toEqual(['0.2'])
    expect(axisHint(groups[0]!.axes[0]!)).toMatch(/^Use a dotted config path/)
    expect(axisHint(groups[0]!.axes[1]!)).toBeNull()
    expect(axisHint({ path: 'model.dim', values: '' })).toMatch(/^Give the values/)
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
  it("writes only the schema's defaults on its own: kind switch, controller choice, placeholders", () => {
    // a bare document switched to gated by the form resolves exactly to core/config's gated defaults
    const gated = withKind({ training: { train_steps: 1 } }, 'gated')
    const resolved = JSON.parse(JSON.stringify(parseRunConfig(gated))) as { training: Record<string, unknown> }
    delete resolved.training.train_steps
    expect(resolved).toEqual(RUN_DEFAULTS.gated)
    expect(gated).toMatchObject({ model: { gated_attention: RUN_DEFAULTS.gated.model && (RUN_DEFAULTS.gated.model as { gated_attention: string }).gated_attention } })
    expect((RUN_DEFAULTS.gated.model as { gated_attention: string }).gated_attention).toBe('key')
    // each controller the form offers starts from the schema's own values for the fields it shows
    for (const name of field('controller.name').options!) {
      const d = applyField(gated, field('controller.name'), name)
      const full = parseRunConfig(d).controller as Record<string, unknown>
      for (const [k, v] of Object.entries(d.controller as Record<string, unknown>)) expect(full[k], `${name}.${k}`).toEqual(v)
      expect(parseRunConfig({ ...d, controller: { name } }).controller).toEqual(parseRunConfig(d).controller)
    }
    // every field's placeholder is the schema's default (train_steps has none)
    for (const f of SECTIONS.flatMap((s) => s.fields)) {
      if (f.path === 'kind') continue
      const fromSchema = f.path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], RUN_DEFAULTS.gated)
      expect(fieldDefault(gated, f.path), f.path).toEqual(fromSchema)
    }
    expect(fieldDefault(gated, 'training.train_steps')).toBeUndefined()
    expect(fieldDefault({}, 'training.batch_size')).toBe(parseRunConfig({ training: { train_steps: 1 } }).training.batch_size)
  })
})
