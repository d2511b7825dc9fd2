import { describe, expect, it } from 'vitest'
import type { RunRow } from '../contract/api.js'
import { runsTableLatex, runsTableMarkdown, texEscape } from './runs-table.js'

const row = (over: Partial<RunRow>): RunRow => ({
  id: 1, uid: 'u', name: 'r', experimentId: 1, experiment: 'e', kind: 'dense', status: 'completed', seed: 0, engine: 'ort', backend: 'cpu', dataset: 'd', tags: [], error: null,
  createdAt: '', startedAt: null, endedAt: null, lastStep: 10, totalSteps: 10, tokensPerSec: null, etaSeconds: null, trainLoss: 2.5, valLoss: 2.61234567, zeroFraction: null, targetEnd: null,
  nLayers: 4, dim: 32, params: 123456, jobId: null, ...over,
})

describe('runs table export', () => {
  it('Markdown: one row per run, numbers right-aligned, pipes escaped', () => {
    const md = runsTableMarkdown([row({ name: 'a|b' }), row({ name: 'g', kind: 'gated', targetEnd: 0.5, zeroFraction: 0.25, valLoss: null })])
    const lines = md.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toBe('| Run | Kind | L | Dim | Params | Seed | Target E | Val CE | Train loss | Zeros |')
    expect(lines[1]).toBe('|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|')
    expect(lines[2]).toBe('| a\\|b | dense | 4 | 32 | 123.5k | 0 | – | 2.6123 | 2.5 | – |')
    expect(lines[3]).toBe('| g | gated | 4 | 32 | 123.5k | 0 | 0.5 | – | 2.5 | 0.25 |')
  })
  it('LaTeX: booktabs, special characters escaped', () => {
    const tex = runsTableLatex([row({ name: 'dense_L4 & 50%' })])
    expect(tex).toContain('\\toprule')
    expect(tex).toContain('dense\\_L4 \\& 50\\% & dense & 4 & 32 & 123.5k & 0 & -- & 2.6123 & 2.5 & -- \\\\')
    expect(tex).toContain('\\begin{tabular}{llrrrrrrrr}')
    expect(texEscape('a\\b{c}~^#$')).toBe('a\\textbackslash{}b\\{c\\}\\textasciitilde{}\\textasciicircum{}\\#\\$')
  })
})
