/**
 * For the cluster integration tests: start the one-node cluster of scripts/slurm-local.sh (installing Slurm when
 * missing), and say why not when it cannot be started. In CI (CI=true) a cluster that cannot start is an error,
 * never a skip.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseRunConfig, type ResolvedRunConfig } from '../config/index.js'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const SKIPBENCH_CMD = `${process.execPath} ${join(REPO, 'bin/skipbench.mjs')}`

export interface LocalCluster {
  ok: boolean
  /** why it could not start (ok = false) */
  reason: string
  slurmConf: string
  /** the ssh config file whose host `slurm-local` logs into this machine */
  sshConfig: string
}

let cached: LocalCluster | null = null

export function startLocalCluster(): LocalCluster {
  if (cached) return cached
  const r = spawnSync('bash', [join(REPO, 'scripts/slurm-local.sh'), 'start'], { encoding: 'utf8', timeout: 900_000 })
  const m = /^export SLURM_CONF=(.+)$/m.exec(r.stdout ?? '')
  if (r.status === 0 && m) {
    const slurmConf = m[1]!.trim()
    cached = { ok: true, reason: '', slurmConf, sshConfig: join(dirname(dirname(slurmConf)), 'ssh/config') }
  } else {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-3).join(' / ')
    cached = { ok: false, reason: `scripts/slurm-local.sh start failed: ${why}`, slurmConf: '', sshConfig: '' }
  }
  if (!cached.ok && process.env.CI === 'true') throw new Error(`CI=true and the Slurm test cluster cannot start: ${cached.reason}`)
  if (!cached.ok) console.warn(`SKIPPING the Slurm integration tests: ${cached.reason}`)
  return cached
}

/** A tiny dense config on synthetic data: ~3 s of training for 100 steps on a loaded 2-core machine. */
export function tinyConfig(name: string, o: { steps?: number; seed?: number; checkpointEvery?: number } = {}): Record<string, unknown> {
  return {
    name,
    model: { dim: 16, n_layers: 2, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: true },
    training: { batch_size: 4, train_steps: o.steps ?? 40, val_every: 20, val_tokens: 64, checkpoint_every: o.checkpointEvery ?? 0, keep_checkpoints: 2, seed: o.seed ?? 0 },
    data: { dataset: 'synthetic', synthetic: { vocab_size: 32, train_tokens: 20_000, val_tokens: 1024 } },
    engine: { engine: 'ort', threads: 1 },
  }
}

/** tinyConfig parsed, as the service and the CLI hand it to ClusterManager.submit */
export const tinyRun = (name: string, o: Parameters<typeof tinyConfig>[1] = {}): ResolvedRunConfig => parseRunConfig(tinyConfig(name, o))

/** Pids of processes whose command line contains `needle` (this machine; Linux). */
export function pidsWith(needle: string): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(needle) && /node/.test(cmd)) out.push(Number(d))
    } catch {
      /* gone */
    }
  }
  return out
}
