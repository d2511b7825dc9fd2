/** Slurm's view of jobs by name: squeue for recent ones, then accounting (slurmdbd, or the job-completion file). */
import type { ClusterProfile } from './profile.js'
import { shq, type ClusterShell } from './shell.js'
import { parseSacct, parseSqueue, SACCT_FIELDS, SQUEUE_FORMAT, type AccountingEntry } from './slurm.js'

export class Accounting {
  /** per cluster: whether sacct needs -c (no slurmdbd) */
  private readonly sacctFile = new Map<string, boolean>()

  /** Jobs of these names, from squeue (recent) and then accounting. */
  async lookupByName(p: ClusterProfile, sh: ClusterShell, names: string[]): Promise<{ jobId: string; arrayJobId: string | null }[]> {
    const q = parseSqueue(await sh.check('squeue', `squeue -h --states=all --name=${shq(names.join(','))} -o ${shq(SQUEUE_FORMAT)}`, { timeoutMs: 30_000, retries: 2 })).filter((e) => names.includes(e.name))
    if (q.length) return q.map((e) => ({ jobId: e.jobId, arrayJobId: e.arrayJobId }))
    return (await this.sacct(p, sh, names)).map((e) => ({ jobId: e.jobId, arrayJobId: e.arrayJobId }))
  }

  /** sacct from slurmdbd, or from the job-completion file (`sacct -c`) when there is no accounting database. */
  async sacct(p: ClusterProfile, sh: ClusterShell, names: string[]): Promise<AccountingEntry[]> {
    // `sacct -c` ignores --name: filter here too
    return (await this.sacctRaw(p, sh, names)).filter((e) => names.includes(e.name))
  }

  private async sacctRaw(p: ClusterProfile, sh: ClusterShell, names: string[]): Promise<AccountingEntry[]> {
    const args = `--parsable2 -n --name=${shq(names.join(','))} -o ${SACCT_FIELDS}`
    if (this.sacctFile.get(p.name) !== true) {
      const r = await sh.run(`sacct -X -S now-14days ${args}`, { timeoutMs: 30_000, retries: 2 })
      if (r.code === 0 && !/accounting storage is disabled/i.test(r.stdout + r.stderr)) {
        this.sacctFile.set(p.name, false)
        return parseSacct(r.stdout)
      }
      if (!/accounting storage is disabled|slurmdbd/i.test(r.stdout + r.stderr) && r.code !== 0) return []
      this.sacctFile.set(p.name, true)
    }
    const r = await sh.run(`sacct -c ${args}`, { timeoutMs: 30_000, retries: 2 })
    return r.code === 0 ? parseSacct(r.stdout) : []
  }
}
