/**
 * Which files the API may touch. Every method that takes a path (exportReport's outDir, importDataset's sources, a
 * run config's dataset path and shard lists) goes through PathPolicy:
 *
 * - a relative path resolves against the data folder (never the server's working directory);
 * - the resolved path, with symlinks followed as far as it exists, must lie inside one of the roots: the data
 *   folder, the database's folder (reports/ and runs/ live there), the runs folder, the folders the user allowed in
 *   Settings (`allowedFolders`), and — in the app — files and folders the user picked in a native dialog;
 * - otherwise a BadRequest names the path, the roots and the fix (Settings → allowed folders).
 */
import { existsSync, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { hasGlob, isDatasetPath } from '../config/index.js'
import { BadRequest } from './errors.js'

export interface PathRoots {
  dataDir: string
  homeDir: string
  runsDir: string
  allowedFolders: readonly string[]
}

/** The real path of `p`: symlinks resolved for the part that exists, the rest appended as given. */
function realish(p: string): string {
  let head = resolve(p)
  const tail: string[] = []
  for (;;) {
    if (existsSync(head)) {
      try {
        return join(realpathSync(head), ...tail.reverse())
      } catch {
        return join(head, ...tail.reverse())
      }
    }
    const up = dirname(head)
    if (up === head) return join(head, ...tail.reverse())
    tail.push(basename(head))
    head = up
  }
}

const isInside = (child: string, root: string) => {
  const r = relative(root, child)
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r))
}

export class PathPolicy {
  /** paths the user chose in the app's native dialogs (pickPath): allowed for this session */
  private readonly picked = new Set<string>()

  constructor(private readonly roots: () => PathRoots) {}

  /** Remember paths the user picked in a native dialog (Electron): they may be read from and written to. */
  allowPicked(paths: readonly string[]): void {
    for (const p of paths) if (isAbsolute(p)) this.picked.add(realish(p))
  }

  private rootList(): string[] {
    const r = this.roots()
    return [r.dataDir, r.homeDir, r.runsDir, ...r.allowedFolders].map(realish).concat([...this.picked])
  }

  /**
   * Resolve a path a caller gave (relative → against the data folder) and check it lies inside an allowed root.
   * `what` names it in the error ("report folder", "import source").
   */
  resolve(p: string, what: string, mode: 'read' | 'write'): string {
    const r = this.roots()
    const abs = isAbsolute(p) ? resolve(p) : resolve(r.dataDir, p)
    const real = realish(abs)
    const roots = this.rootList()
    if (roots.some((root) => isInside(real, root))) return real
    const shown = abs === real ? abs : `${abs} (→ ${real})`
    throw new BadRequest(
      `${what} ${shown} is outside the folders skipbench may ${mode === 'read' ? 'read from' : 'write to'}` +
        ` (the data folder ${r.dataDir}, ${r.homeDir}${r.allowedFolders.length ? `, and the allowed folders ${r.allowedFolders.join(', ')}` : ''}):` +
        ` use a path inside them, or add its folder under Settings → allowed folders`,
    )
  }
}

/**
 * The data section of a run config with its paths checked (read) and made absolute (relative → the data folder):
 * `dataset` when it is a path, `train_shards`, `val_shards`. Other keys are kept; a non-object is returned as is.
 */
export function resolveDataPaths<T>(data: T, policy: PathPolicy): T {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data
  const d = { ...(data as Record<string, unknown>) }
  if (typeof d.dataset === 'string' && isDatasetPath(d.dataset)) d.dataset = policy.resolve(d.dataset, 'dataset folder', 'read')
  for (const k of ['train_shards', 'val_shards'] as const) {
    const v = d[k]
    if (Array.isArray(v)) d[k] = v.map((p) => (typeof p === 'string' ? policy.resolve(p, `${k} entry`, 'read') : p))
  }
  return d as T
}

/** A value a sweep's axis or `set` gives at a dotted config path, with its data paths resolved as resolveDataPaths does. */
function resolveDataValue(path: string, v: unknown, policy: PathPolicy): unknown {
  if (path === 'data') return resolveDataPaths(v, policy)
  const k = path.startsWith('data.') ? path.slice(5) : null
  return k && !k.includes('.') ? resolveDataPaths({ [k]: v }, policy)[k] : v
}

interface SweepSetsLike {
  groups: { base: { data?: unknown }; axes?: { path: string; values: unknown[] }[]; set?: Record<string, unknown> }[]
  set?: Record<string, unknown>
}

/**
 * A sweep spec with its data paths checked and made absolute before it is planned (as a run's are before it is
 * parsed): each group's base, and the `data` values its axes and `set`s give.
 */
export function resolveSweepDataPaths<T extends SweepSetsLike>(spec: T, policy: PathPolicy): T {
  const sets = (set: Record<string, unknown> | undefined) => set && Object.fromEntries(Object.entries(set).map(([k, v]) => [k, resolveDataValue(k, v, policy)]))
  return {
    ...spec,
    groups: spec.groups.map((g) => ({
      ...g,
      base: g.base.data === undefined ? g.base : { ...g.base, data: resolveDataPaths(g.base.data, policy) },
      ...(g.axes ? { axes: g.axes.map((a) => ({ ...a, values: a.values.map((v) => resolveDataValue(a.path, v, policy)) })) } : {}),
      ...(g.set ? { set: sets(g.set) } : {}),
    })),
    ...(spec.set ? { set: sets(spec.set) } : {}),
  }
}

/** The fixed part of a glob (`a/b/*.txt` → `a/b`); the path itself when it has no wildcard. */
export function globBase(p: string): string {
  const parts = p.split(/[\\/]/)
  const i = parts.findIndex(hasGlob)
  if (i < 0) return p
  const base = parts.slice(0, i).join('/')
  return base || (p.startsWith('/') ? '/' : '.')
}
