/** Named datasets copied to a cluster once, by content hash, for the jobs that read them. */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { RunConfig } from '../config/index.js'
import type { ClusterProfile } from './profile.js'
import { shq, type ClusterShell } from './shell.js'
import { newKey } from './slurm.js'

/**
 * Copy a named dataset (the shipped corpus included) to <workdir>/data/<content hash>/ once, and return that
 * folder as the job's --data-dir. Synthetic data, explicit shard lists and dataset paths need nothing: paths
 * are read on the cluster.
 */
export async function stageData(dataDir: string, p: ClusterProfile, sh: ClusterShell, W: string, config: RunConfig, log: (message: string) => void): Promise<string | null> {
  const d = config.data
  if (d.train_shards || d.dataset === 'synthetic') return null
  const name = d.dataset === 'default' && d.tokenizer ? `default-${d.tokenizer}` : d.dataset
  if (name !== 'default' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) return null // a path: read on the cluster
  const { resolveDataset } = await import('../data/dataset.js')
  const r = await resolveDataset(dataDir, name, d.tokenizer ? { tokenizer: d.tokenizer } : {})
  const folder = r.trainPaths.length ? dirname(r.trainPaths[0]!) : null
  if (!folder || !existsSync(join(folder, 'dataset.json'))) return null
  const files = readdirSync(folder).filter((f) => statSync(join(folder, f)).isFile()).sort()
  const h = createHash('sha256')
  for (const f of files) h.update(`${f}\0`).update(readFileSync(join(folder, f)))
  const hash = h.digest('hex').slice(0, 24)
  const remote = `${W}/data/${hash}`
  const have = await sh.run(`test -f ${shq(remote)}/.complete`, { timeoutMs: 30_000, retries: 2 })
  if (have.code === 0) return remote
  const tmp = `${remote}.part-${newKey()}`
  await sh.upload(folder, `${tmp}/datasets/${basename(folder)}`)
  await sh.check('finishing the dataset copy', `touch ${shq(tmp)}/.complete && (mv -T ${shq(tmp)} ${shq(remote)} 2>/dev/null || rm -rf ${shq(tmp)})`, { timeoutMs: 60_000 })
  log(`copied dataset ${r.name} to ${p.name}:${remote}`)
  return remote
}
