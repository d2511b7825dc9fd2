// core/paths.ts holds every path rule: the default data folder, the database (CLI and self-contained folder), what
// lives beside the database, datasets (and the shipped corpus' cache), and checkpoints.
import { describe, expect, it } from 'vitest'
import { join, resolve } from 'node:path'
import { calibrationFileBeside, CHECKPOINTS_DIR, databaseIn, datasetDir, defaultDataDir, FINAL_DIR, packageFile, resolveStorePaths, runFolderName, runsDirBeside, stepDirName } from './paths.js'
import { defaultCorpusName } from './data/corpus.js'

describe('core/paths', () => {
  it('the default data folder: $SKIPBENCH_DATA_DIR, else ./.skipbench/data, absolute', () => {
    expect(defaultDataDir({})).toBe(resolve('.skipbench/data'))
    expect(defaultDataDir({ SKIPBENCH_DATA_DIR: 'rel/d' })).toBe(resolve('rel/d'))
    expect(defaultDataDir({ SKIPBENCH_DATA_DIR: '/abs/d' })).toBe('/abs/d')
  })
  it("the CLI's database: --db, else $SKIPBENCH_DB, else $SKIPBENCH_HOME or ./.skipbench; runs beside it unless told", () => {
    expect(resolveStorePaths({ env: {} })).toEqual({ db: resolve('.skipbench/skipbench.db'), runsDir: resolve('.skipbench/runs') })
    expect(resolveStorePaths({ env: { SKIPBENCH_HOME: '/h' } })).toEqual({ db: '/h/skipbench.db', runsDir: '/h/runs' })
    expect(resolveStorePaths({ db: '/x/y.db', env: { SKIPBENCH_DB: '/z.db', SKIPBENCH_HOME: '/h' } })).toEqual({ db: '/x/y.db', runsDir: '/x/runs' })
    expect(resolveStorePaths({ env: { SKIPBENCH_DB: '/z/a.db', SKIPBENCH_RUNS_DIR: '/r' } })).toEqual({ db: '/z/a.db', runsDir: '/r' })
    expect(resolveStorePaths({ db: '/x/y.db', runsDir: 'rr', env: { SKIPBENCH_RUNS_DIR: '/r' } })).toEqual({ db: '/x/y.db', runsDir: resolve('rr') })
  })
  it('a self-contained data folder holds the database; run folders, settings and calibrations sit beside the database', () => {
    expect(databaseIn('/d')).toBe('/d/skipbench.db')
    expect(databaseIn('rel')).toBe(resolve('rel/skipbench.db'))
    expect(runsDirBeside('/d/skipbench.db')).toBe('/d/runs')
    expect(calibrationFileBeside('/d/x.db')).toBe('/d/calibration.json')
    // run folders (the local queue's and a cluster's mirrors): a file-name-safe name and the uid's first 8 characters
    expect(runFolderName('gated L4 / E=0.5', '0123456789abcdef')).toBe('gated-L4-E-0.5-01234567')
    expect(runFolderName('***', 'abcdefgh-1')).toBe('run-abcdefgh')
    expect(runFolderName('x'.repeat(60), 'u'.repeat(8))).toBe(`${'x'.repeat(48)}-uuuuuuuu`)
  })
  it('datasets (the shipped corpus cache included) and checkpoints have one naming', () => {
    expect(datasetDir('/d', 'tiny')).toBe('/d/datasets/tiny')
    expect(datasetDir('/d', defaultCorpusName('byte'))).toBe('/d/datasets/default')
    expect(join('/run', CHECKPOINTS_DIR, stepDirName(42))).toBe('/run/checkpoints/step-000042')
    expect(join('/run', FINAL_DIR)).toBe('/run/final')
    expect(packageFile('package.json')).toMatch(/package\.json$/)
  })
})
