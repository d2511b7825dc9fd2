import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NotFoundError } from '../store/errors.js'
import { openStore, type Store } from '../store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../store/test-helpers.js'
import { formatRunDetails, formatRunList, listRuns, queueAdd, runWorker, showRun } from './commands.js'
import { resolveStorePaths } from '../paths.js'

let tmp: TempDir
let store: Store
beforeEach(() => {
  tmp = tempDir('skipbench-cmd-')
  store = openStore(tmp.file('db/skipbench.db'))
})
afterEach(() => {
  store.close()
  tmp.cleanup()
})

describe('CLI-facing functions', () => {
  it('resolves --db, the environment and the defaults', () => {
    expect(resolveStorePaths({ env: {} }).db).toMatch(/\.skipbench\/skipbench\.db$/)
    expect(resolveStorePaths({ env: { SKIPBENCH_HOME: '/h' } })).toEqual({ db: '/h/skipbench.db', runsDir: '/h/runs' })
    expect(resolveStorePaths({ db: '/x/y.db', env: { SKIPBENCH_DB: '/z.db' } })).toEqual({ db: '/x/y.db', runsDir: '/x/runs' })
    expect(resolveStorePaths({ env: { SKIPBENCH_DB: '/z/a.db', SKIPBENCH_RUNS_DIR: '/r' } })).toEqual({ db: '/z/a.db', runsDir: '/r' })
  })

  it('queue add → worker drains → runs list / runs show', async () => {
    const file = tmp.file('tiny.json')
    writeFileSync(file, JSON.stringify(tinyRunConfig({ steps: 4 })))
    const { job, run } = queueAdd(store, { config: file, name: 'from-cli', experiment: 'cli', tags: ['t'] })
    expect(run.runDir).toBe(join(tmp.path, 'db', 'runs', `from-cli-${run.uid.slice(0, 8)}`))
    expect(() => queueAdd(store, { config: { training: {} } })).toThrow(/train_steps/)
    const lines: string[] = []
    const summary = await runWorker({ store, onLine: (l) => lines.push(l) })
    expect(summary.jobs).toEqual([{ id: job.id, status: 'completed', error: null }])
    expect(lines.join('\n')).toMatch(/val\/loss/)

    const list = listRuns(store)
    expect(list.total).toBe(1)
    const text = formatRunList(list)
    expect(text.split('\n')[0]).toMatch(/^ID\s+NAME\s+KIND\s+STATUS/)
    expect(text).toMatch(/from-cli\s+gated\s+completed\s+4/)
    expect(JSON.parse(JSON.stringify(list)).rows[0].experiment).toBe('cli')

    const d = showRun(store, String(run.id))
    expect(showRun(store, run.uid).run.id).toBe(run.id)
    expect(d.jobs.map((j) => j.status)).toEqual(['completed'])
    expect(d.checkpoints.map((c) => [c.step, c.final])).toEqual([[2, false], [4, true]])
    const details = formatRunDetails(d)
    expect(details).toMatch(/^run \d+ {2}from-cli {2}\(gated, completed\)/)
    expect(details).toMatch(/val\/loss/)
    expect(() => showRun(store, '999')).toThrow(NotFoundError)
  })
})
