/**
 * Slurm's plain command-line surface, which is stable across versions: job scripts for `sbatch --parsable`, and
 * parsers of `squeue -h -o` and `sacct --parsable2 -n` output. No JSON output is used (it changes with the release).
 */
import { randomBytes } from 'node:crypto'
import type { SlurmInfo } from '../contract/cluster.js'
import type { ClusterJob } from '../store/clusters.js'
import { shq } from './shell.js'
import type { ClusterProfile } from './profile.js'

/** One training task of a job (an array has several). */
export interface JobTask {
  /** a fresh run: its config file on the cluster; a resumed one: null */
  configPath: string | null
  /** the run folder on the cluster */
  runDir: string
  /** continue from this checkpoint folder on the cluster */
  resumeFrom: string | null
  /** the store's run uid, written to run.json so ingest finds the same run */
  runUid: string
  /** --data-dir on the cluster (copied datasets), if any */
  dataDir: string | null
}

export interface JobScript {
  /** the idempotency key; the job name is `skipbench-<key>` and the comment `skipbench:<key>` */
  key: string
  profile: ClusterProfile
  /** the shell prefix that starts skipbench on the node, e.g. `exec node /opt/skipbench/bin/skipbench.mjs` */
  skipbench: string
  tasks: JobTask[]
  /** folder of the job's script and output */
  jobDir: string
}

export const jobName = (key: string) => `skipbench-${key}`

/** The output file of a task: `slurm-<job>.out` or `slurm-<array>_<index>.out`. */
export function outputPath(jobDir: string, jobId: string, index: number | null): string {
  return index === null ? `${jobDir}/slurm-${jobId}.out` : `${jobDir}/slurm-${jobId}_${index}.out`
}

function trainCommand(s: JobScript, t: JobTask): string {
  const p = s.profile
  const args = t.resumeFrom ? ['train', '--resume', t.resumeFrom] : ['train', t.configPath!, '--out', t.runDir]
  args.push('--json', '--run-id', t.runUid)
  if (t.dataDir) args.push('--data-dir', t.dataDir)
  if (p.backend) args.push('--backend', p.backend)
  if (p.cpus) args.push('--threads', String(p.cpus))
  return `${s.skipbench} ${args.map(shq).join(' ')}`
}

/** The batch script: #SBATCH lines from the profile, the setup lines, then one `exec skipbench train ...` per task. */
export function buildJobScript(s: JobScript): string {
  const p = s.profile
  const array = s.tasks.length > 1
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${jobName(s.key)}`,
    `#SBATCH --comment=skipbench:${s.key}`,
    `#SBATCH --output=${s.jobDir}/${array ? 'slurm-%A_%a.out' : 'slurm-%j.out'}`,
    '#SBATCH --ntasks=1',
    ...(array ? [`#SBATCH --array=0-${s.tasks.length - 1}`] : []),
    ...(p.partition ? [`#SBATCH --partition=${p.partition}`] : []),
    ...(p.account ? [`#SBATCH --account=${p.account}`] : []),
    ...(p.time ? [`#SBATCH --time=${p.time}`] : []),
    ...(p.cpus ? [`#SBATCH --cpus-per-task=${p.cpus}`] : []),
    ...(p.mem ? [`#SBATCH --mem=${p.mem}`] : []),
    ...(p.gpus ? [`#SBATCH --gpus=${p.gpus}`] : []),
    '# written by skipbench (core/cluster); runs skipbench\'s own trainer',
    'set -u',
    ...(p.setup ? [p.setup] : []),
    `cd ${shq(s.jobDir)}`,
  ]
  if (!array) lines.push(trainCommand(s, s.tasks[0]!))
  else {
    lines.push('case "${SLURM_ARRAY_TASK_ID:-}" in')
    s.tasks.forEach((t, i) => lines.push(`  ${i}) ${trainCommand(s, t)} ;;`))
    lines.push('esac', 'echo "skipbench: no task ${SLURM_ARRAY_TASK_ID:-} in this job" >&2', 'exit 2')
  }
  return lines.join('\n') + '\n'
}

/** `sbatch --parsable` prints `ID` or `ID;CLUSTER`. */
export function parseSbatch(stdout: string): string {
  const line = stdout.trim().split('\n').pop() ?? ''
  const id = line.split(';')[0]!.trim()
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id (got ${JSON.stringify(stdout.trim().slice(0, 200))})`)
  return id
}

/** The squeue format skipbench reads: raw id, array job id, array task id, state, node, elapsed, reason, name. */
export const SQUEUE_FORMAT = '%A|%F|%K|%T|%N|%M|%r|%j'

export interface QueueEntry {
  /** this job's own id (an array task has its own) */
  jobId: string
  /** the array's id (= jobId for a plain job) */
  arrayJobId: string
  /** the task index, or null for a plain job */
  arrayIndex: number | null
  state: string
  node: string | null
  elapsed: string | null
  reason: string | null
  name: string
}

/** Parse `squeue -h -o SQUEUE_FORMAT` lines; unknown lines are skipped. Pending arrays print a range (`0-2`). */
export function parseSqueue(stdout: string): QueueEntry[] {
  const out: QueueEntry[] = []
  for (const line of stdout.split('\n')) {
    const f = line.trim().split('|')
    if (f.length < 8 || !/^\d+$/.test(f[0]!)) continue
    const [jobId, arr, task, state, node, elapsed, reason, name] = f as [string, string, string, string, string, string, string, string]
    const base = { state, node: node && node !== '(null)' ? node : null, elapsed: elapsed || null, reason: reason && reason !== 'None' ? reason : null, name }
    if (/^\d+$/.test(task)) out.push({ jobId, arrayJobId: /^\d+$/.test(arr) ? arr : jobId, arrayIndex: Number(task), ...base })
    else if (/^[\d,\-%]+$/.test(task) && task !== 'N/A') {
      // a pending remainder of an array: "0-2", "1,3-4", "0-9%2"
      for (const part of task.split('%')[0]!.split(',')) {
        const [a, b] = part.split('-').map(Number)
        if (a === undefined || Number.isNaN(a)) continue
        for (let i = a; i <= (b ?? a); i++) out.push({ jobId: `${arr}_${i}`, arrayJobId: /^\d+$/.test(arr) ? arr : jobId, arrayIndex: i, ...base })
      }
    } else out.push({ jobId, arrayJobId: jobId, arrayIndex: null, ...base })
  }
  return out
}

/** The sacct fields skipbench reads (with --parsable2 -n). */
export const SACCT_FIELDS = 'JobID,JobIDRaw,JobName,State,ExitCode,Elapsed,NodeList'

export interface AccountingEntry {
  jobId: string
  arrayJobId: string | null
  arrayIndex: number | null
  name: string
  state: string
  exitCode: string | null
  elapsed: string | null
  node: string | null
}

/** Parse `sacct --parsable2 -n -o SACCT_FIELDS` (steps like `12.batch` are skipped). */
export function parseSacct(stdout: string): AccountingEntry[] {
  const out: AccountingEntry[] = []
  for (const line of stdout.split('\n')) {
    const f = line.trim().split('|')
    if (f.length < 7) continue
    const [id, raw, name, state, exit, elapsed, node] = f as [string, string, string, string, string, string, string]
    if (id.includes('.')) continue
    const m = /^(\d+)_(\d+)$/.exec(id)
    const jobId = /^\d+$/.test(raw) ? raw : m ? raw || id : id
    if (!/^\d+/.test(jobId)) continue
    out.push({
      jobId,
      arrayJobId: m ? m[1]! : null,
      arrayIndex: m ? Number(m[2]) : null,
      name,
      state: state.split(' ')[0]!, // "CANCELLED by 0"
      exitCode: exit || null,
      elapsed: elapsed || null,
      node: node && node !== 'None assigned' ? node : null,
    })
  }
  return out
}

export type Outcome = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

/** What a Slurm state means for the run. */
export function outcomeOf(state: string): Outcome {
  const s = state.replace(/\+$/, '').split(' ')[0]!.toUpperCase()
  if (['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED', 'RESIZING'].includes(s)) return 'pending'
  if (['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING'].includes(s)) return 'running'
  if (s === 'COMPLETED') return 'completed'
  if (s === 'CANCELLED') return 'cancelled'
  return 'failed' // FAILED, TIMEOUT, PREEMPTED, NODE_FAIL, BOOT_FAIL, OUT_OF_MEMORY, DEADLINE, REVOKED, SPECIAL_EXIT
}

/**
 * Whether a failed job lost its process to the infrastructure rather than to a bug: time limit, preemption, node
 * failure, or a kill signal (ExitCode `0:9` / `0:15`, or 137 / 143 from a shell). Those are resubmitted from the last
 * checkpoint; a trainer that exits with an error is not (it would fail again).
 */
export function isResubmittable(state: string, exitCode: string | null): boolean {
  const s = state.split(' ')[0]!.toUpperCase()
  if (['TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE'].includes(s)) return true
  if (s !== 'FAILED' || !exitCode) return false
  const [code, signal] = exitCode.split(':').map(Number)
  return (signal !== undefined && signal !== 0) || code === 137 || code === 143
}

/** A human reason for a job's end: `Slurm job 12 FAILED (exit 0:9 = killed by signal 9) on node1 after 00:00:14`. */
export function describeEnd(e: { jobId: string | null; state: string; exitCode: string | null; node: string | null; elapsed: string | null }): string {
  let exit = ''
  if (e.exitCode) {
    const [code, signal] = e.exitCode.split(':').map(Number)
    exit = signal ? ` (exit ${e.exitCode} = killed by signal ${signal})` : code ? ` (exit code ${code}${code === 137 ? ' = killed by SIGKILL' : code === 143 ? ' = SIGTERM' : ''})` : ''
  }
  return `Slurm job ${e.jobId ?? '?'} ${e.state}${exit}${e.node ? ` on ${e.node}` : ''}${e.elapsed ? ` after ${e.elapsed}` : ''}`
}

/** a new submission key: a job's name is skipbench-<key> */
export const newKey = () => randomBytes(6).toString('hex')

/** The `slurm` object of a run (run list rows, `runs show`, the run page): core/contract/cluster.ts SlurmInfo. */
export function slurmInfo(j: ClusterJob): SlurmInfo {
  return {
    cluster: j.cluster,
    job_id: j.jobId ?? (j.arrayJobId && j.arrayIndex !== null ? `${j.arrayJobId}_${j.arrayIndex}` : j.arrayJobId),
    array_job_id: j.arrayIndex !== null ? j.arrayJobId : null,
    array_index: j.arrayIndex,
    state: j.state,
    slurm_state: j.slurmState,
    node: j.node,
    elapsed: j.elapsed,
    exit_code: j.exitCode,
    reason: j.reason,
    attempt: j.attempt,
    output_tail: j.outputTail,
  }
}
