import { describe, expect, it } from 'vitest'
import { openStore } from '../store/store.js'
import { tempDir } from '../store/test-helpers.js'
import { ClusterError, parseClusterProfile } from './profile.js'
import { buildJobScript, describeEnd, isResubmittable, outcomeOf, parseSacct, parseSbatch, parseSqueue } from './slurm.js'

describe('Slurm plain-output parsers (the text Slurm 22.05 prints)', () => {
  it('sbatch --parsable: "ID" or "ID;CLUSTER"', () => {
    expect(parseSbatch('42\n')).toBe('42')
    expect(parseSbatch('43;uni\n')).toBe('43')
    expect(() => parseSbatch('sbatch: error: Batch job submission failed\n')).toThrow(/no job id/)
  })

  it('squeue -h -o "%A|%F|%K|%T|%N|%M|%r|%j": plain jobs, array tasks and a pending array remainder', () => {
    const q = parseSqueue(['7|7|N/A|RUNNING|vm|0:05|None|skipbench-abc', '9|8|0|COMPLETED|vm|0:02|None|skipbench-arr', '8|8|1-2|PENDING||0:00|Resources|skipbench-arr', 'garbage'].join('\n'))
    expect(q).toEqual([
      { jobId: '7', arrayJobId: '7', arrayIndex: null, state: 'RUNNING', node: 'vm', elapsed: '0:05', reason: null, name: 'skipbench-abc' },
      { jobId: '9', arrayJobId: '8', arrayIndex: 0, state: 'COMPLETED', node: 'vm', elapsed: '0:02', reason: null, name: 'skipbench-arr' },
      { jobId: '8_1', arrayJobId: '8', arrayIndex: 1, state: 'PENDING', node: null, elapsed: '0:00', reason: 'Resources', name: 'skipbench-arr' },
      { jobId: '8_2', arrayJobId: '8', arrayIndex: 2, state: 'PENDING', node: null, elapsed: '0:00', reason: 'Resources', name: 'skipbench-arr' },
    ])
  })

  it('sacct --parsable2 -n (with slurmdbd: array ids; sacct -c: raw ids; steps skipped)', () => {
    const a = parseSacct(['12_3|15|skipbench-k|TIMEOUT|0:0|00:10:00|node7', '12_3.batch|15.batch|batch|CANCELLED|0:15|00:10:00|node7', '20|20|skipbench-j|CANCELLED by 0|0:0|00:00:03|vm', '21|21|skipbench-x|FAILED|0:9|00:00:08|vm'].join('\n'))
    expect(a).toEqual([
      { jobId: '15', arrayJobId: '12', arrayIndex: 3, name: 'skipbench-k', state: 'TIMEOUT', exitCode: '0:0', elapsed: '00:10:00', node: 'node7' },
      { jobId: '20', arrayJobId: null, arrayIndex: null, name: 'skipbench-j', state: 'CANCELLED', exitCode: '0:0', elapsed: '00:00:03', node: 'vm' },
      { jobId: '21', arrayJobId: null, arrayIndex: null, name: 'skipbench-x', state: 'FAILED', exitCode: '0:9', elapsed: '00:00:08', node: 'vm' },
    ])
  })

  it('states: what ends a run, and which failures are resubmitted (infrastructure, not bugs)', () => {
    expect(['PENDING', 'RUNNING', 'COMPLETING', 'COMPLETED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY'].map(outcomeOf)).toEqual(['pending', 'running', 'running', 'completed', 'cancelled', 'failed', 'failed'])
    expect(isResubmittable('TIMEOUT', '0:0')).toBe(true)
    expect(isResubmittable('PREEMPTED', null)).toBe(true)
    expect(isResubmittable('NODE_FAIL', '0:0')).toBe(true)
    expect(isResubmittable('FAILED', '0:9')).toBe(true)
    expect(isResubmittable('FAILED', '137:0')).toBe(true)
    expect(isResubmittable('FAILED', '1:0')).toBe(false) // the trainer reported an error: it would fail again
    expect(isResubmittable('OUT_OF_MEMORY', '0:125')).toBe(false)
    expect(describeEnd({ jobId: '21', state: 'FAILED', exitCode: '0:9', node: 'vm', elapsed: '00:00:08' })).toBe('Slurm job 21 FAILED (exit 0:9 = killed by signal 9) on vm after 00:00:08')
  })

  it('job script: #SBATCH lines from the profile, one exec per array task, the key in name and comment', () => {
    const profile = parseClusterProfile({ name: 'uni', workdir: '/w', partition: 'gpu', account: 'lab', time: '4:00:00', gpus: 1, cpus: 4, mem: '16G', setup: 'module load nodejs', backend: 'cuda' })
    const s = buildJobScript({
      key: 'abc123',
      profile,
      skipbench: 'exec node /opt/sb/bin/skipbench.mjs',
      jobDir: '/w/jobs/abc123',
      tasks: [
        { configPath: '/w/jobs/abc123/task-0.json', runDir: '/w/runs/a', resumeFrom: null, runUid: 'u-0', dataDir: '/w/data/h' },
        { configPath: null, runDir: "/w/runs/it's", resumeFrom: '/w/runs/b/checkpoints/step-000200', runUid: 'u-1', dataDir: null },
      ],
    })
    for (const l of ['#SBATCH --job-name=skipbench-abc123', '#SBATCH --comment=skipbench:abc123', '#SBATCH --array=0-1', '#SBATCH --partition=gpu', '#SBATCH --account=lab', '#SBATCH --time=4:00:00', '#SBATCH --gpus=1', '#SBATCH --cpus-per-task=4', '#SBATCH --mem=16G', '#SBATCH --output=/w/jobs/abc123/slurm-%A_%a.out', 'module load nodejs'])
      expect(s).toContain(l)
    expect(s).toContain("0) exec node /opt/sb/bin/skipbench.mjs train /w/jobs/abc123/task-0.json --out /w/runs/a --json --run-id u-0 --data-dir /w/data/h --backend cuda --threads 4 ;;")
    expect(s).toContain('1) exec node /opt/sb/bin/skipbench.mjs train --resume /w/runs/b/checkpoints/step-000200 --json --run-id u-1 --backend cuda --threads 4 ;;')
  })

  it('profiles: bad values are named with the fix', () => {
    expect(() => parseClusterProfile({ name: 'a b', workdir: '/w' })).toThrow(ClusterError)
    expect(() => parseClusterProfile({ name: 'x', workdir: '/w', time: 'four hours' })).toThrow(/time: a Slurm time limit, e\.g\. 30, 4:00:00/)
    expect(() => parseClusterProfile({ name: 'x', workdir: '/w', mem: 'lots' })).toThrow(/mem: Slurm memory, e\.g\. 4G/)
    expect(() => parseClusterProfile({ name: 'x', workdir: '/w', ssh: '-oProxyCommand=evil' })).toThrow(/--ssh takes a host/)
    expect(parseClusterProfile({ name: 'x', workdir: '/w' })).toMatchObject({ scheduler: 'slurm', maxResubmits: 2 })
  })
})

describe('store: cluster profiles and Slurm jobs (migration 0050)', () => {
  it('saves profiles by name, and keeps each run attempt as a job row with a unique submit key', () => {
    const tmp = tempDir()
    try {
      const store = openStore(tmp.file('c.db'))
      store.clusters.save('uni', { name: 'uni', workdir: '/w' })
      store.clusters.save('uni', { name: 'uni', workdir: '/w2' })
      expect(store.clusters.list().map((c) => c.profile.workdir)).toEqual(['/w2'])
      const run = store.runs.create({ name: 'r', kind: 'dense', config: {} })
      const a = store.clusters.addJob({ runId: run.id, cluster: 'uni', submitKey: 'k1', attempt: 1, remoteRunDir: '/w/runs/r' })
      expect(() => store.clusters.addJob({ runId: run.id, cluster: 'uni', submitKey: 'k1', attempt: 2, remoteRunDir: '/w/runs/r' })).toThrow(/UNIQUE/)
      store.clusters.updateJob(a.id, { state: 'failed', jobId: '7', reason: 'Slurm job 7 TIMEOUT' })
      const b = store.clusters.addJob({ runId: run.id, cluster: 'uni', submitKey: 'k2', attempt: 2, remoteRunDir: '/w/runs/r' })
      expect(store.clusters.latestOfRun(run.id)!.id).toBe(b.id)
      expect(store.clusters.active().map((j) => j.id)).toEqual([b.id])
      expect([...store.clusters.latestForRuns([run.id]).values()].map((j) => j.submitKey)).toEqual(['k2'])
      expect(() => store.db.prepare(`UPDATE cluster_jobs SET state = 'exploded' WHERE id = ?`).run(b.id)).toThrow(/CHECK/)
      // deleting a run deletes its Slurm job rows
      store.runs.remove(run.id)
      expect(store.clusters.jobsOfRun(run.id)).toEqual([])
      store.close()
    } finally {
      tmp.cleanup()
    }
  })
})
