/** `skipbench cluster check` and the Settings page's Check: what a profile's cluster answers, line by line. */
import type { ClusterCheckLine as CheckLine } from '../contract/cluster.js'
import { skipbenchLauncher } from './launcher.js'
import type { ClusterProfile } from './profile.js'
import { ClusterShell, shq } from './shell.js'

/** Connectivity, the Slurm clients, the workdir, and the Node and skipbench versions on the cluster. */
export async function checkCluster(p: ClusterProfile): Promise<CheckLine[]> {
  const sh = new ClusterShell(p)
  const lines: CheckLine[] = []
  const conn = await sh.run('echo skipbench-ok', { timeoutMs: 30_000 })
  const connected = conn.code === 0 && conn.stdout.includes('skipbench-ok')
  lines.push({ check: 'connectivity', ok: connected, detail: connected ? sh.where : `${sh.where}: ${conn.timedOut ? 'no answer within 30 s' : conn.stderr.trim().split('\n').pop() || `exit ${conn.code}`}` })
  if (!connected) return lines
  if (p.slurmConf) {
    const r = await sh.run(`test -r ${shq(p.slurmConf)}`, { timeoutMs: 15_000 })
    lines.push({ check: 'SLURM_CONF', ok: r.code === 0, detail: r.code === 0 ? p.slurmConf : `${p.slurmConf} is not readable there (Slurm clients would retry it for 60 s); fix the profile's slurmConf` })
  }
  for (const cmd of ['sbatch', 'squeue', 'sacct', 'scancel']) {
    const r = await sh.run(`command -v ${cmd}`, { timeoutMs: 15_000 })
    lines.push({ check: cmd, ok: r.code === 0, detail: r.code === 0 ? r.stdout.trim() : `${cmd} not found on the PATH${p.setup ? '' : ' (a --setup CMD such as "module load slurm" may be needed)'}` })
  }
  const ctl = await sh.run('sinfo -h -o "%P %a %D %t"', { timeoutMs: 20_000 })
  lines.push({ check: 'slurm controller', ok: ctl.code === 0 && !ctl.timedOut, detail: ctl.code === 0 ? ctl.stdout.trim().split('\n').join('; ') : ctl.timedOut ? 'sinfo did not answer within 20 s (a wrong SLURM_CONF makes it retry for 60 s)' : ctl.stderr.trim().split('\n').pop() || `exit ${ctl.code}` })
  const wd = await sh.run(`mkdir -p ${shq(p.workdir)} && cd ${shq(p.workdir)} && t=$(mktemp .skipbench-check.XXXXXX) && rm -f "$t" && pwd`, { timeoutMs: 20_000 })
  lines.push({ check: 'workdir writable', ok: wd.code === 0, detail: wd.code === 0 ? wd.stdout.trim() : `${p.workdir}: ${wd.stderr.trim().split('\n').pop() || `exit ${wd.code}`}` })
  const setup = p.setup ? `${p.setup}\n` : ''
  const node = await sh.run(`${setup}node --version`, { timeoutMs: 20_000 })
  lines.push({ check: 'node', ok: node.code === 0, detail: node.code === 0 ? node.stdout.trim() : 'node not found (the jobs need Node.js >= 20.19)' })
  if (wd.code === 0) {
    const launcher = skipbenchLauncher(p, wd.stdout.trim()).replace(/\bexec /, '')
    const sb = await sh.run(`${setup}${launcher} --version`, { timeoutMs: 60_000 })
    lines.push({ check: 'skipbench', ok: sb.code === 0, detail: sb.code === 0 ? sb.stdout.trim() : `${launcher} --version failed: ${sb.stderr.trim().split('\n').pop() || `exit ${sb.code}`}${p.skipbench ? '' : p.ssh ? ` (install skipbench in ${p.workdir}/skipbench, or give --skipbench CMD)` : ''}` })
  }
  return lines
}
