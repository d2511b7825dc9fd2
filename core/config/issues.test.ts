import { describe, expect, it } from 'vitest'
import { checkRunConfig, CONFIG_FIELD_PATHS, datasetIssue, FIELD_LABELS, fieldPathIssue, getPreset, humanText, issueText, type ConfigIssue } from './index.js'

const tinyGated = () => structuredClone(getPreset('tiny-gated')!.config) as unknown as Record<string, Record<string, unknown>>
const issuesOf = (doc: unknown): ConfigIssue[] => {
  const r = checkRunConfig(doc)
  return r.ok ? [] : r.issues
}
const gated = (over: Record<string, Record<string, unknown>>) => {
  const d = tinyGated()
  for (const [k, v] of Object.entries(over)) d[k] = { ...(d[k] ?? {}), ...v }
  return d
}

/** One invalid config per kind of problem the schema and the semantic checks report. */
const INVALID: [string, unknown][] = [
  ['steps 0', gated({ training: { train_steps: 0 } })],
  ['steps 1.5', gated({ training: { train_steps: 1.5 } })],
  ['steps text', gated({ training: { train_steps: 'ten' } })],
  ['no steps', { training: {} }],
  ['lr -1', gated({ optimizer: { lr: -1 } })],
  ['lr 0', gated({ optimizer: { lr: 0 } })],
  ['beta2 1', gated({ optimizer: { beta2: 1 } })],
  ['warm-up 2', gated({ schedule: { warmup_fraction: 2 } })],
  ['E 1.7', gated({ controller: { mean_target_end: 1.7 } })],
  ['E 0', gated({ controller: { mean_target_end: 0 } })],
  ['E above start', gated({ controller: { mean_target_start: 0.4, mean_target_end: 0.6 } })],
  ['targets count', gated({ controller: { mean_targets: [1, 0.5, 0.2] } })],
  ['unknown controller', gated({ controller: { name: 'pid' } })],
  ['controller option', gated({ controller: { name: 'sparsity', delta_min: 0.1 } })],
  ['odd gated depth', gated({ model: { n_layers: 3 } })],
  ['dim vs heads', gated({ model: { dim: 30, n_heads: 4 } })],
  ['odd head width', gated({ model: { dim: 12, n_heads: 4 } })],
  ['kv heads', gated({ model: { n_kv_heads: 3 } })],
  ['vocab', gated({ model: { vocab_size: 70000 } })],
  ['model key typo', gated({ model: { nlayers: 4 } })],
  ['training key typo', gated({ training: { batchsize: 4 } })],
  ['top-level typo', { ...gated({}), optimiser: {} }],
  ['tokenizer', gated({ data: { tokenizer: 'bpe' } })],
  ['engine', gated({ engine: { engine: 'torch' } })],
  ['threads', gated({ engine: { threads: 0 } })],
  ['shards', gated({ data: { train_shards: ['a.bin'] } })],
  ['empty dataset', gated({ data: { dataset: '' } })],
  ['mask type', gated({ model: { zero_init_masks: 'yes' } })],
]

/** Zod's own wording, and config keys (snake_case or dotted paths), that must not reach the app. */
const RAW = /expected|too small|too big|invalid input|unrecognized|\bspec [A-Z]\.\d/i
const KEY = /\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b(model|training|optimizer|schedule|controller|data|engine)\.[a-z_]+/

describe('issues in the app\'s words', () => {
  it('every field of the run config schema has a human label', () => {
    expect(CONFIG_FIELD_PATHS.length).toBeGreaterThan(50)
    expect(CONFIG_FIELD_PATHS).toContain('training.train_steps')
    expect(CONFIG_FIELD_PATHS).toContain('controller.coef_update_multiplier')
    expect(CONFIG_FIELD_PATHS).toContain('data.synthetic.successors')
    expect(CONFIG_FIELD_PATHS).toContain('model.rope_theta')
    const missing = CONFIG_FIELD_PATHS.filter((p) => !FIELD_LABELS[p])
    expect(missing).toEqual([])
    for (const label of Object.values(FIELD_LABELS)) expect(label, label).not.toMatch(KEY)
  })

  it('no invalid config gives the user zod\'s raw text or a config key; the CLI\'s message keeps the key', () => {
    for (const [what, doc] of INVALID) {
      const issues = issuesOf(doc)
      expect(issues.length, `${what} is refused`).toBeGreaterThan(0)
      for (const i of issues) {
        const t = issueText(i)
        expect(t, `${what}: ${t}`).not.toMatch(RAW)
        // a key the user typed may be quoted back ("Unknown field “nlayers”"); nothing else
        expect(t.replace(/“[^”]*”/g, '“…”'), `${what}: ${t}`).not.toMatch(KEY)
        expect(t, what).not.toMatch(/^[a-z]/)
        expect(i.message, `${what}: ${i.message}`).not.toMatch(/^Too (small|big)|^Invalid input/)
      }
    }
  })

  it('maps zod\'s codes to sentences: the text names the field by its label, the message by its key', () => {
    const [steps] = issuesOf(gated({ training: { train_steps: 0 } }))
    expect(steps).toEqual({ path: 'training.train_steps', message: 'train_steps must be at least 1', label: 'steps', text: 'Steps must be at least 1' })
    const [lr] = issuesOf(gated({ optimizer: { lr: -1 } }))
    expect(lr).toMatchObject({ path: 'optimizer.lr', message: 'lr must be greater than 0', text: 'Learning rate must be greater than 0' })
    const odd = issuesOf(gated({ model: { n_layers: 3 } }))[0]!
    expect(odd.message).toMatch(/even n_layers.*zero_init_masks: true/)
    expect(odd.text).toMatch(/^A gated \(skip-middle\) model needs an even number of layers.*choose kind “dense”/)
    expect(odd.text).not.toMatch(/spec/)
    const typo = issuesOf(gated({ model: { nlayers: 4 } }))[0]!
    expect(typo.message).toMatch(/^unknown key "nlayers" \(did you mean "n_layers"\?\)/)
    expect(typo.text).toBe('Unknown field “nlayers” in model: did you mean “layers”?')
    expect(issuesOf(gated({ training: { batchsize: 4 } }))[0]!.text).toBe('Unknown field “batchsize” in training: did you mean “batch size”?')
    expect(humanText('training.val_tokens is below max_seq_len (spec A.4)')).toBe('Validation tokens is below context length')
  })

  it('a target end E outside (0, 1] is refused with one message saying the range', () => {
    for (const e of [1.7, 0, -0.2]) {
      const issues = issuesOf(gated({ controller: { mean_target_end: e } }))
      expect(issues.map((i) => i.path)).toEqual(['controller.mean_target_end'])
      expect(issueText(issues[0]!)).toMatch(/^Target end \(E\) must be greater than 0 and at most 1/)
    }
    expect(issuesOf(gated({ controller: { mean_target_end: 1 } }))).toEqual([])
  })

  it('a sweep axis path that names no field: "unknown field …, did you mean …"', () => {
    expect(fieldPathIssue('controller.mean_target_end')).toBeNull()
    expect(fieldPathIssue('model.n_layers')).toBeNull()
    expect(fieldPathIssue('data.synthetic.seed')).toBeNull()
    const i = fieldPathIssue('controller.mean_target_edn')!
    expect(i.message).toBe('unknown field "controller.mean_target_edn", did you mean "controller.mean_target_end"?')
    expect(i.text).toBe('Unknown field “controller.mean_target_edn”: did you mean “controller.mean_target_end” (target end (E))?')
    expect(fieldPathIssue('contoller.mean_target_end')!.message).toMatch(/did you mean "controller\.mean_target_end"/)
    expect(fieldPathIssue('model.n_layer')!.message).toMatch(/did you mean "model\.n_layers"/)
    expect(fieldPathIssue('training.frobnicate')!.text).toMatch(/no run config field has this path/)
  })

  it('a dataset name this data folder lacks is flagged, with a "did you mean"; built-ins and paths pass', () => {
    expect(datasetIssue('synthetic', [])).toBeNull()
    expect(datasetIssue('default', [])).toBeNull()
    expect(datasetIssue('default-gpt2', [])).toBeNull()
    expect(datasetIssue('wiki', ['wiki'])).toBeNull()
    expect(datasetIssue('/data/shards/*.bin', [])).toBeNull()
    const i = datasetIssue('synthetc', ['wiki'])!
    expect(i).toMatchObject({ path: 'data.dataset', label: 'dataset' })
    expect(i.message).toMatch(/^unknown dataset "synthetc" \(did you mean "synthetic"\?\): the datasets here are synthetic, default, wiki/)
    expect(i.text).toMatch(/^No dataset named “synthetc” here: did you mean “synthetic”\? Choose one of synthetic, default, wiki, or import it on the Datasets page/)
    expect(datasetIssue('wikki', ['wiki'])!.text).toMatch(/did you mean “wiki”/)
  })
})
