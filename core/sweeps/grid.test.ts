import { describe, expect, it } from 'vitest'
import { paramCount } from '../flops/index.js'
import { expandSweep, getPath, normalizePath, parseAssignment, pointName, setPath, SweepError, type SweepSpec } from './grid.js'
import { PAPER_DEPTHS, PAPER_TARGET_ENDS, paperGrid, SCALES, sweepPreset } from './presets.js'

const base = {
  model: { dim: 16, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: true },
  training: { batch_size: 2, train_steps: 5, val_tokens: 64 },
  data: { dataset: 'synthetic', synthetic: { seed: 3 } },
}

describe('dotted paths', () => {
  it('set/get create intermediate objects and never mutate the input', () => {
    const doc = { model: { dim: 8 } }
    const out = setPath(doc, 'controller.mean_target_end', 0.3)
    expect(out).toEqual({ model: { dim: 8 }, controller: { mean_target_end: 0.3 } })
    expect(doc).toEqual({ model: { dim: 8 } })
    expect(getPath(out, 'controller.mean_target_end')).toBe(0.3)
    expect(getPath(out, 'seed')).toBeUndefined()
    expect(normalizePath('seed')).toBe('training.seed')
    expect(normalizePath('steps')).toBe('training.train_steps')
    expect(() => normalizePath('model..dim')).toThrow(SweepError)
    expect(() => normalizePath('model.dim[0]')).toThrow(/dotted field names/)
    expect(() => setPath({ model: 3 } as Record<string, unknown>, 'model.dim', 1)).toThrow(/"model" is number/)
  })

  it('PATH=VALUE assignments parse JSON values, else strings', () => {
    expect(parseAssignment('model.dim=64')).toEqual(['model.dim', 64])
    expect(parseAssignment('model.zero_init_masks=false')).toEqual(['model.zero_init_masks', false])
    expect(parseAssignment('controller.name=proportional')).toEqual(['controller.name', 'proportional'])
    expect(parseAssignment('controller.mean_targets=[1,0.5]')).toEqual(['controller.mean_targets', [1, 0.5]])
    expect(parseAssignment('seed=4')).toEqual(['training.seed', 4])
    expect(() => parseAssignment('model.dim')).toThrow(/PATH=VALUE/)
  })

  it('point names abbreviate the usual axes', () => {
    expect(pointName('gated', { 'model.n_layers': 12, 'controller.mean_target_end': 0.25, 'training.seed': 1 })).toBe('gated-L12-E0.25-s1')
    expect(pointName('x', { 'controller.name': 'dummy', 'optimizer.lr': 0.001 })).toBe('x-dummy-lr0.001')
  })
})

describe('expandSweep', () => {
  it('takes the Cartesian product in axis order, first axis outermost, with validated configs', () => {
    const s = expandSweep({
      name: 't',
      groups: [{ name: 'g', base: { ...base, model: { ...base.model, zero_init_masks: false } }, axes: { 'model.n_layers': [2, 4], 'controller.name': ['dummy', 'proportional'] } }],
    })
    expect(s.invalid).toEqual([])
    expect(s.points.map((p) => p.name)).toEqual(['g-L2-dummy', 'g-L2-proportional', 'g-L4-dummy', 'g-L4-proportional'])
    expect(s.points.map((p) => [p.config.model.n_layers, p.config.controller.name])).toEqual([
      [2, 'dummy'],
      [2, 'proportional'],
      [4, 'dummy'],
      [4, 'proportional'],
    ])
    expect(s.points.map((p) => p.index)).toEqual([0, 1, 2, 3])
    // defaults filled in by the run-config schema, names set on the config
    expect(s.points[1]!.config.controller).toMatchObject({ name: 'proportional', coef_update_multiplier: 1e-3, mean_target_end: 0.5 })
    expect(s.points[0]!.config.name).toBe('g-L2-dummy')
    expect(s.points[0]!.config.optimizer.lr).toBe(1e-3)
  })

  it('reports invalid combinations (odd depth for a gated model) with the problem, and keeps the valid ones', () => {
    const s = expandSweep({
      name: 't',
      groups: [
        { name: 'dense', base, axes: { 'model.n_layers': [1, 3] } },
        { name: 'gated', base: { ...base, model: { ...base.model, zero_init_masks: false } }, axes: { 'model.n_layers': [2, 3] } },
      ],
    })
    expect(s.points.map((p) => p.name)).toEqual(['dense-L1', 'dense-L3', 'gated-L2'])
    expect(s.invalid).toHaveLength(1)
    expect(s.invalid[0]).toMatchObject({ index: 3, group: 'gated', name: 'gated-L3', assignment: { 'model.n_layers': 3 } })
    expect(s.invalid[0]!.problems.join(' ')).toMatch(/even n_layers/)
  })

  it('reports unknown fields, bad values and controller names as invalid points', () => {
    const s = expandSweep({
      name: 't',
      groups: [{ name: 'g', base, axes: { 'training.batch_sizes': [2], 'controller.name': ['nope'] } }],
    })
    expect(s.points).toEqual([])
    const problems = s.invalid[0]!.problems.join('\n')
    expect(problems).toMatch(/unknown key "batch_sizes"/)
    expect(problems).toMatch(/controller.name: expected one of dummy/)
    const t = expandSweep({ name: 't', groups: [{ name: 'g', base, axes: { 'model.dim': [16, 15] } }] })
    expect(t.points.map((p) => p.config.model.dim)).toEqual([16])
    expect(t.invalid[0]!.problems.join(' ')).toMatch(/divisible by n_heads/)
  })

  it('flags duplicate points (the same resolved config twice) instead of queuing them twice', () => {
    const s = expandSweep({ name: 't', groups: [{ name: 'g', base, axes: { 'optimizer.lr': [1e-3, 0.001, 2e-3] } }] })
    expect(s.points.map((p) => p.name)).toEqual(['g-lr0.001', 'g-lr0.002'])
    expect(s.invalid[0]!.problems[0]).toMatch(/the same run config as g-lr0.001/)
    expect(s.invalid[0]!.name).toBe('g-lr0.001-2')
  })

  it('replicates every point with N seeds (from the base seed) or a list; a seed axis is left alone', () => {
    const spec = (seeds: SweepSpec['seeds']): SweepSpec => ({ name: 't', seeds, groups: [{ name: 'g', base: { ...base, training: { ...base.training, seed: 5 } }, axes: { 'model.n_layers': [1, 2] } }] })
    const n = expandSweep(spec(3))
    expect(n.points.map((p) => p.name)).toEqual(['g-L1-s5', 'g-L1-s6', 'g-L1-s7', 'g-L2-s5', 'g-L2-s6', 'g-L2-s7'])
    expect(n.points.map((p) => p.seed)).toEqual([5, 6, 7, 5, 6, 7])
    expect(n.points.map((p) => p.config.training.seed)).toEqual([5, 6, 7, 5, 6, 7])
    expect(expandSweep(spec([0, 10])).points.map((p) => p.name)).toEqual(['g-L1-s0', 'g-L1-s10', 'g-L2-s0', 'g-L2-s10'])
    expect(expandSweep(spec(undefined)).points.map((p) => p.seed)).toEqual([5, 5])
    const axis = expandSweep({ name: 't', seeds: 4, groups: [{ name: 'g', base, axes: { seed: [1, 2] } }] })
    expect(axis.points.map((p) => p.name)).toEqual(['g-s1', 'g-s2'])
    expect(() => expandSweep(spec(0))).toThrow(/seeds must be a whole number/)
    expect(() => expandSweep(spec([1, 1]))).toThrow(/repeated/)
  })

  it('applies group and sweep-wide settings after the axes (sweep-wide last)', () => {
    const s = expandSweep({
      name: 't',
      set: { 'training.train_steps': 9, 'engine.engine': 'ort' },
      groups: [{ name: 'g', base, axes: { 'training.train_steps': [1, 2] }, set: { 'optimizer.lr': 0.01 } }],
    })
    // the axis values collapse to one config under the sweep-wide override: a duplicate
    expect(s.points).toHaveLength(1)
    expect(s.points[0]!.config).toMatchObject({ training: { train_steps: 9 }, optimizer: { lr: 0.01 }, engine: { engine: 'ort' } })
    expect(s.invalid).toHaveLength(1)
  })

  it('accepts "extends": PRESET in a group base', () => {
    const s = expandSweep({ name: 't', groups: [{ name: 'g', base: { extends: 'tiny-dense' }, axes: { 'model.n_layers': [2] } }] })
    expect(s.points[0]!.config.model).toMatchObject({ dim: 128, n_layers: 2, zero_init_masks: true })
    expect(() => expandSweep({ name: 't', groups: [{ name: 'g', base: { extends: 'nope' } }] })).toThrow(/unknown preset "nope"/)
  })

  it('refuses malformed sweeps', () => {
    expect(() => expandSweep({ name: 't', groups: [] })).toThrow(/no groups/)
    expect(() => expandSweep({ name: 't', groups: [{ name: 'a', base }, { name: 'a', base }] })).toThrow(/two groups/)
    expect(() => expandSweep({ name: 't', groups: [{ name: 'a b', base }] })).toThrow(/group name/)
    expect(() => expandSweep({ name: 't', groups: [{ name: 'a', base, axes: { 'model.dim': [] } }] })).toThrow(/non-empty list/)
    expect(() => expandSweep({ name: 't', groups: [{ name: 'a', base, axes: { seed: [1], 'training.seed': [2] } }] })).toThrow(/given twice/)
  })

  it('warns when points are evaluated differently or there is no dense baseline', () => {
    const s = expandSweep({ name: 't', groups: [{ name: 'g', base: { ...base, data: { dataset: 'synthetic' } }, axes: { seed: [0, 1] } }] })
    expect(s.warnings.join(' ')).toMatch(/2 different ways.*synthetic data follows training.seed/)
    const g = expandSweep({ name: 't', groups: [{ name: 'g', base: { ...base, model: { ...base.model, n_layers: 2, zero_init_masks: false } } }] })
    expect(g.warnings.join(' ')).toMatch(/no dense runs/)
  })
})

describe('paper-grid preset', () => {
  it('is the paper grid: dense and nocontrol L = 2..12, gated L = 12 for the ten target ends (22 runs)', () => {
    const s = expandSweep(paperGrid())
    expect(s.invalid).toEqual([])
    expect(s.warnings).toEqual([])
    expect(s.points).toHaveLength(22)
    const dense = s.points.filter((p) => p.group === 'dense')
    const noc = s.points.filter((p) => p.group === 'nocontrol')
    const gated = s.points.filter((p) => p.group === 'gated')
    expect(dense.map((p) => p.config.model.n_layers)).toEqual([...PAPER_DEPTHS])
    expect(noc.map((p) => p.config.model.n_layers)).toEqual([...PAPER_DEPTHS])
    for (const p of dense) expect(p.config).toMatchObject({ model: { zero_init_masks: true }, controller: { name: 'dummy' } })
    for (const p of noc) expect(p.config).toMatchObject({ model: { zero_init_masks: false, gated_attention: 'key' }, controller: { name: 'dummy' } })
    expect(gated.map((p) => (p.config.controller as { mean_target_end: number }).mean_target_end)).toEqual([...PAPER_TARGET_ENDS])
    for (const p of gated)
      expect(p.config).toMatchObject({
        model: { n_layers: 12, zero_init_masks: false },
        // tiny scale: the gain is raised for 40× fewer steps (ScaleSpec.controllerGain)
        controller: { name: 'proportional', mean_targets: 'auto', mean_target_start: 1, coef_update_multiplier: 1e-2 },
      })
    // tiny: byte tokenizer on the shipped corpus, the same evaluation everywhere
    for (const p of s.points) expect(p.config).toMatchObject({ model: { vocab_size: 257, dim: 64 }, data: { dataset: 'default', tokenizer: 'byte' } })
    expect(gated.map((p) => p.name)).toContain('gated-E0.25')
  })

  it('paper scale has the published sizes (never run here)', () => {
    const s = expandSweep(sweepPreset('paper-grid', { scale: 'paper' }))
    expect(s.points).toHaveLength(22)
    const p = s.points.find((x) => x.name === 'gated-E0.5')!.config
    expect(p.model).toMatchObject({ dim: 768, n_heads: 12, n_kv_heads: 12, vocab_size: 50257, max_seq_len: 1024, n_layers: 12, gated_attention: 'query' })
    expect(p.training).toMatchObject({ batch_size: 32, grad_acc_steps: 16, train_steps: 19_560 })
    expect(p.controller).toMatchObject({ name: 'proportional', coef_update_multiplier: 1e-3 }) // the paper's gain
    expect(p.training.batch_size * p.training.grad_acc_steps * p.model.max_seq_len).toBe(524_288)
    expect(paramCount(s.points.find((x) => x.name === 'dense-L2')!.config.model)).toBe(96_077_569) // spec A.2 (mask parameters exist in dense models too)
    expect(SCALES.small.base).toMatchObject({ data: { tokenizer: 'gpt2' } })
  })

  it('options reduce the grid, replicate seeds and override fields', () => {
    const s = expandSweep(paperGrid({ groups: ['dense', 'gated'], depths: [2, 4], ends: [0.5], gatedDepth: 4, seeds: 2, set: { 'training.train_steps': 7 } }))
    expect(s.points.map((p) => p.name)).toEqual(['dense-L2-s0', 'dense-L2-s1', 'dense-L4-s0', 'dense-L4-s1', 'gated-E0.5-s0', 'gated-E0.5-s1'])
    for (const p of s.points) expect(p.config.training.train_steps).toBe(7)
    expect(s.description).toMatch(/overridden: training.train_steps=7/)
    expect(() => paperGrid({ groups: ['x' as 'dense'] })).toThrow(/unknown group/)
    expect(() => sweepPreset('nope')).toThrow(/unknown sweep preset/)
    const odd = expandSweep(paperGrid({ groups: ['nocontrol'], depths: [3] }))
    expect(odd.invalid[0]!.problems.join(' ')).toMatch(/even n_layers/)
  })
})
