/**
 * Initialisation exactly as spec A.7: every Linear weight and the embedding ~ N(0, initializer_range²), biases 0,
 * RMSNorm weights 1; with zero_init_masks the mask weights and biases are 0 (a dense baseline: g ≡ 1).
 */
import { Rng } from '../util/rng.js'
import type { ModelConfig } from './config.js'
import { numel, paramSpecs, type Weights } from './params.js'

export function initWeights(c: ModelConfig, seed: number): Weights {
  const rng = new Rng(seed)
  const std = c.initializer_range
  const w: Weights = new Map()
  for (const p of paramSpecs(c)) {
    const a = new Float32Array(numel(p.shape))
    switch (p.init) {
      case 'normal':
        for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std
        break
      case 'ones':
        a.fill(1)
        break
      case 'mask_weight':
        if (!c.zero_init_masks) for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std
        break
      case 'zeros':
      case 'mask_bias':
        break
    }
    w.set(p.name, a)
  }
  return w
}
