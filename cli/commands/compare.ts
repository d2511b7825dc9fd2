/** `skipbench compare --experiment NAME [--estimator paper|corrected] [--flops inference|training] [--db PATH] [--json]` */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { openStore, type Store } from '../../core/store/index.js'
import { join } from 'node:path'
import { FINAL_DIR } from '../../core/paths.js'
import { ENGINE_NAMES } from '../../core/engine/index.js'
import { compareExperiment, experimentRuns } from '../../core/analysis/index.js'
import { formatComparison } from '../format.js'
import { measureCheckpointCost } from '../../core/trainer/index.js'
import { comparisonOptions, parseArgv, positiveInt, UsageError, validate } from '../args.js'
import { asUserErrors, defaultDbPath } from './sweep.js'

export const COMPARE_HELP = `usage: skipbench compare --experiment NAME [options]

Compare an experiment's gated runs with its dense baselines on validation cross-entropy per FLOP: the dense
frontier (non-dominated dense seed-group means), every gated run's CE gap at equal FLOPs and FLOPs saving at equal
CE (interpolated in log FLOPs; beyond the frontier flagged, never extrapolated; savings only where the frontier
falls beyond seed noise), seed groups (mean ± 95% CI), fairness checks (training tokens, LR schedule, dataset and
tokenizer, evaluation set), exclusions with reasons, and the verdict: conclusive only when the dense frontier falls
with FLOPs beyond the pooled seed noise, the noise is measured (≥ 2 seeds somewhere), the runs match, and a gated
configuration's 95% bootstrap interval (dense and gated seed noise, frontier rebuilt each draw) excludes 0; else
its reasons say what to do next. --json: verdict { conclusive, direction, text, reasons, nextSteps, points },
frontier { monotone, noise, steps }, fairness, flopsNote (ADR 0012).

options:
  --experiment NAME      the experiment (name or id), e.g. the one a sweep queued its runs in
  --estimator E          paper (default: the paper's axes) or corrected (spec H.6)
  --flops K              inference (default: per sequence, at the validation zero fraction), training (whole run),
                         or measured: evaluation time per token on this machine (hard skipping for key-gated runs,
                         the dense evaluation for the others; same engine for all), cached per checkpoint and machine
  --data SHARD.bin       with --flops measured: measure every run not yet measured on this machine on this shard
                         (without it, only cached measurements are used)
  --measure-tokens N     tokens per measurement (default 8192)
  --engine ort|tfjs      engine for the measurement (default ort); --threads N its intra-op threads
  --source S             validation CE from: auto (default: an evaluation of the final checkpoint if any, else the
                         validation logged at the last step), evaluation, or validation
  --level P              confidence level of the intervals (default 0.95)
  --db PATH              the database (default: $SKIPBENCH_DB, else $SKIPBENCH_HOME/skipbench.db, else
                         ./.skipbench/skipbench.db)
  --json                 print the comparison as JSON`

/** The options of `--flops measured` shared by compare and report. */
export const measureOptions = {
  data: z.string().optional(),
  measure_tokens: positiveInt('--measure-tokens').optional(),
  engine: z.enum(ENGINE_NAMES, { error: 'must be ort or tfjs' }).optional(),
  threads: positiveInt('--threads').optional(),
}

const Args = z.object({
  experiment: z.string({ error: '--experiment NAME is required' }).min(1),
  ...comparisonOptions,
  flops: z.enum(['inference', 'training', 'measured'], { error: 'must be inference, training or measured' }).default('inference'),
  ...measureOptions,
  db: z.string().optional(),
  json: z.boolean().default(false),
})

/** Open an existing database for reading (never creates one). */
export function openExistingStore(path: string): Store {
  if (!existsSync(path)) throw new UsageError(`no database at ${path}; pass --db PATH (or run a sweep first)`)
  try {
    return openStore(path, { readonly: true })
  } catch {
    return openStore(path)
  }
}

export async function compareCommand(argv: string[]): Promise<number> {
  return asUserErrors(() => compare(argv))
}

/**
 * `--flops measured --data SHARD`: measure every completed run's final checkpoint that has no measurement on this
 * machine with these settings (core/trainer/measured-cost.ts caches it in the checkpoint folder); progress on a TTY.
 */
export async function measureRuns(
  store: Store,
  which: { experiment?: string | number; runIds?: number[] },
  a: { data: string; measure_tokens?: number | undefined; engine?: (typeof ENGINE_NAMES)[number] | undefined; threads?: number | undefined },
  progress: boolean,
): Promise<void> {
  const runs = experimentRuns(store, which).filter((r) => r.status === 'completed' && r.runDir && existsSync(join(r.runDir, FINAL_DIR)))
  const tty = progress && process.stderr.isTTY === true
  for (const [i, r] of runs.entries()) {
    const m = await measureCheckpointCost({
      checkpoint: join(r.runDir!, FINAL_DIR),
      data: a.data.split(',').map((p) => resolve(p.trim())),
      ...(a.measure_tokens ? { maxTokens: a.measure_tokens } : {}),
      engine: { ...(a.engine ? { engine: a.engine } : {}), ...(a.threads ? { threads: a.threads } : {}) },
    })
    if (tty) process.stderr.write(`\r\x1b[2Kmeasured ${i + 1}/${runs.length}: ${r.name} ${(m.secondsPerToken * 1e6).toFixed(1)} µs/token (${m.mode})`)
  }
  if (tty) process.stderr.write('\r\x1b[2K')
}

async function compare(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['experiment', 'estimator', 'flops', 'source', 'level', 'db', 'data', 'measure-tokens', 'engine', 'threads'] })
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals.join(' ')}`)
  const a = validate(Args, { ...options, measure_tokens: options['measure-tokens'], 'measure-tokens': undefined })
  if (a.data !== undefined && a.flops !== 'measured') throw new UsageError('--data is only used with --flops measured')
  const store = openExistingStore(resolve(a.db ?? defaultDbPath()))
  try {
    if (a.flops === 'measured' && a.data !== undefined) await measureRuns(store, { experiment: a.experiment }, { ...a, data: a.data }, !a.json)
    const c = compareExperiment(store, {
      experiment: a.experiment,
      estimator: a.estimator,
      flopsKind: a.flops,
      source: a.source,
      ...(a.level !== undefined ? { level: a.level } : {}),
    })
    process.stdout.write((a.json ? JSON.stringify(c, null, 1) : formatComparison(c)) + '\n')
    return 0
  } finally {
    store.close()
  }
}
