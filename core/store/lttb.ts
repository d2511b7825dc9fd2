/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013, "Downsampling Time Series for Visual
 * Representation", ch. 4): keeps the first and last point and, per bucket, the point that forms the largest
 * triangle with the previous kept point and the next bucket's mean. Preserves peaks and the shape of loss curves
 * far better than every-k-th sampling. Non-finite values (NaN: a diverged step) are always kept so a chart shows
 * where a run blew up; they do not take part in the triangle areas.
 */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): { xs: number[]; ys: number[] } {
  const n = xs.length
  if (threshold >= n || threshold < 3) {
    if (threshold >= n || n <= 2) return { xs: Array.from(xs), ys: Array.from(ys) }
    // 1 or 2 points requested: first and last
    return threshold <= 1 ? { xs: [xs[0]!], ys: [ys[0]!] } : { xs: [xs[0]!, xs[n - 1]!], ys: [ys[0]!, ys[n - 1]!] }
  }
  const outX: number[] = [xs[0]!]
  const outY: number[] = [ys[0]!]
  const every = (n - 2) / (threshold - 2)
  let a = 0
  for (let i = 0; i < threshold - 2; i++) {
    // next bucket's mean (finite points only)
    const nStart = Math.floor((i + 1) * every) + 1
    const nEnd = Math.min(Math.floor((i + 2) * every) + 1, n)
    let avgX = 0
    let avgY = 0
    let cnt = 0
    for (let j = nStart; j < nEnd; j++) {
      const y = ys[j]!
      if (Number.isFinite(y)) {
        avgX += xs[j]!
        avgY += y
        cnt++
      }
    }
    if (cnt) {
      avgX /= cnt
      avgY /= cnt
    } else {
      avgX = xs[Math.min(nStart, n - 1)]!
      avgY = ys[a]!
    }
    // this bucket
    const start = Math.floor(i * every) + 1
    const end = Math.min(Math.floor((i + 1) * every) + 1, n - 1)
    const ax = xs[a]!
    const ay = Number.isFinite(ys[a]!) ? ys[a]! : avgY
    let best = -1
    let bestArea = -1
    for (let j = start; j < end; j++) {
      const y = ys[j]!
      if (!Number.isFinite(y)) {
        outX.push(xs[j]!)
        outY.push(y)
        continue
      }
      const area = Math.abs((ax - avgX) * (y - ay) - (ax - xs[j]!) * (avgY - ay))
      if (area > bestArea) {
        bestArea = area
        best = j
      }
    }
    if (best >= 0) {
      // keep x order when a non-finite point of this bucket was pushed after an earlier finite best
      const bx = xs[best]!
      let k = outX.length
      while (k > 0 && outX[k - 1]! > bx) k--
      outX.splice(k, 0, bx)
      outY.splice(k, 0, ys[best]!)
      a = best
    }
  }
  outX.push(xs[n - 1]!)
  outY.push(ys[n - 1]!)
  return { xs: outX, ys: outY }
}
