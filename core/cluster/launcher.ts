/** How a Slurm job starts skipbench on a node: the profile's command, this installation (local), or npx in the workdir. */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClusterError, type ClusterProfile } from './profile.js'
import { shq } from './shell.js'

/** This installation's CLI, started with this Node: what a local cluster's jobs run by default. */
function localSkipbenchCommand(): string {
  const candidates = [fileURLToPath(new URL('../../bin/skipbench.mjs', import.meta.url)), process.argv[1] ?? '']
  const bin = candidates.find((p) => p && /skipbench(\.m?js)?$/.test(p) && existsSync(p))
  if (!bin) throw new ClusterError('cannot tell where this skipbench installation is; give the cluster profile --skipbench CMD')
  return `${shq(process.execPath)} ${shq(resolve(bin))}`
}

/** The shell prefix that starts skipbench on a node (ends with the command; arguments follow). */
export function skipbenchLauncher(p: ClusterProfile, workdir: string): string {
  if (p.skipbench) return `exec ${p.skipbench}`
  if (!p.ssh) return `exec ${localSkipbenchCommand()}`
  return `cd ${shq(`${workdir}/skipbench`)} && exec npx --no-install skipbench`
}
