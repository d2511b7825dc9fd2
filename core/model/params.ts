/**
 * Parameter names, shapes and optimizer groups, in the reference implementation's naming (spec A.2, F).
 * PyTorch nn.Linear weights are stored (out, in); we keep that layout in checkpoints and in engines' weight maps.
 */
import { dims, type ModelConfig } from './config.js'

export type ParamGroup = 'default' | 'norms' | 'masks'
export interface ParamSpec {
  name: string
  shape: number[]
  group: ParamGroup
  init: 'normal' | 'ones' | 'zeros' | 'mask_weight' | 'mask_bias'
}

/** Every parameter, in a fixed order (the state-dict order of the reference model). */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const { D, L, H, Hkv, hd, F, V, nMasks } = dims(c)
  const s: ParamSpec[] = [{ name: 'tok_embeddings.weight', shape: [V, D], group: 'default', init: 'normal' }]
  for (let l = 0; l < L; l++) {
    const p = `layers.${l}.`
    s.push(
      { name: p + 'attention.wq.weight', shape: [H * hd, D], group: 'default', init: 'normal' },
      { name: p + 'attention.wk.weight', shape: [Hkv * hd, D], group: 'default', init: 'normal' },
      { name: p + 'attention.wv.weight', shape: [Hkv * hd, D], group: 'default', init: 'normal' },
      { name: p + 'attention.wo.weight', shape: [D, H * hd], group: 'default', init: 'normal' },
      { name: p + 'feed_forward.w1.weight', shape: [F, D], group: 'default', init: 'normal' },
      { name: p + 'feed_forward.w2.weight', shape: [D, F], group: 'default', init: 'normal' },
      { name: p + 'feed_forward.w3.weight', shape: [F, D], group: 'default', init: 'normal' },
      { name: p + 'pre_attention_norm.weight', shape: [D], group: 'norms', init: 'ones' },
      { name: p + 'post_attention_norm.weight', shape: [D], group: 'norms', init: 'ones' },
      { name: p + 'pre_feed_forward_norm.weight', shape: [D], group: 'norms', init: 'ones' },
      { name: p + 'post_feed_forward_norm.weight', shape: [D], group: 'norms', init: 'ones' },
    )
  }
  for (let j = 0; j < nMasks; j++) {
    s.push(
      { name: `masks.${j}.linear.weight`, shape: [1, D], group: 'masks', init: 'mask_weight' },
      { name: `masks.${j}.linear.bias`, shape: [1], group: 'masks', init: 'mask_bias' },
    )
  }
  s.push(
    { name: 'input_norm.weight', shape: [D], group: 'norms', init: 'ones' },
    { name: 'output_norm.weight', shape: [D], group: 'norms', init: 'ones' },
    { name: 'output.weight', shape: [V, D], group: 'default', init: 'normal' },
  )
  return s
}

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1)

/** Parameter count, including the L/2 mask linears (which dense baselines carry as zeros). Spec A.2. */
export function paramCount(c: ModelConfig): number {
  return paramSpecs(c).reduce((n, p) => n + numel(p.shape), 0)
}

/** A weight map: reference names (no `model.` prefix) to float32 data in the ParamSpec shape. */
export type Weights = Map<string, Float32Array>
