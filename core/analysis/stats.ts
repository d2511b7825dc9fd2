/**
 * Small-sample statistics for seed groups: mean, sample standard deviation (n − 1) and a Student-t interval.
 * The t quantile is computed, not tabulated: the t CDF through the regularized incomplete beta function
 * (Lentz continued fraction, Numerical Recipes §6.4) and bisection on the tail probability, for any df > 0
 * (integer or not), within ~1e-10 of the true quantile; df = Infinity gives the normal quantile.
 */

/** ln Γ(x) for x > 0: Lanczos approximation (g = 7, n = 9), relative error ~1e-15. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`)
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x) // reflection
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  x -= 1
  let a = c[0]!
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Continued fraction for the incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300
  const EPS = 1e-16
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  for (let m = 1; m <= 1_000_000; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < EPS) return h
  }
  return h // not reached for the (df/2, ½) arguments used here
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x)
  const bt = Math.exp(lbt)
  if (x < (a + 1) / (a + b + 2)) return (bt * betaContinuedFraction(a, b, x)) / a
  return 1 - (bt * betaContinuedFraction(b, a, 1 - x)) / b
}

/** ln Γ(a + ½) − ln Γ(a), without the cancellation of two large lgammas when a is large. */
function logGammaHalfRatio(a: number): number {
  if (a < 50) return logGamma(a + 0.5) - logGamma(a)
  // asymptotic series (DLMF 5.11.13 family), error < 1e-14 for a ≥ 50
  return 0.5 * Math.log(a) - 1 / (8 * a) + 1 / (192 * a ** 3) - 1 / (640 * a ** 5) + 17 / (14336 * a ** 7)
}

/**
 * P(T > t) for t ≥ 0, T ~ Student-t(df): ½·I_x(df/2, ½) with x = df/(df + t²). x and 1 − x are formed from
 * r = t²/df directly and the prefactor in logs with log1p, so large df keep full precision.
 */
function tUpperTail(t: number, df: number): number {
  if (t === 0) return 0.5
  if (!Number.isFinite(t)) return 0
  const a = df / 2
  const r = (t * t) / df
  const x = 1 / (1 + r)
  const y = r / (1 + r) // 1 − x
  const logPrefactor = logGammaHalfRatio(a) - 0.5 * Math.log(Math.PI) - a * Math.log1p(r) + 0.5 * Math.log(y)
  const pre = Math.exp(logPrefactor)
  const ix = x < (a + 1) / (a + 2.5) ? (pre * betaContinuedFraction(a, 0.5, x)) / a : 1 - (pre * betaContinuedFraction(0.5, a, y)) / 0.5
  return 0.5 * ix
}

/** Student-t CDF. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`)
  if (Number.isNaN(t)) return NaN
  const tail = tUpperTail(Math.abs(t), df)
  return t >= 0 ? 1 - tail : tail
}

/** Student-t quantile: the t with P(T ≤ t) = p, for 0 < p < 1 and df > 0. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile probability must be in (0, 1), got ${p}`)
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`)
  if (p === 0.5) return 0
  if (df > LARGE_DF) return largeDfQuantile(p, df)
  const tail = p > 0.5 ? 1 - p : p // target upper-tail probability, solved on t ≥ 0
  let lo = 0
  let hi = 1
  while (tUpperTail(hi, df) > tail) {
    lo = hi
    hi *= 2
    if (!Number.isFinite(hi)) break
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, hi); i++) {
    const mid = 0.5 * (lo + hi)
    if (tUpperTail(mid, df) > tail) lo = mid
    else hi = mid
  }
  const t = 0.5 * (lo + hi)
  return p > 0.5 ? t : -t
}

/**
 * Beyond this df the incomplete-beta route loses precision (its continued fraction cancels terms of order 1/df),
 * so the quantile comes from the Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5) around the normal
 * quantile z, which is itself recovered from an accurate t quantile at df = LARGE_DF by inverting that expansion.
 */
const LARGE_DF = 1e5

function cornishFisher(z: number, df: number): number {
  const z2 = z * z
  const g1 = (z * (z2 + 1)) / 4
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
}

function largeDfQuantile(p: number, df: number): number {
  const t0 = studentTQuantile(p, LARGE_DF)
  let z = t0
  for (let i = 0; i < 50; i++) {
    const next = z - (cornishFisher(z, LARGE_DF) - t0) // fixed point: the correction terms are ~1e-5 of z
    if (next === z) break
    z = next
  }
  return Number.isFinite(df) ? cornishFisher(z, df) : z
}

export interface Summary {
  n: number
  mean: number
  /** Sample standard deviation (divisor n − 1); null for n = 1. */
  sd: number | null
  /** Standard error sd/√n; null for n = 1. */
  se: number | null
  /** Confidence level of `ci` (0.95 unless asked otherwise). */
  level: number
  /** mean ± t_{(1+level)/2, n−1}·se; null for n = 1. */
  ci: [number, number] | null
}

/** Mean, sample SD and Student-t confidence interval of a non-empty list of finite numbers. */
export function summarize(values: ArrayLike<number>, level = 0.95): Summary {
  const n = values.length
  if (n === 0) throw new RangeError('summarize: no values')
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`)
  let sum = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) throw new RangeError(`summarize: value ${i} is ${v}, not a finite number`)
    sum += v
  }
  const mean = sum / n
  if (n === 1) return { n, mean, sd: null, se: null, level, ci: null }
  let ss = 0
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2
  const sd = Math.sqrt(ss / (n - 1))
  const se = sd / Math.sqrt(n)
  const half = studentTQuantile((1 + level) / 2, n - 1) * se
  return { n, mean, sd, se, level, ci: [mean - half, mean + half] }
}

/** Ranks 1..n with ties given their average rank (for Spearman's rho). */
export function averageRanks(x: readonly number[]): number[] {
  const idx = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
  const r = new Array<number>(x.length)
  for (let i = 0; i < idx.length; ) {
    let j = i
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++
    const avg = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) r[idx[k]![1]] = avg
    i = j + 1
  }
  return r
}

/**
 * Spearman's rank correlation of paired finite values (pairs with a non-finite member are dropped): the Pearson
 * correlation of their average ranks. null with fewer than 3 pairs or when either side is constant.
 */
export function spearman(xs: readonly number[], ys: readonly number[]): { rho: number | null; n: number } {
  const x: number[] = []
  const y: number[] = []
  for (let i = 0; i < Math.min(xs.length, ys.length); i++)
    if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) {
      x.push(xs[i]!)
      y.push(ys[i]!)
    }
  const n = x.length
  if (n < 3) return { rho: null, n }
  const rx = averageRanks(x)
  const ry = averageRanks(y)
  const mx = rx.reduce((a, b) => a + b, 0) / n
  const my = ry.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mx
    const dy = ry[i]! - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  if (sxx === 0 || syy === 0) return { rho: null, n }
  return { rho: sxy / Math.sqrt(sxx * syy), n }
}
