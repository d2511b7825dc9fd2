/** Run diffs: which configuration fields differ between runs (pure; RunsRepository.diff feeds it). */

export interface DiffField {
  /** dotted path, e.g. "model.dim", "training.lr", "run.engine" */
  path: string
  /** one value per run, in the order given; null where the run has no such field */
  values: unknown[]
}

/** Flatten nested objects into dotted paths; arrays and scalars are leaves. */
export function flatten(value: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
    if (!entries.length && prefix) out.set(prefix, {})
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else if (prefix) out.set(prefix, value)
  return out
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/** Fields whose values are not all equal, sorted by path. `includeSame` returns every field. */
export function diffObjects(objects: unknown[], opts: { includeSame?: boolean } = {}): DiffField[] {
  const flats = objects.map((o) => flatten(o))
  const paths = new Set<string>()
  for (const f of flats) for (const k of f.keys()) paths.add(k)
  const out: DiffField[] = []
  for (const path of [...paths].sort()) {
    const values = flats.map((f) => (f.has(path) ? f.get(path) : null))
    if (opts.includeSame || values.some((v) => !same(v, values[0]))) out.push({ path, values })
  }
  return out
}
