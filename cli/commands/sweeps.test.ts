/** CLI integration for flops, compare and sweep --dry-run: spawns `node bin/skipbench.mjs ...` as a user would. */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../core/store/store.js'
import { tempDir } from '../../core/store/test-helpers.js'
import type { JsonObject } from '../../core/store/types.js'
import { parseRunConfig, runConfigToJson } from '../../core/config/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'skipbench.mjs')
const tmp = tempDir('skipbench-cli-sweeps-')
afterAll(() => tmp.cleanup())

function sb(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SKIPBENCH_DB: tmp.file('default-should-not-be-used.db') } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/)

describe('skipbench flops', () => {
  it('--json: the paper estimator reproduces the spec’s worked example (L = 12 dense: 626,071,654,400 per sequence)', () => {
    const r = sb('flops', '--preset', 'paper-baseline-12l', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j).toMatchObject({ estimator: 'paper', params: 190_483_974, inference_flops_per_sequence: 626_071_654_400, n_layers: 12, gated: false, tokens_per_sequence: 1024 })
    expect(j.inference_flops_per_token).toBe(626_071_654_400 / 1024)
    expect(j.training_flops).toBe(626_071_654_400 * 19_560 * 512) // forward only, every step, 512 sequences
    expect(j.estimators.corrected.estimator).toBe('corrected')
    expect(j.estimators.corrected.training_flops).toBeGreaterThan(j.training_flops)
  })

  it('accepts a bare model config.json (reference keys) and a run config; --estimator picks one', () => {
    const model = tmp.file('config.json')
    writeFileSync(model, JSON.stringify({ dim: 768, n_layers: 2, n_heads: 12, vocab_size: 50257, max_seq_len: 1024, zero_init_masks: true }))
    const m = JSON.parse(sb('flops', model, '--json', '--estimator', 'corrected').stdout)
    expect(m).toMatchObject({ estimator: 'corrected', params: 96_077_569, n_layers: 2 })
    expect(m.estimators).toBeUndefined()
    expect(m.training_flops).toBeUndefined() // a model config has no steps or batch
    const withSteps = JSON.parse(sb('flops', '--config', model, '--json', '--steps', '10', '--batch-size', '4').stdout)
    expect(withSteps.training_flops).toBe(40 * withSteps.inference_flops_per_sequence)

    // a checkpoint's config.json: reference keys at the top level plus our extra sections (training gives steps and batch)
    const ck = tmp.file('ck-config.json')
    writeFileSync(ck, JSON.stringify({ dim: 32, n_layers: 2, n_heads: 4, vocab_size: 257, max_seq_len: 64, zero_init_masks: true, architectures: ['SkipMiddleModel'], controller: { name: 'dummy' }, seed: 0, training: { batch_size: 16, grad_acc_steps: 2, train_steps: 60 } }))
    const c = JSON.parse(sb('flops', ck, '--json').stdout)
    expect(c).toMatchObject({ params: 49_569, training_steps: 60, batch_size: 32 })
    expect(c.training_flops).toBe(60 * 32 * c.inference_flops_per_sequence)

    const run = tmp.file('run.json')
    writeFileSync(run, JSON.stringify({ extends: 'tiny-gated', training: { train_steps: 100 } }))
    const t = sb('flops', '--config', run, '--sparsity', '0.25')
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/L=4 dim=128 heads=4 vocab=257 context=128, gated \(gated_attention "key"\)/)
    expect(t.stdout).toMatch(/parameters: 1,116,930/)
    expect(t.stdout).toMatch(/inference FLOPs per sequence +\d\.\d{3}e\d+ \([\d,]+\) +\d\.\d{3}e\d+/)
    expect(t.stdout).toMatch(/training FLOPs \(100 steps × 16 seq, s = 0.25\)/)
    expect(t.stdout).toMatch(/note: paper estimator: exact port/)
    const perLayer = JSON.parse(sb('flops', '--config', run, '--sparsity', '0,0.5,0.5,0', '--json', '--estimator', 'corrected').stdout)
    expect(perLayer.sparsity).toBe(0.25)
  })

  it('user errors: one message, no stack, exit 2', () => {
    for (const [args, msg] of [
      [['flops', '--preset', 'paper-baseline-12l', '--sparsity', '0.2'], /dense config \(zero_init_masks true\) never skips/],
      [['flops', '--preset', 'tiny-gated', '--sparsity', '2'], /--sparsity: expected a zero fraction in \[0, 1\]/],
      [['flops', '--preset', 'tiny-gated', '--sparsity', '0.1,0.2'], /per-layer sparsity needs n_layers = 4 values, got 2/],
      [['flops', '--preset', 'tiny-gated', '--config', 'x.json'], /exactly one of --config CONFIG.json or --preset NAME/],
      [['flops', '--preset', 'nope'], /unknown preset "nope"/],
      [['flops', '--preset', 'tiny-gated', '--estimator', 'exact'], /--estimator: must be paper or corrected/],
    ] as const) {
      const r = sb(...args)
      expect(r.stderr, args.join(' ')).toMatch(msg)
      expect(r.code, args.join(' ')).toBe(2)
      noStack(r.stderr)
    }
    const odd = tmp.file('odd.json')
    writeFileSync(odd, JSON.stringify({ dim: 64, n_layers: 3, n_heads: 4, zero_init_masks: false }))
    const r = sb('flops', odd)
    expect(r.stderr).toMatch(/even n_layers/)
    expect(r.code).not.toBe(0)
    noStack(r.stderr)
  })
})

describe('skipbench sweep --dry-run', () => {
  it('prints the expanded paper grid and its FLOPs without timing, queuing or creating a database', () => {
    const db = tmp.file('dry/s.db')
    const r = sb('sweep', '--preset', 'paper-grid', '--scale', 'paper', '--dry-run', '--no-calibrate', '--db', db)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/sweep paper-grid-paper: 22 runs/)
    expect(r.stdout).toMatch(/gated-E0.25 +12 +gated\/query +proportional E=0.25 +190,483,974 +19560 +10,255,073,280/)
    expect(r.stdout).toMatch(/wall time: unknown \(not calibrated\)/)
    expect(r.stdout).toMatch(/dry run: nothing queued/)
    expect(existsSync(db)).toBe(false)

    const j = JSON.parse(sb('sweep', '--scale', 'tiny', '--seeds', '3', '--dry-run', '--no-calibrate', '--json', '--db', db).stdout)
    expect(j.points).toHaveLength(66)
    expect(j.points.slice(0, 3).map((p: { name: string }) => p.name)).toEqual(['dense-L2-s0', 'dense-L2-s1', 'dense-L2-s2'])
    expect(j.invalid).toEqual([])
    expect(j.experiment).toBe('paper-grid-tiny')
    expect(j.estimate.totals.runs).toBe(66)
    expect(j.estimate.totals.flops.paper.training).toBeGreaterThan(0)
    expect(j.estimate.totals.seconds).toBeNull()
    expect(existsSync(db)).toBe(false)
  })

  it('calibrates this machine (a few real steps of the smallest and largest config) and estimates the wall time', () => {
    const db = tmp.file('cal/s.db')
    const r = sb('sweep', '--dry-run', '--groups', 'dense', '--depths', '2,4', '--set', 'model.dim=32', '--steps', '20', '--db', db, '--data-dir', tmp.file('data'))
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/dense-L2: measured \d\.\d{3} s per micro-batch of 16/)
    expect(r.stdout).toMatch(/wall time on this machine, one run at a time: \d/)
    expect(r.stdout).toMatch(/calibration ort\/ort-\w+ L=4 d=32 T=64 B=16: [\d.]+ GFLOP\/s training/)
    expect(existsSync(join(dirname(db), 'calibration.json'))).toBe(true)
    expect(existsSync(db)).toBe(false)
    const again = sb('sweep', '--dry-run', '--groups', 'dense', '--depths', '2,4', '--set', 'model.dim=32', '--steps', '20', '--db', db, '--data-dir', tmp.file('data'))
    expect(again.stdout).toMatch(/dense-L2: cached /)
  })

  it('reports invalid points (odd depth for gated) and refuses to queue them', () => {
    const r = sb('sweep', '--groups', 'nocontrol', '--depths', '3,4', '--dry-run', '--no-calibrate', '--db', tmp.file('inv/s.db'))
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/sweep paper-grid-tiny: 1 runs, 1 invalid points/)
    expect(r.stdout).toMatch(/#0 nocontrol-L3: .*even n_layers/)
    expect(r.stdout).toMatch(/warning: no dense runs/)
    const q = sb('sweep', '--groups', 'nocontrol', '--depths', '3,4', '--no-calibrate', '--db', tmp.file('inv/s.db'))
    expect(q.code).toBe(2)
    expect(q.stderr).toMatch(/1 invalid point \(listed above\); fix the grid or pass --skip-invalid/)
    expect(existsSync(tmp.file('inv/s.db'))).toBe(false)
    noStack(q.stderr)
  })

  it('takes a custom grid file over any config fields, with seeds and --set', () => {
    const grid = tmp.file('grid.json')
    writeFileSync(
      grid,
      JSON.stringify({
        name: 'lr-sweep',
        groups: [
          { name: 'dense', base: { extends: 'tiny-dense' }, axes: { 'optimizer.lr': [1e-3, 3e-3] } },
          { name: 'gated', base: { extends: 'tiny-gated' }, axes: { 'controller.coef_update_multiplier': [1e-3, 1e-2], 'controller.name': ['proportional', 'proportional_derivative'] } },
        ],
      }),
    )
    const j = JSON.parse(sb('sweep', '--grid', grid, '--seeds', '0,7', '--set', 'training.train_steps=9', '--dry-run', '--no-calibrate', '--json').stdout)
    expect(j.points.map((p: { name: string }) => p.name)).toEqual([
      'dense-lr0.001-s0',
      'dense-lr0.001-s7',
      'dense-lr0.003-s0',
      'dense-lr0.003-s7',
      'gated-k0.001-proportional-s0',
      'gated-k0.001-proportional-s7',
      'gated-k0.001-proportional_derivative-s0',
      'gated-k0.001-proportional_derivative-s7',
      'gated-k0.01-proportional-s0',
      'gated-k0.01-proportional-s7',
      'gated-k0.01-proportional_derivative-s0',
      'gated-k0.01-proportional_derivative-s7',
    ])
    for (const p of j.points) expect(p.config.training.train_steps).toBe(9)
    expect(j.experiment).toBe('lr-sweep')
    const bad = sb('sweep', '--grid', grid, '--depths', '2', '--dry-run')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/apply to --preset paper-grid, not to --grid/)
    const badSet = sb('sweep', '--set', 'model.dim', '--dry-run')
    expect(badSet.stderr).toMatch(/expected PATH=VALUE/)
    expect(badSet.code).toBe(2)
  })
})

describe('skipbench sweep --no-wait', () => {
  it('queues the runs of the experiment; skipbench worker runs them; compare compares them', () => {
    const db = tmp.file('nowait/s.db')
    const common = ['--groups', 'dense', '--depths', '1,2', '--steps', '8', '--set', 'model.dim=16', '--set', 'training.val_every=0', '--experiment', 'nw', '--db', db, '--data-dir', tmp.file('data')]
    const q = sb('sweep', ...common, '--no-wait', '--no-calibrate', '--json')
    expect(q.code).toBe(0)
    const j = JSON.parse(q.stdout)
    expect(j.jobs.map((x: { name: string; action: string; status: string }) => [x.name, x.action, x.status])).toEqual([
      ['dense-L1', 'queued', 'queued'],
      ['dense-L2', 'queued', 'queued'],
    ])
    const w = sb('worker', '--db', db)
    expect(w.code).toBe(0)
    const c = JSON.parse(sb('compare', '--experiment', 'nw', '--db', db, '--json').stdout)
    expect(c.summary.denseRuns).toBe(2)
    expect(c.excluded).toEqual([])
    expect(c.reference).toMatchObject({ dataset: 'default', tokenizer: 'byte', seqLen: 64 })
    // x = measured evaluation time per token on this machine (issue 15): measured on the dataset's validation shard,
    // cached in each run's final checkpoint, then used without --data
    const val = readdirSync(tmp.file('data'), { recursive: true, encoding: 'utf8' }).find((f) => /val.*\.bin$/.test(f))!
    const m = sb('compare', '--experiment', 'nw', '--db', db, '--json', '--flops', 'measured', '--data', join(tmp.file('data'), val), '--measure-tokens', '256', '--threads', '1')
    expect(m.stderr).toBe('')
    const mc = JSON.parse(m.stdout)
    expect(mc.flopsKind).toBe('measured')
    expect(mc.measuredOn).toMatch(/ort ort-cpu, 1 threads; 256 tokens/)
    expect(mc.frontier.points.length + mc.frontier.dominated.length).toBe(2)
    expect(mc.frontier.points.every((p: { flops: number }) => p.flops > 0 && p.flops < 1)).toBe(true) // seconds per token
    const cached = JSON.parse(sb('compare', '--experiment', 'nw', '--db', db, '--json', '--flops', 'measured').stdout)
    expect(cached.frontier).toEqual(mc.frontier)
    // the report takes the same axis (measuring first with --data: other settings, so a new cached entry) and states
    // the machine and engine in every format
    const out = tmp.file('nw-report')
    const rep = sb('report', '--experiment', 'nw', '--db', db, '--flops', 'measured', '--data', join(tmp.file('data'), val), '--measure-tokens', '128', '--threads', '1', '--format', 'html,md', '--out', out, '--json')
    expect(rep.stderr).toBe('')
    expect(rep.code).toBe(0)
    const md = readFileSync(join(out, 'report.md'), 'utf8')
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    const on = /- x axis: measured evaluation time per token \(hard skipping for key-gated runs, dense evaluation otherwise\), measured on (.+; ort ort-cpu, 1 threads; 128 tokens of .+)\./.exec(md)
    expect(on).not.toBeNull()
    expect(md).toMatch(/\| paper \| measured \| 1 \|/) // the verdict table lists the measured axis
    expect(html).toContain(`x axis: measured evaluation time per token`)
    expect(html).toContain('Validation CE vs measured evaluation time')
    expect(html).toContain('measured time / token')
    expect(html).toContain(on![1]!.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'))
    const noAxis = sb('report', '--experiment', 'nw', '--db', db, '--data', join(tmp.file('data'), val), '--out', out)
    expect(noAxis.code).toBe(2)
    expect(noAxis.stderr).toMatch(/--data is only used with --flops measured/)
    // queuing again finds them done
    const again = JSON.parse(sb('sweep', ...common, '--no-wait', '--no-calibrate', '--json').stdout)
    expect(again.jobs.map((x: { action: string; status: string }) => [x.action, x.status])).toEqual([
      ['exists', 'completed'],
      ['exists', 'completed'],
    ])
  })
})

describe('skipbench compare', () => {
  const db = tmp.file('cmp/s.db')
  const T = 2
  const cfg = (L: number, gated: boolean, seed = 0) =>
    runConfigToJson(
      parseRunConfig({
        model: { dim: 16, n_layers: L, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: !gated, gated_attention: 'key' },
        training: { batch_size: 2, train_steps: T, val_tokens: 64, seed },
        controller: gated ? { name: 'proportional', mean_target_end: 0.4 } : { name: 'dummy' },
        data: { dataset: 'synthetic', synthetic: { seed: 1 } },
      }),
    ) as JsonObject

  it('prints the frontier, gaps, groups, exclusions and verdict of an experiment (text and JSON)', () => {
    const store = openStore(db)
    const exp = store.experiments.create({ name: 'paper' })
    const add = (name: string, c: JsonObject, loss: number, zeros: number | null, status: 'completed' | 'failed' = 'completed') => {
      const run = store.runs.create({ name, kind: zeros === null ? 'dense' : 'gated', status, config: c, experimentId: exp.id })
      const pts = [
        { step: T, key: 'val/loss', value: loss },
        { step: T, key: 'val/tokens', value: 64 },
      ]
      if (zeros !== null) for (let s = 0; s < T; s++) pts.push({ step: s, key: 'train/zeros/mean', value: zeros })
      if (zeros !== null) pts.push({ step: T, key: 'val/zeros/mean', value: zeros })
      store.metrics.insert(run.id, pts)
    }
    add('dense-L2', cfg(2, false), 3.0, null)
    add('dense-L6', cfg(6, false), 2.0, null)
    add('gated-s0', cfg(4, true, 0), 2.3, 0.25)
    add('gated-s1', cfg(4, true, 1), 2.5, 0.25)
    add('broken', cfg(4, true, 2), 2.5, 0.25, 'failed')
    store.close()

    const r = sb('compare', '--experiment', 'paper', '--db', db)
    expect(r.code).toBe(0)
    const o = r.stdout
    expect(o).toMatch(/experiment paper: 5 runs; inference FLOPs \(per sequence\), paper estimator/)
    expect(o).toMatch(/dense frontier \(2 points, seed-group means\):/)
    expect(o).toMatch(/dense L=2 d=16 +dense-L2#1/)
    expect(o).toMatch(/gated-s0#3 +0 +\d\.\d{3}e\d+ +2\.3000 +25\.0% +\d\.\d{4} +[+−]\d\.\d{4} /)
    expect(o).toMatch(/gated L=4 d=16 attn=key end=0.4 +2 +0,1 +2\.4000 ± \d\.\d{4}/)
    expect(o).toMatch(/excluded \(1\):\n {2}broken#5: run is failed, not completed/)
    // two dense depths with one seed each and one gated group of two: the noise comes from the gated seeds (df 1)
    expect(o).toMatch(/^verdict \(inconclusive\): inconclusive: /m)
    expect(o).toMatch(/^ {4}- 1 run was not costed \(see its reason in the exclusions\)$/m)
    expect(o).toMatch(/^ {2}fairness:\n {4}training tokens: match — all 4 compared runs: [\d,]+ training tokens$/m)

    const j = JSON.parse(sb('compare', '--experiment', 'paper', '--db', db, '--json', '--estimator', 'corrected', '--flops', 'training').stdout)
    expect(j).toMatchObject({ experiment: 'paper', estimator: 'corrected', flopsKind: 'training', runs: 5 })
    expect(j.frontier.points).toHaveLength(2)
    expect(j.gated.map((g: { id: string }) => g.id)).toEqual(['gated-s0#3', 'gated-s1#4'])
    expect(j.groups.find((g: { kind: string }) => g.kind === 'gated').n).toBe(2)
    expect(j.excluded).toEqual([{ id: 'broken#5', reasons: ['run is failed, not completed'], reason: 'run is failed, not completed' }])
    expect(j.verdict).toMatchObject({ conclusive: false })
    expect(typeof j.verdict.text).toBe('string')
    expect(j.verdict.reasons.length).toBeGreaterThan(0)
    expect(typeof j.frontier.monotone).toBe('boolean')
    expect(j.frontier.noise).toMatchObject({ df: 1, groups: 1 })
    expect(j.flopsNote).toMatch(/hypothetical/)
    expect(j.gated[0].executedTrainingFlops).toBeGreaterThan(j.gated[0].flops)
  })

  it('user errors: no database, unknown experiment, missing --experiment', () => {
    const a = sb('compare', '--experiment', 'x', '--db', tmp.file('none.db'))
    expect(a.code).toBe(2)
    expect(a.stderr).toMatch(/no database at .*none.db/)
    expect(existsSync(tmp.file('none.db'))).toBe(false)
    const b = sb('compare', '--experiment', 'nope', '--db', db)
    expect(b.code).toBe(2)
    expect(b.stderr).toMatch(/no experiment "nope" in .*; experiments: paper/)
    const c = sb('compare', '--db', db)
    expect(c.code).toBe(2)
    expect(c.stderr).toMatch(/--experiment/)
    for (const x of [a, b, c]) noStack(x.stderr)
  })

  it('is listed in the help with flops and sweep', () => {
    const r = sb('--help')
    for (const c of ['flops', 'sweep', 'compare']) expect(r.stdout).toMatch(new RegExp(`\\n  ${c} +\\S`))
    expect(sb('sweep', '--help').stdout).toMatch(/--preset NAME/)
  })
})
