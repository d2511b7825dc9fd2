/**
 * Deterministic, serialisable PRNG (xoshiro128**, seeded through splitmix32) with Box–Muller normals.
 * Engine-independent so every engine starts from bit-identical weights for a given seed; the state is four
 * uint32 words that go into checkpoints for exact resume.
 */
export interface RngState {
  s: [number, number, number, number]
  spare: number | null
}

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0
    let z = a
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class Rng {
  private s: Uint32Array
  private spare: number | null = null

  constructor(seed: number | RngState) {
    this.s = new Uint32Array(4)
    if (typeof seed === 'number') {
      const sm = splitmix32(seed >>> 0)
      for (let i = 0; i < 4; i++) this.s[i] = sm()
    } else {
      this.s.set(seed.s)
      this.spare = seed.spare
    }
  }

  /** uint32 */
  nextU32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0
    const t = s[1]! << 9
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11)
    return result
  }

  /** uniform in [0, 1) with 53 random bits */
  uniform(): number {
    const hi = this.nextU32() >>> 5
    const lo = this.nextU32() >>> 6
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** standard normal (Box–Muller, caching the second value) */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare
      this.spare = null
      return v
    }
    let u = 0
    while (u === 0) u = this.uniform()
    const v = this.uniform()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  state(): RngState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spare: this.spare }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** A small stateless-seeded PRNG (mulberry32): uniform [0, 1) numbers, the same sequence for the same seed. For
 * analysis and synthetic data, where the state need not go into checkpoints (use Rng there). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
