/**
 * Group-by for the charts: runs grouped by the value of one config path (the runs table's group-by), each group
 * with a human legend label ("layers = 8") and a colour. The Pareto chart and the loss curves colour their points
 * and lines by it (core/report/charts.ts). Pure.
 */
import { axisLabel } from './parallel.js'

export type GroupValue = string | number | boolean | null

export interface ChartGroup {
  /** stable key of the value ("n:8", "s:cuda", "null") */
  key: string
  /** legend text: the field's human name and the value, e.g. "layers = 8", "kind = gated", "target end (E) not set" */
  label: string
  color: string
}

/** A categorical palette that stays readable on white (ten colours, then it repeats). */
export const GROUP_COLORS = ['#1971c2', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d', '#495057', '#364fc7'] as const

const keyOf = (v: GroupValue): string => (v === null ? 'null' : typeof v === 'number' ? `n:${v}` : typeof v === 'boolean' ? `b:${v}` : `s:${v}`)

/** A value as the legend shows it: numbers without float noise; the stored kind flag (zero_init_masks) as dense/gated. */
function valueText(path: string, v: Exclude<GroupValue, null>): string {
  // SQLite's json_extract gives booleans as 1/0
  if (path === 'model.zero_init_masks') return v === true || v === 1 ? 'dense' : 'gated'
  if (typeof v === 'number') return String(+v.toPrecision(6))
  return String(v)
}

export function groupLabel(path: string, v: GroupValue): string {
  const name = axisLabel(path)
  return v === null ? `${name} not set` : `${name} = ${valueText(path, v)}`
}

/**
 * The groups of these values, ordered (numbers ascending, then booleans, then text, "not set" last) and coloured
 * in that order; `of(v)` finds a value's group.
 */
export function chartGroups(path: string, values: Iterable<GroupValue | undefined>): { groups: ChartGroup[]; of: (v: GroupValue | undefined) => ChartGroup } {
  const seen = new Map<string, GroupValue>()
  for (const v of values) {
    const x = v === undefined ? null : v
    if (!seen.has(keyOf(x))) seen.set(keyOf(x), x)
  }
  const rank = (v: GroupValue) => (v === null ? 3 : typeof v === 'number' ? 0 : typeof v === 'boolean' ? 1 : 2)
  const ordered = [...seen.values()].sort((a, b) => {
    const r = rank(a) - rank(b)
    if (r) return r
    if (typeof a === 'number' && typeof b === 'number') return a - b
    return String(a).localeCompare(String(b))
  })
  const groups = ordered.map((v, i) => ({ key: keyOf(v), label: groupLabel(path, v), color: GROUP_COLORS[i % GROUP_COLORS.length]! }))
  const byKey = new Map(groups.map((g) => [g.key, g]))
  return { groups, of: (v) => byKey.get(keyOf(v === undefined ? null : v)) ?? { key: keyOf(v ?? null), label: groupLabel(path, v ?? null), color: '#868e96' } }
}
