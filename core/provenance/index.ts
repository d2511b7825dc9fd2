/**
 * Provenance: what a run was made from, recorded when it starts (run.json `provenance`, the store's
 * runs.provenance) so it can be re-run exactly and reports can list it.
 *
 *   skipbench version · git commit + dirty diff (when run from a checkout) · Node, onnxruntime, tfjs versions ·
 *   OS · CPU model and cores · GPU adapter and driver (nvidia-smi, when present) · engine/backend in use ·
 *   dataset content hashes (sha256 of every shard file; synthetic data: of its generator parameters) · seed ·
 *   the full resolved config.
 *
 * Everything here is best effort except the config, seed and dataset hashes: a missing git or nvidia-smi gives null.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { arch, cpus, platform, release } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface DatasetHash {
  split: 'train' | 'val' | 'generator'
  /** the file (absolute), or the generator's name */
  path: string
  bytes: number
  sha256: string
}

export interface Provenance {
  format: 1
  recordedAt: string
  skipbench: string
  git: { commit: string; dirty: boolean; diff: string; diffTruncated: boolean } | null
  node: string
  onnxruntime: string | null
  tfjs: string | null
  os: { platform: string; release: string; arch: string }
  cpu: { model: string; cores: number }
  gpu: { adapter: string; driver: string }[] | null
  engine: { engine: string; backend: string; versions: Record<string, string> } | null
  datasets: DatasetHash[]
  seed: number | null
  config: Record<string, unknown>
}

/** Dirty diffs larger than this are cut (and say so). */
const MAX_DIFF_BYTES = 256 * 1024

/** The skipbench checkout / install root (two levels above this file, also in a bundle's out/ tree best effort). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json')
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'skipbench') return dir
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir)
  }
  return null
}

function packageVersion(root: string | null, name: string): string | null {
  if (!root) return null
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version ?? null
  } catch {
    return null
  }
}

function run(cmd: string, args: string[], cwd?: string): string | null {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 })
  } catch {
    return null
  }
}

/** HEAD, and the tracked changes against it (untracked files are listed by name in the diff's header). */
function gitState(dir: string): Provenance['git'] {
  if (!existsSync(join(dir, '.git'))) return null
  const commit = run('git', ['rev-parse', 'HEAD'], dir)?.trim()
  if (!commit) return null
  const status = run('git', ['status', '--porcelain', '--untracked-files=normal'], dir) ?? ''
  let diff = run('git', ['diff', 'HEAD', '--no-color', '--no-ext-diff'], dir) ?? ''
  const untracked = status
    .split('\n')
    .filter((l) => l.startsWith('?? '))
    .map((l) => l.slice(3))
  if (untracked.length) diff = `# untracked: ${untracked.join(' ')}\n` + diff
  const truncated = Buffer.byteLength(diff) > MAX_DIFF_BYTES
  if (truncated) diff = Buffer.from(diff).subarray(0, MAX_DIFF_BYTES).toString('utf8')
  return { commit, dirty: status.trim().length > 0, diff, diffTruncated: truncated }
}

let gpuCache: Provenance['gpu'] | undefined
/** GPU adapters and driver from nvidia-smi (null when there is none or it fails); asked once per process. */
function gpuInfo(): Provenance['gpu'] {
  if (gpuCache !== undefined) return gpuCache
  const out = run('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'])
  gpuCache = out
    ? out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [adapter = '', driver = ''] = l.split(',').map((x) => x.trim())
          return { adapter, driver }
        })
    : null
  return gpuCache
}

const hashCache = new Map<string, DatasetHash>()
/** sha256 of a file's bytes, streamed; cached per (path, size, mtime) for the life of the process. */
function hashFile(path: string, split: DatasetHash['split']): DatasetHash {
  const abs = resolve(path)
  const st = statSync(abs)
  const key = `${abs}\n${st.size}\n${st.mtimeMs}`
  const hit = hashCache.get(key)
  if (hit) return { ...hit, split }
  const h = createHash('sha256')
  const fd = openSync(abs, 'r')
  try {
    const buf = Buffer.alloc(1 << 20)
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos)
      if (n === 0) break
      h.update(buf.subarray(0, n))
      pos += n
    }
  } finally {
    closeSync(fd)
  }
  const out: DatasetHash = { split, path: abs, bytes: st.size, sha256: h.digest('hex') }
  hashCache.set(key, out)
  return out
}

/** Canonical JSON (sorted keys) so equal objects hash equally. */
function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  const o = v as Record<string, unknown>
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`
}

export interface ProvenanceInput {
  /** the full resolved run config (runConfigToJson) */
  config: Record<string, unknown>
  seed: number | null
  data: { dataset: string; trainShards: string[]; valShards: string[] }
  engine?: { engine: string; backend: string; versions: Record<string, string | number | boolean> } | null
  /** where to look for git (default: the skipbench checkout) */
  gitDir?: string | null
}

export function collectProvenance(o: ProvenanceInput): Provenance {
  const root = packageRoot()
  const cpuList = cpus()
  const datasets: DatasetHash[] = [...o.data.trainShards.map((p) => hashFile(p, 'train')), ...o.data.valShards.map((p) => hashFile(p, 'val'))]
  if (!datasets.length) {
    // generated data (synthetic): its content is a pure function of these parameters
    const gen = canonicalJson({ dataset: o.data.dataset, data: o.config.data ?? null })
    datasets.push({ split: 'generator', path: o.data.dataset, bytes: Buffer.byteLength(gen), sha256: createHash('sha256').update(gen).digest('hex') })
  }
  const versions: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.engine?.versions ?? {})) versions[k] = String(v)
  const gitDir = o.gitDir === undefined ? root : o.gitDir
  return {
    format: 1,
    recordedAt: new Date().toISOString(),
    skipbench: root ? readVersion(root) : 'unknown',
    git: gitDir ? gitState(gitDir) : null,
    node: process.versions.node,
    onnxruntime: packageVersion(root, 'onnxruntime-node'),
    tfjs: packageVersion(root, '@tensorflow/tfjs-core'),
    os: { platform: platform(), release: release(), arch: arch() },
    cpu: { model: cpuList[0]?.model?.trim() ?? 'unknown', cores: cpuList.length },
    gpu: gpuInfo(),
    engine: o.engine ? { engine: o.engine.engine, backend: o.engine.backend, versions } : null,
    datasets,
    seed: o.seed,
    config: o.config,
  }
}

function readVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** One line per fact, for `runs show` and reports. */
export function provenanceLines(p: Partial<Provenance> | Record<string, unknown>): [string, string][] {
  const v = p as Partial<Provenance>
  if (!v || v.format !== 1) return []
  const out: [string, string][] = [['skipbench', v.skipbench ?? '?']]
  if (v.git) out.push(['git', `${v.git.commit.slice(0, 12)}${v.git.dirty ? ` (dirty, ${Buffer.byteLength(v.git.diff)} bytes of diff${v.git.diffTruncated ? ', truncated' : ''})` : ' (clean)'}`])
  out.push(['node', v.node ?? '?'])
  out.push(['onnxruntime', v.onnxruntime ?? '-'])
  out.push(['tfjs', v.tfjs ?? '-'])
  if (v.os) out.push(['os', `${v.os.platform} ${v.os.release} ${v.os.arch}`])
  if (v.cpu) out.push(['cpu', `${v.cpu.model} × ${v.cpu.cores}`])
  out.push(['gpu', v.gpu?.length ? v.gpu.map((g) => `${g.adapter} (driver ${g.driver})`).join('; ') : 'none found'])
  if (v.engine) out.push(['engine', `${v.engine.engine} / ${v.engine.backend}`])
  for (const d of v.datasets ?? []) out.push([`data ${d.split}`, `${d.path} sha256:${d.sha256.slice(0, 16)}… (${d.bytes} B)`])
  out.push(['seed', String(v.seed ?? '-')])
  return out
}
