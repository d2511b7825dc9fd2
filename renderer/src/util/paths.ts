/** Dotted-path access to config documents (pure). */

export function getPath(doc: unknown, path: string): unknown {
  let o: unknown = doc
  for (const k of path.split('.')) {
    if (!o || typeof o !== 'object') return undefined
    o = (o as Record<string, unknown>)[k]
  }
  return o
}

/** A copy of `doc` with `path` set to `value`; `undefined` removes the key. Intermediate objects are created. */
export function setPath<T extends Record<string, unknown>>(doc: T, path: string, value: unknown): T {
  const keys = path.split('.')
  const out = structuredClone(doc) as Record<string, unknown>
  let o = out
  for (const k of keys.slice(0, -1)) {
    const next = o[k]
    if (!next || typeof next !== 'object' || Array.isArray(next)) o[k] = {}
    o = o[k] as Record<string, unknown>
  }
  const last = keys.at(-1)!
  if (value === undefined) delete o[last]
  else o[last] = value
  return out as T
}

/** "2, 4 ,6" → [2, 4, 6]; "true, false" → booleans; other words stay strings. Empty items are dropped. */
export function parseValueList(text: string): (string | number | boolean | null)[] {
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (s === 'true') return true
      if (s === 'false') return false
      if (s === 'null') return null
      const n = Number(s)
      return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) ? n : s
    })
}

/** Flatten nested objects into dotted paths (arrays and scalars are leaves). */
export function flatten(value: unknown, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else if (prefix) out.push([prefix, value])
  return out
}
