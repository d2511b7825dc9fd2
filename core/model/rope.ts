/**
 * RoPE frequencies (spec A.3), shared by every engine: f_k = θ^(−2k/hd) for k < hd/2, computed in float64, with the
 * optional Llama-3.1 scaling (rope.py:6-27: factor 8, low-frequency factor 1, high-frequency factor 4, original
 * context 8192). Engines build their own position tables from these.
 */

/** Llama-3.1 scaling of one frequency. */
function scaleFrequency(freq: number): number {
  const scaleFactor = 8
  const lowFreqFactor = 1
  const highFreqFactor = 4
  const oldContextLen = 8192
  const lowFreqWavelen = oldContextLen / lowFreqFactor
  const highFreqWavelen = oldContextLen / highFreqFactor
  const wavelen = (2 * Math.PI) / freq
  if (wavelen < highFreqWavelen) return freq
  if (wavelen > lowFreqWavelen) return freq / scaleFactor
  const smooth = (oldContextLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
  return ((1 - smooth) * freq) / scaleFactor + smooth * freq
}

export function ropeFrequencies(headDim: number, theta: number, scaled: boolean): Float64Array {
  const f = new Float64Array(headDim / 2)
  for (let k = 0; k < f.length; k++) {
    const base = 1 / Math.pow(theta, (2 * k) / headDim)
    f[k] = scaled ? scaleFrequency(base) : base
  }
  return f
}
