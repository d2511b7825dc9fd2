/**
 * Every path rule of skipbench in one place:
 * - its own files: the package root (package.json, out/renderer, the shipped data), found the same way from the
 *   TypeScript sources (core/…) and from the CLI bundle (out/cli/…);
 * - the default data folder (datasets, the shipped corpus' cache): $SKIPBENCH_DATA_DIR, else ./.skipbench/data;
 * - the database: the CLI's (--db, else $SKIPBENCH_DB, else <$SKIPBENCH_HOME or ./.skipbench>/skipbench.db), or
 *   the one inside a self-contained data folder (the app, `serve --data-dir`): <dataDir>/skipbench.db;
 * - what lives beside the database: run folders (runs/<name>-<uid8>, unless --runs-dir or $SKIPBENCH_RUNS_DIR), settings.json
 *   and the calibration cache calibration.json;
 * - inside a data folder: datasets/<name>/ (the shipped corpus is cached there as default, default-gpt2);
 * - inside a run folder: checkpoints/step-NNNNNN/ every save and final/ at the end.
 * The Electron app's default data folder is <userData>/data (main/index.ts; $SKIPBENCH_DATA_DIR wins there too).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/** The folder holding skipbench's package.json (searched upwards from this module). */
function packageRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'skipbench') return (root = dir)
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir)
    if (up === dir) throw new Error(`cannot find skipbench's package.json above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
}

/** A path inside the package ("package.json", "out/renderer"). */
export const packageFile = (rel: string): string => join(packageRoot(), rel)

/** skipbench's version (package.json's "version"); "unknown" when it cannot be read. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

// ------------------------------------------------------------------------------------------------ data and database

/** The data folder when none is given: $SKIPBENCH_DATA_DIR, else ./.skipbench/data (absolute). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SKIPBENCH_DATA_DIR ?? '.skipbench/data')
}

/** The database's file name (inside a data folder, or the CLI's home folder). */
export const DATABASE_FILE = 'skipbench.db'

/** The database inside a self-contained data folder (the app, `skipbench serve --data-dir`). */
export const databaseIn = (dataDir: string): string => resolve(dataDir, DATABASE_FILE)

/** Run folders beside a database: <db folder>/runs. */
export const runsDirBeside = (dbPath: string): string => resolve(dirname(dbPath), 'runs')

/** The sweep calibration cache beside a database (shared by `skipbench sweep` and the app). */
export const calibrationFileBeside = (dbPath: string): string => join(dirname(dbPath), 'calibration.json')

/** The app's settings (core/service/settings.ts) in the database's folder `homeDir`. */
export const settingsFileIn = (homeDir: string): string => join(homeDir, 'settings.json')

export interface StorePaths {
  /** the database file */
  db: string
  /** where new run folders are created */
  runsDir: string
}

/**
 * The CLI's database and run folders: --db wins, else $SKIPBENCH_DB, else <home>/skipbench.db with <home> =
 * $SKIPBENCH_HOME or ./.skipbench (beside the default data folder ./.skipbench/data). Run folders: --runs-dir, else
 * $SKIPBENCH_RUNS_DIR, else beside the database.
 */
export function resolveStorePaths(o: { db?: string; runsDir?: string; env?: NodeJS.ProcessEnv } = {}): StorePaths {
  const env = o.env ?? process.env
  const home = resolve(env.SKIPBENCH_HOME || '.skipbench')
  const db = resolve(o.db ?? (env.SKIPBENCH_DB || join(home, DATABASE_FILE)))
  const runsDir = resolve(o.runsDir ?? (env.SKIPBENCH_RUNS_DIR || runsDirBeside(db)))
  return { db, runsDir }
}

// ------------------------------------------------------------------------------------------------ inside the folders

/** A run's folder name under the runs folder: <name as a file-name-safe slug>-<first 8 characters of its uid>. */
export const runFolderName = (name: string, uid: string): string => `${name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'run'}-${uid.slice(0, 8)}`

export const DATASETS_SUBDIR = 'datasets'

/** <dataDir>/datasets/<name>: an imported dataset, or the shipped corpus' cache (default, default-gpt2). */
export const datasetDir = (dataDir: string, name: string): string => join(dataDir, DATASETS_SUBDIR, name)

export const CHECKPOINTS_DIR = 'checkpoints'
export const FINAL_DIR = 'final'

/** checkpoints/step-NNNNNN (zero-padded, so names sort by step) */
export const stepDirName = (step: number): string => `step-${String(step).padStart(6, '0')}`

