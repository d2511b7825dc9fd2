/** `skipbench train CONFIG.json | --preset NAME [--out DIR] [--resume DIR] [--engine E] [--backend B] [--steps N] [--json]` */
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { ENGINE_NAMES } from '../../core/engine/index.js'
import { getPreset, parseRunConfigWithWarnings, presetNames, resolveRunConfigInput, type ResolvedRunConfig } from '../../core/config/index.js'
import { loadResumeTarget, prepareRun, readConfigFile, type DoneEvent } from '../../core/trainer/index.js'
import { parseArgv, positiveInt, UsageError, validate } from '../args.js'
import { fmtDuration } from '../../core/report/format.js'
import { formatRate, ProgressBar, progressLine } from '../progress.js'
import { trainOnCluster } from './cluster.js'

export const TRAIN_HELP = `usage: skipbench train CONFIG.json | --preset NAME [options]
       skipbench train --resume RUN_DIR|CHECKPOINT_DIR [options]

Train a model; writes a run folder (run.json, metrics.jsonl, checkpoints/, final/).

options:
  --preset NAME          start from a built-in preset (${presetNames().join(', ')})
  --out DIR              run folder (default: runs/<name>-<date>-<time>)
  --resume DIR           continue a run folder (its newest checkpoint) or a checkpoint folder
  --engine ort|tfjs      tensor engine (default: the config's, else ort)
  --backend B            tfjs: auto|tensorflow|wasm|cpu; ort: auto|cpu|cuda|webgpu
  --threads N            ort: intra-op threads (default: all cores; CPU runs are bit-reproducible at any count)
  --steps N              override training.train_steps (changes the LR schedule)
  --data-dir DIR         where datasets live (default: $SKIPBENCH_DATA_DIR or ./.skipbench/data)
  --json                 print one JSON object per event (start, step, validation, checkpoint, done)
  --run-id UID           the run's id in run.json (how a store recognises the folder; cluster jobs set it)
  --on CLUSTER           submit the run to a cluster (skipbench cluster add) instead of training here
  --wait                 with --on: block with progress until the job ends (exit 0 only if it completed)
  --db PATH              with --on: the database the run is recorded in (default as skipbench runs)
Ctrl-C saves a checkpoint and stops; resume with --resume.`

const Args = z
  .object({
    config: z.string().optional(),
    preset: z.string().optional(),
    out: z.string().optional(),
    resume: z.string().optional(),
    engine: z.enum(ENGINE_NAMES, { error: 'must be ort or tfjs' }).optional(),
    backend: z.string().optional(),
    threads: positiveInt('--threads').optional(),
    steps: positiveInt('--steps').optional(),
    data_dir: z.string().optional(),
    json: z.boolean().default(false),
    run_id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, { error: 'letters, digits, ".", "_" or "-"' }).optional(),
  })
  .refine((a) => [a.config, a.preset, a.resume].filter(Boolean).length === 1, {
    error: 'give exactly one of CONFIG.json, --preset NAME or --resume DIR',
  })

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json', 'wait'], values: ['preset', 'out', 'resume', 'engine', 'backend', 'threads', 'steps', 'data-dir', 'run-id', 'on', 'db'] })
  if (positionals.length > 1) throw new UsageError(`train takes one CONFIG.json, got ${positionals.join(' ')}`)
  if (typeof options.on === 'string') return trainOnCluster(positionals[0], options)
  if (options.wait || options.db) throw new UsageError('--wait and --db go with --on CLUSTER (a local run always waits and writes only its folder)')
  const a = validate(Args, { ...options, data_dir: options['data-dir'], 'data-dir': undefined, run_id: options['run-id'], 'run-id': undefined, config: positionals[0] })
  const overrides: Record<string, unknown> = {}
  if (a.steps) overrides.training = { train_steps: a.steps }
  if (a.engine || a.backend || a.threads)
    overrides.engine = { ...(a.engine ? { engine: a.engine } : {}), ...(a.backend ? { backend: a.backend } : {}), ...(a.threads ? { threads: a.threads } : {}) }

  let config: ResolvedRunConfig
  let warnings: string[]
  let runDir: string
  let resumeFrom: string | undefined
  if (a.resume) {
    if (a.out) throw new UsageError('--out cannot be combined with --resume: a resumed run continues in its own folder')
    const r = loadResumeTarget(resolve(a.resume), Object.keys(overrides).length ? overrides : undefined)
    ;({ config, warnings, runDir } = r)
    resumeFrom = r.checkpoint
  } else {
    let doc: unknown
    if (a.preset) {
      const p = getPreset(a.preset)
      if (!p) throw new UsageError(`unknown preset "${a.preset}"; available: ${presetNames().join(', ')}`)
      doc = structuredClone(p.config)
    } else doc = readConfigFile(a.config!)
    ;({ config, warnings } = parseRunConfigWithWarnings(resolveRunConfigInput(doc, overrides)))
    runDir = resolve(a.out ?? join('runs', `${config.name ?? a.preset ?? 'run'}-${stamp()}`))
  }

  const json = a.json
  const out = process.stdout
  const tty = !json && out.isTTY === true
  const print = (o: unknown) => out.write(JSON.stringify(o) + '\n')
  const say = (s: string) => (bar ? bar.log(s) : out.write(s + '\n'))
  const bar = tty ? new ProgressBar(out) : null
  for (const w of warnings) {
    if (json) print({ event: 'warning', message: w })
    else process.stderr.write(`warning: ${w}\n`)
  }

  const controller = new AbortController()
  let interrupts = 0
  const onSignal = () => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    controller.abort()
    if (!json) say('stopping: saving a checkpoint (Ctrl-C again to quit at once)')
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const prepared = await prepareRun({
    config,
    runDir,
    signal: controller.signal,
    ...(resumeFrom ? { resumeFrom } : {}),
    ...(a.data_dir ? { dataDir: resolve(a.data_dir) } : {}),
    runInfo: { cli: { argv: process.argv.slice(2) }, ...(a.run_id ? { id: a.run_id } : {}) },
  })
  const t = prepared.trainer
  const T = config.training.train_steps
  const logEvery = Math.max(1, Math.round(T / 20))
  t.on('start', (e) => {
    if (json) return print({ event: 'start', run_dir: e.runDir, step: e.step, total_steps: e.totalSteps, resumed_from: e.resumedFrom, engine: e.engine, data: e.data, params: e.params })
    say(`run ${e.runDir}`)
    say(`${config.name ?? 'run'}: ${e.params.toLocaleString('en-US')} parameters, ${config.model.zero_init_masks ? 'dense' : `gated (${config.model.gated_attention}), controller ${config.controller.name}`}; engine ${e.engine.engine} (${e.engine.backend})`)
    say(`data ${e.data.dataset} (${e.data.tokenizer}, vocab ${e.data.vocabSize}): unigram entropy of the validation tokens ${e.data.unigramEntropy.toFixed(4)} nats`)
    if (e.resumedFrom) say(`resuming at step ${e.step} of ${e.totalSteps} from ${e.resumedFrom}`)
  })
  t.on('step', (e) => {
    if (json) {
      const { gates: _g, metrics, ...rest } = e
      return print({ event: 'step', ...rest, metrics })
    }
    const zeros = e.gates ? e.metrics['train/zeros/mean'] ?? null : null
    const line = progressLine({ step: e.step + 1, total: e.totalSteps, loss: e.loss, lr: e.lr, tokensPerSec: e.tokensPerSec, etaSeconds: e.etaSeconds, zeros, columns: bar ? out.columns || 120 : 200 })
    if (bar) bar.update(line)
    else if ((e.step + 1) % logEvery === 0 || e.step + 1 === e.totalSteps) say(line)
  })
  t.on('validation', (e) => {
    if (json) {
      const { gates: _g, ...rest } = e
      return print({ event: 'validation', ...rest })
    }
    const z = e.gates ? `, skipped ${(e.metrics['val/zeros/mean']! * 100).toFixed(1)}% of (token, layer) pairs` : ''
    say(`validation at step ${e.step}: loss ${e.loss.toFixed(4)} over ${e.tokens.toLocaleString('en-US')} tokens${z}`)
  })
  t.on('checkpoint', (e) => {
    if (json) return print({ event: 'checkpoint', ...e })
    say(`checkpoint at step ${e.step}: ${e.dir}`)
  })
  let done: DoneEvent
  try {
    done = await t.run()
  } finally {
    bar?.done()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await prepared.close()
  }
  if (json) print({ event: 'done', ...done })
  else {
    const v = done.lastValidation
    say(
      `${done.status === 'completed' ? 'done' : 'stopped'} at step ${done.step}/${done.totalSteps}` +
        (v ? `; last validation loss ${v.loss.toFixed(4)} (step ${v.step})` : '') +
        `; ${formatRate(done.tokens / Math.max(done.trainSeconds, 1e-9))} over ${fmtDuration(done.trainSeconds, 'clock')}`,
    )
    say(done.status === 'completed' ? `final checkpoint: ${done.checkpoint}` : `resume with: skipbench train --resume ${done.runDir}`)
  }
  return done.status === 'cancelled' ? 130 : 0
}
