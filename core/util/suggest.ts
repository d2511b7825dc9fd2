/**
 * "Did you mean" for a mistyped name: the closest candidate by edit distance (Damerau: a swap of two neighbours
 * counts as one), when it is close enough to be a likely typo. Pure (no Node APIs): usable by every layer.
 */
function editDistance(a: string, b: string): number {
  const m = a.length
  const n = b.length
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= m; i++)
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  return d[m]![n]!
}

/** The candidate closest to `given` (case and `-`/`_` ignored), or null when none is within a typo's reach. */
export function closest(given: string, candidates: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '')
  const g = norm(given)
  let best: string | null = null
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(g, norm(c))
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(g.length / 3)))
  return bestD <= limit ? best : null
}

/** ` (did you mean "x"?)` or ''. */
export const didYouMean = (given: string, candidates: readonly string[]) => {
  const c = closest(given, candidates)
  return c ? ` (did you mean "${c}"?)` : ''
}
