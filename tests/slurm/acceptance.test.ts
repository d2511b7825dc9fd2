/**
 * Issue 16's acceptance sequence, literally, through the CLI in its own processes (from another directory, with the
 * default database elsewhere):
 *   eval "$(scripts/slurm-local.sh start)"
 *   skipbench cluster add local --slurm --workdir DIR
 *   skipbench train --preset tiny-dense --steps 20 --on local --wait --db DB
 *   skipbench runs list --json --db DB   → the run completed, with a `slurm` object holding its job_id
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO, startLocalCluster } from '../../core/cluster/test-support.js'

const cluster = startLocalCluster()

describe.skipIf(!cluster.ok)('the acceptance sequence (skipbench train --preset tiny-dense --steps 20 --on local --wait)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipbench-slurm-acceptance-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, SLURM_CONF: cluster.slurmConf, SKIPBENCH_HOME: join(dir, 'home') }
  const sb = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin/skipbench.mjs'), ...args], { cwd: dir, env, encoding: 'utf8', timeout: 600_000 })

  it('adds the cluster, trains on it with --wait (exit 0), and runs list shows the run completed with its Slurm job id', () => {
    const add = sb('cluster', 'add', 'local', '--slurm', '--workdir', join(dir, 'work'))
    expect(add.status, add.stderr).toBe(0)
    const db = join(dir, 'db.sqlite')
    const train = sb('train', '--preset', 'tiny-dense', '--steps', '20', '--on', 'local', '--wait', '--db', db)
    expect(train.status, train.stderr + train.stdout).toBe(0)
    expect(train.stdout).toMatch(/Slurm job \d+ on local .*running/)
    expect(train.stdout).toMatch(/val\/loss/)
    const list = sb('runs', 'list', '--json', '--db', db)
    expect(list.status, list.stderr).toBe(0)
    const rows = JSON.parse(list.stdout).rows as { status: string; name: string; slurm?: { job_id: string } }[]
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ name: 'tiny-dense', status: 'completed' })
    expect(rows[0]!.slurm!.job_id).toMatch(/^\d+$/)
  })
})
