/** Virtual scrolling and client-side table helpers (pure). */

export interface VisibleRange {
  /** first rendered row index */
  start: number
  /** one past the last rendered row index */
  end: number
  /** px above the first rendered row (spacer) */
  offsetTop: number
  /** total scroll height, px */
  totalHeight: number
}

/** Rows to render for a scroll position: the visible ones plus `overscan` on each side. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, overscan = 8): VisibleRange {
  const totalHeight = Math.max(0, total * rowHeight)
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0, offsetTop: 0, totalHeight }
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, totalHeight - viewportHeight)))
  const first = Math.floor(top / rowHeight)
  const visible = Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight) + 1
  const start = Math.max(0, first - overscan)
  const end = Math.min(total, first + visible + overscan)
  return { start, end, offsetTop: start * rowHeight, totalHeight }
}

export type SortDir = 'asc' | 'desc'

/** Stable sort by a key; nulls last in both directions. */
export function sortBy<T>(rows: readonly T[], key: (r: T) => string | number | null | undefined, dir: SortDir): T[] {
  const sign = dir === 'asc' ? 1 : -1
  return rows
    .map((r, i) => ({ r, i, k: key(r) }))
    .sort((a, b) => {
      const an = a.k === null || a.k === undefined || (typeof a.k === 'number' && Number.isNaN(a.k))
      const bn = b.k === null || b.k === undefined || (typeof b.k === 'number' && Number.isNaN(b.k))
      if (an || bn) return an && bn ? a.i - b.i : an ? 1 : -1
      const c = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : String(a.k).localeCompare(String(b.k), undefined, { numeric: true })
      return c === 0 ? a.i - b.i : sign * c
    })
    .map((x) => x.r)
}

/** Keep the rows whose text fields contain every word of the query (case-insensitive). */
export function filterRows<T>(rows: readonly T[], query: string, text: (r: T) => string): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  if (!words.length) return [...rows]
  return rows.filter((r) => {
    const t = text(r).toLowerCase()
    return words.every((w) => t.includes(w))
  })
}

/** Replace the row with the same id in place (returns a new array only if something changed). */
export function patchRow<T extends { id: number }>(rows: T[], id: number, patch: Partial<T>): T[] {
  const i = rows.findIndex((r) => r.id === id)
  if (i < 0) return rows
  const next = rows.slice()
  next[i] = { ...rows[i]!, ...patch }
  return next
}

export interface Grouped<T> {
  rows: T[]
  /** the group label at the first row of each group (by row id) */
  starts: Map<number, string>
  /** rows per group label */
  sizes: Map<string, number>
}

/**
 * Group rows by a key: groups in order of their labels (numeric-aware; "–" for missing last), rows within a group
 * keep their current (server-side) order.
 */
export function groupRows<T extends { id: number }>(rows: readonly T[], key: (r: T) => string | number | null | undefined): Grouped<T> {
  const label = (r: T) => {
    const k = key(r)
    return k === null || k === undefined || k === '' ? '–' : String(k)
  }
  const sorted = sortBy(rows, (r) => (label(r) === '–' ? null : label(r)), 'asc')
  const starts = new Map<number, string>()
  const sizes = new Map<string, number>()
  let prev: string | null = null
  for (const r of sorted) {
    const l = label(r)
    sizes.set(l, (sizes.get(l) ?? 0) + 1)
    if (l !== prev) starts.set(r.id, l)
    prev = l
  }
  return { rows: sorted, starts, sizes }
}
