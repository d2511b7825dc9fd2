/** `skipbench compare --experiment NAME [--estimator paper|corrected] [--flops inference|training] [--db PATH] [--json]` */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { openStore, type Store } from '../../core/store/index.js'
import { compareExperiment, formatComparison } from '../../core/sweeps/index.js'
import { comparisonOptions, parseArgv, UsageError, validate } from '../args.js'
import { asUserErrors, defaultDbPath } from './sweep.js'

export const COMPARE_HELP = `usage: skipbench compare --experiment NAME [options]

Compare an experiment's gated runs with its dense baselines on validation cross-entropy per FLOP: the dense
frontier (non-dominated dense seed-group means), every gated run's CE gap at equal FLOPs and FLOPs saving at equal
CE (interpolated in log FLOPs; beyond the frontier flagged, never extrapolated), seed groups (mean ± 95% CI),
exclusions with reasons (unfinished runs, other datasets/tokenizers/validation tokens), and the verdict.

options:
  --experiment NAME      the experiment (name or id), e.g. the one a sweep queued its runs in
  --estimator E          paper (default: the paper's axes) or corrected (spec H.6)
  --flops K              inference (default: per sequence, at the validation zero fraction) or training (whole run)
  --source S             validation CE from: auto (default: an evaluation of the final checkpoint if any, else the
                         validation logged at the last step), evaluation, or validation
  --level P              confidence level of the intervals (default 0.95)
  --db PATH              the database (default: $SKIPBENCH_DB, else $SKIPBENCH_HOME/skipbench.db, else
                         ./.skipbench/skipbench.db)
  --json                 print the comparison as JSON`

const Args = z.object({
  experiment: z.string({ error: '--experiment NAME is required' }).min(1),
  ...comparisonOptions,
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

async function compare(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: ['experiment', 'estimator', 'flops', 'source', 'level', 'db'] })
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals.join(' ')}`)
  const a = validate(Args, options)
  const store = openExistingStore(resolve(a.db ?? defaultDbPath()))
  try {
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
