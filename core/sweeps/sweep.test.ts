/**
 * Acceptance (issue 6): a reduced tiny paper grid — dense L = 2, 4 and a gated L = 4 with the proportional controller,
 * two seeds each, a few dozen steps of a dim-32 byte-level model on the shipped corpus — runs end to end through
 * `skipbench sweep` (calibration, real job queue, worker processes, trainer, SQLite), and the comparison reports the
 * dense frontier, the gaps and the seed groups. Nothing of ours is mocked.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { frontierLossAt, type Comparison } from '../analysis/index.js'
import { paperFlopsTransformer } from '../flops/index.js'
import { openStore } from '../store/store.js'
import { tempDir } from '../store/test-helpers.js'
import { compareExperiment, costRun, experimentRuns } from '../analysis/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'skipbench.mjs')
const tmp = tempDir('skipbench-sweep-e2e-')
afterAll(() => tmp.cleanup())

function sb(...args: string[]) {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, SKIPBENCH_DB: '' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 }
}

const STEPS = 60
const db = tmp.file('db/skipbench.db')
const args = [
  'sweep',
  '--preset', 'paper-grid',
  '--scale', 'tiny',
  '--groups', 'dense,gated',
  '--depths', '2,4',
  '--gated-depth', '4',
  '--ends', '0.3',
  '--seeds', '2',
  '--steps', String(STEPS),
  '--set', 'model.dim=32',
  '--set', 'training.val_every=30',
  '--experiment', 'reduced-grid',
  '--db', db,
  '--data-dir', tmp.file('data'),
]

describe('sweep acceptance: reduced tiny paper grid', () => {
  it('runs end to end through the real queue and trainer, and compare reports the frontier, gaps and groups', () => {
    const r = sb(...args)
    expect(r.stderr).not.toMatch(/skipbench: error/)
    expect(r.code).toBe(0)
    const out = r.stdout
    // plan and estimate before anything runs
    expect(out).toMatch(/sweep paper-grid-tiny: 6 runs/)
    expect(out).toMatch(/dense-L2-s0[\s\S]*dense-L2-s1[\s\S]*dense-L4-s0[\s\S]*gated-E0.3-s1/)
    expect(out).toMatch(/training FLOPs, paper estimator \(forward only\): +\d\.\d+e\d+/)
    const est = /wall time on this machine, one run at a time: (.+)/.exec(out)
    expect(est).not.toBeNull()
    expect(out).toMatch(/experiment "reduced-grid" \(id 1\) in .*: 6 queued/)
    expect(out).toMatch(/sweep finished in .*: 6 of 6 runs completed/)
    // the comparison
    expect(out).toMatch(/dense frontier \(\d point/)
    expect(out).toMatch(/gated runs: gap = val CE − dense frontier CE at equal FLOPs/)
    expect(out).toMatch(/seed groups \(val CE: mean ± 95% CI half-width/)
    expect(out).toMatch(/dense L=2 d=32 +2 +0,1 +\d\.\d{4} ± \d\.\d{4}/)
    expect(out).toMatch(/gated L=4 d=32 attn=key end=0.3 +2 +0,1/)
    expect(out).toMatch(/^verdict \((in)?conclusive\): /m)
    console.log(`reduced grid: ${r.seconds.toFixed(0)} s end to end (estimate printed: ${est![1]})`)

    // what the store holds
    const store = openStore(db)
    try {
      const runs = experimentRuns(store, { experiment: 'reduced-grid' })
      expect(runs.map((x) => [x.name, x.status, x.kind, x.seed])).toEqual([
        ['dense-L2-s0', 'completed', 'dense', 0],
        ['dense-L2-s1', 'completed', 'dense', 1],
        ['dense-L4-s0', 'completed', 'dense', 0],
        ['dense-L4-s1', 'completed', 'dense', 1],
        ['gated-E0.3-s0', 'completed', 'gated', 0],
        ['gated-E0.3-s1', 'completed', 'gated', 1],
      ])
      for (const run of runs) {
        expect(run.tags).toEqual(['sweep:paper-grid-tiny', `group:${run.kind === 'dense' ? 'dense' : 'gated'}`])
        expect(existsSync(join(run.runDir!, 'final', 'model.safetensors'))).toBe(true)
        const k = costRun(store, run)
        expect(k.ok).toBe(true)
        if (!k.ok) continue
        expect(k.costed).toMatchObject({ dataset: 'default', tokenizer: 'byte', steps: STEPS, batchSize: 16 })
        expect(k.costed.validation).toMatchObject({ source: 'validation', step: STEPS, tokens: 16_384 })
        if (run.kind === 'gated') {
          // training FLOPs: the reference formula at every logged step's own zero fraction, × 16 sequences
          const z = store.metrics.series(run.id, 'train/zeros/mean', { maxPoints: 0 })
          expect(z.steps).toEqual(Array.from({ length: STEPS }, (_, i) => i))
          const expected = z.values.reduce((a, s) => a + Number(paperFlopsTransformer(k.costed.config.model, true, Math.min(1, Math.max(0, s)))), 0) * 16
          expect(k.costed.flops.paper.training).toBe(expected)
          expect(k.costed.validation.zeroFraction).toBe(store.metrics.series(run.id, 'val/zeros/mean', { fromStep: STEPS, toStep: STEPS }).values[0])
        } else expect(k.costed.flops.paper.training).toBe(STEPS * 16 * Number(paperFlopsTransformer(k.costed.config.model, false, 0)))
      }
      for (const estimator of ['paper', 'corrected'] as const)
        for (const flopsKind of ['inference', 'training'] as const) {
          const c = compareExperiment(store, { experiment: 'reduced-grid', estimator, flopsKind })
          expect(c.excluded).toEqual([])
          expect(c.reference).toEqual({ dataset: 'default', tokenizer: 'byte', valTokens: 16_384, seqLen: 64 })
          expect(c.frontier.points.length).toBeGreaterThanOrEqual(1)
          expect(c.groups.map((g) => [g.kind, g.n])).toEqual([
            ['dense', 2],
            ['dense', 2],
            ['gated', 2],
          ])
          for (const g of c.groups) expect(g.loss.ci).not.toBeNull()
          expect(c.gated).toHaveLength(2)
          for (const g of c.gated) {
            // every gated run has a gap at equal FLOPs, or says on which side of the frontier it lies
            if (g.atEqualFlops.gap === null) expect(g.atEqualFlops.extrapolated).toMatch(/^(below|above)$/)
            else expect(g.atEqualFlops.gap).toBeCloseTo(g.loss - frontierLossAt(c.frontier, g.flops).loss!, 12)
          }
        }
    } finally {
      store.close()
    }

    // compare through the CLI, text and JSON
    const t = sb('compare', '--experiment', 'reduced-grid', '--db', db, '--estimator', 'corrected', '--flops', 'training')
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/experiment reduced-grid: 6 runs; training FLOPs \(whole run\), corrected estimator/)
    expect(t.stdout).toMatch(/evaluation: dataset default, tokenizer byte, 16,384 validation tokens, context 64/)
    const j = JSON.parse(sb('compare', '--experiment', 'reduced-grid', '--db', db, '--json').stdout) as Comparison & { experiment: string }
    expect(j).toMatchObject({ experiment: 'reduced-grid', estimator: 'paper', flopsKind: 'inference', runs: 6 })
    expect(j.groups).toHaveLength(3)

    // the same command again continues the sweep: nothing is trained twice
    const again = sb(...args)
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/: 6 exists/)
    expect(again.stdout).toMatch(/6 of 6 runs completed/)
    expect(again.stdout).toMatch(/dense-L2-s0: cached /) // the calibration comes from the cache: no new timing runs
    expect(again.stdout).not.toMatch(/: measured /)
  })
})
