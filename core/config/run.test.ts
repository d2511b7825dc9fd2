import { describe, expect, it } from 'vitest'
import { getPreset, mergeConfig, parseRunConfig, parseRunConfigWithWarnings, PRESETS, assertResolved, resolveRunConfigInput, RunConfigError, runKind, targetEnd, tokensPerStep } from './index.js'

const minimal = { training: { train_steps: 10 } }
const problems = (input: unknown): string[] => {
  try {
    parseRunConfig(input)
  } catch (e) {
    if (e instanceof RunConfigError) return e.issues
    throw e
  }
  return []
}

describe('RunConfig', () => {
  it('fills the reference defaults', () => {
    const c = parseRunConfig(minimal)
    expect(c.optimizer).toEqual({ lr: 1e-3, beta1: 0.8, beta2: 0.95, eps: 1e-10, weight_decay: 0 })
    expect(c.schedule).toEqual({ warmup_fraction: 0.1, start_factor: 0.1 })
    expect(c.controller).toEqual({ name: 'dummy' })
    expect(c.training).toMatchObject({ batch_size: 8, grad_acc_steps: 1, val_every: 100, seed: 0 })
    // a new run config without gated_attention gets "key" (a model config.json read alone gets "query": model.test)
    expect(c.model).toMatchObject({ dim: 768, n_layers: 12, zero_init_masks: true, gated_attention: 'key' })
    expect(parseRunConfig({ ...minimal, model: { n_layers: 4, zero_init_masks: false } }).model.gated_attention).toBe('key')
    expect(c.data.dataset).toBe('synthetic')
    expect(tokensPerStep(c)).toBe(8 * 1024)
  })

  it('resolves controller defaults (spec C)', () => {
    const c = parseRunConfig({ ...minimal, model: { n_layers: 4, zero_init_masks: false }, controller: { name: 'proportional' } })
    expect(c.controller).toMatchObject({ name: 'proportional', coef_update_multiplier: 1e-3, delta_min: 0.01, mean_target_start: 1, mean_target_end: 0.5, coef_max: null })
  })

  it('reports every problem with its path', () => {
    const p = problems({ model: { dim: 100, n_heads: 3, n_layers: 3, zero_init_masks: false }, training: { batch_size: 0, train_steps: 1.5 }, extra: 1 })
    const all = p.join('\n')
    expect(all).toMatch(/unknown key "extra"/)
    expect(all).toMatch(/training\.batch_size: batch_size must be at least 1/)
    expect(all).toMatch(/training\.train_steps: train_steps must be a whole number/)
    expect(all).toMatch(/model\.dim: dim \(100\) must be divisible by n_heads \(3\)/)
    expect(all).toMatch(/model\.n_layers: gated \(skip-middle\) models need an even n_layers/)
  })

  it('requires train_steps, and names unknown controllers and controller options', () => {
    expect(problems({ training: {} }).join()).toMatch(/training\.train_steps/)
    expect(problems({ ...minimal, controller: { name: 'pid' } }).join()).toMatch(/controller\.name: expected one of dummy, sparsity, .*got "pid"/)
    expect(problems({ ...minimal, controller: { name: 'sparsity', delta_min: 0.1 } }).join()).toMatch(/controller\.delta_min: unknown key "delta_min"/)
    expect(problems({ ...minimal, engine: { engine: 'torch' } }).join()).toMatch(/engine\.engine/)
    expect(problems({ ...minimal, model: { n_layers: 4, zero_init_masks: false }, controller: { name: 'proportional', mean_targets: [1, 0.5, 0.2] } }).join()).toMatch(/needs 2 values/)
  })

  it('warns about a controller on a dense model', () => {
    const { warnings } = parseRunConfigWithWarnings({ ...minimal, controller: { name: 'proportional' } })
    expect(warnings.join()).toMatch(/no effect on a dense model/)
  })

  it('accepts every preset, and extends + merges', () => {
    for (const p of PRESETS) expect(() => parseRunConfig(p.config), p.name).not.toThrow()
    expect(getPreset('tiny-gated')!.config.model).toMatchObject({ vocab_size: 257, gated_attention: 'key', zero_init_masks: false })
    const c = parseRunConfig(resolveRunConfigInput({ extends: 'tiny-gated', training: { train_steps: 7 } }, { engine: { engine: 'tfjs' } }))
    expect(c.training.train_steps).toBe(7)
    expect(c.training.batch_size).toBe(getPreset('tiny-gated')!.config.training.batch_size)
    expect(c.engine.engine).toBe('tfjs')
    expect(c.controller.name).toBe('proportional')
    expect(() => resolveRunConfigInput({ extends: 'nope' })).toThrow(/unknown preset "nope"/)
    expect(mergeConfig({ a: { b: 1, c: [1] } }, { a: { c: [2] } })).toEqual({ a: { b: 1, c: [2] } })
  })

  it('the paper presets match spec A.1/B/C', () => {
    const g = parseRunConfig(getPreset('paper-12l')!.config)
    expect(g.model).toMatchObject({ dim: 768, n_layers: 12, n_heads: 12, n_kv_heads: 12, vocab_size: 50257, max_seq_len: 1024, zero_init_masks: false })
    expect(tokensPerStep(g)).toBe(524_288)
    expect(g.training.train_steps).toBe(19_560)
    expect(g.controller).toMatchObject({ name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: 1e-3 })
    const b = parseRunConfig(getPreset('paper-baseline-12l')!.config)
    expect(b.model.zero_init_masks).toBe(true)
    expect(b.controller.name).toBe('dummy')
  })
})

describe('derived facts', () => {
  it('one target end for every view: auto targets, explicit lists and strings, dense runs', () => {
    const gated = (controller: unknown) => parseRunConfig({ ...minimal, model: { n_layers: 4, zero_init_masks: false }, controller })
    expect(targetEnd(gated({ name: 'proportional', mean_target_end: 0.3 }))).toBe(0.3)
    expect(targetEnd(gated({ name: 'proportional', mean_targets: [1, 0.4] }))).toBe(0.4)
    expect(targetEnd(gated({ name: 'proportional', mean_targets: '1 0.6' }))).toBe(0.6)
    expect(targetEnd(gated({ name: 'dummy' }))).toBeNull()
    expect(targetEnd(parseRunConfig(minimal))).toBeNull()
    expect(runKind(gated({ name: 'dummy' }))).toBe('gated')
    expect(runKind(parseRunConfig(minimal))).toBe('dense')
  })
})

describe('assertResolved (the integrity check at a process boundary)', () => {
  it('accepts a resolved config as it is, and refuses one that would need defaults or is invalid, naming the fields', () => {
    const json = JSON.parse(JSON.stringify(parseRunConfig(minimal))) as Record<string, unknown>
    expect(assertResolved(json)).toBe(json) // the same object: nothing re-parsed into a copy, nothing defaulted
    const partial = structuredClone(json)
    delete partial.schedule
    delete (partial.optimizer as Record<string, unknown>).lr
    expect(() => assertResolved(partial)).toThrow(RunConfigError)
    expect(() => assertResolved(partial)).toThrow(/optimizer\.lr: missing or not resolved[\s\S]*schedule: missing or not resolved/)
    expect(partial.schedule).toBeUndefined() // and nothing was filled in on the way
    expect(() => assertResolved(minimal)).toThrow(/not resolved/)
    expect(() => assertResolved({ ...json, training: { ...(json.training as object), train_steps: 0 } })).toThrow(/training\.train_steps/)
  })
})
