/**
 * Sweep presets. "paper-grid" is the experiment grid of the paper's scripts (spec C and E):
 *
 * - dense baselines, L = 2, 4, ..., 12, `zero_init_masks: true`, dummy controller;
 * - "nocontrol": the gated architecture with the dummy controller, L = 2, 4, ..., 12 (`zero_init_masks: false`);
 * - gated: L = 12 with the proportional controller (k = 1e-3 at the paper's scale; see ScaleSpec.controllerGain), mean targets linspace(1, E, L/2) mirrored, for
 *   E ∈ {0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}.
 *
 * at three scales:
 *
 * - `tiny`: byte-level model (dim 64, 4 heads, context 64) on the shipped corpus, a few hundred steps: the whole
 *   22-run grid finishes on a 2-core CPU in well under an hour (`skipbench sweep --dry-run` measures this machine
 *   and says how long).
 * - `small`: dim 384, 6 heads, context 256, GPT-2 tokenizer on the shipped corpus, 2,000 steps of 32 sequences:
 *   a workstation or a single GPU.
 * - `paper`: the published sizes (spec A.1, B.3, B.5): dim 768, 12 heads, context 1024, GPT-2 vocabulary, 512
 *   sequences per step (32 × 16 gradient-accumulation micro-batches), 19,560 steps, ≈ 100M validation tokens on
 *   FineWeb-10B (dataset `fineweb10B-gpt2`). For GPUs and clusters; never on a laptop. Gated attention "query"
 *   there, as the released code (spec A.6), so a run reproduces what produced the paper's numbers.
 *
 * Gated runs at the tiny and small scales use `gated_attention: "key"` (the paper's described mechanism, H.1).
 */
import { SweepError, type SweepGroupSpec, type SweepSpec } from './grid.js'

export const SWEEP_SCALES = ['tiny', 'small', 'paper'] as const
export type SweepScale = (typeof SWEEP_SCALES)[number]
export const PAPER_GRID_GROUPS = ['dense', 'nocontrol', 'gated'] as const
export type PaperGridGroup = (typeof PAPER_GRID_GROUPS)[number]

/** The depths of the dense and nocontrol runs (spec E). */
export const PAPER_DEPTHS: readonly number[] = [2, 4, 6, 8, 10, 12]
/** The gate target ends E of the gated runs (spec C, scripts/upload.sh:28). */
export const PAPER_TARGET_ENDS: readonly number[] = [0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
/** The gated runs' depth. */
const PAPER_GATED_DEPTH = 12

export interface ScaleSpec {
  scale: SweepScale
  description: string
  /** the base RunConfig shared by every run at this scale (model without n_layers/zero_init_masks) */
  base: Record<string, unknown>
  /** gated_attention of the gated and nocontrol runs */
  gatedAttention: 'key' | 'query'
  /**
   * The proportional controller's gain k. The paper's 1e-3 acts over 19,560 steps; a run 40× shorter with the same
   * gain ends far from its targets (its gated runs then behave like "nocontrol"), so the short scales raise k in
   * proportion to the steps they lack (measured: tiny-gated with k = 1e-3 skipped almost nothing in 500 steps, with
   * 1e-2 it reached the ideal (1 − E)/2). Override with --set controller.coef_update_multiplier=…
   */
  controllerGain: number
}

const optimizer = (lr: number) => ({ lr, beta1: 0.8, beta2: 0.95, eps: 1e-10, weight_decay: 0 })

export const SCALES: Record<SweepScale, ScaleSpec> = {
  tiny: {
    scale: 'tiny',
    description: 'byte-level, dim 64, 4 heads, context 64, 16 × 64 tokens per step, 500 steps on the shipped corpus (2-core CPU, < 1 h for the grid)',
    gatedAttention: 'key',
    controllerGain: 1e-2,
    base: {
      model: { dim: 64, n_heads: 4, vocab_size: 257, max_seq_len: 64 },
      training: {
        batch_size: 16,
        grad_acc_steps: 1,
        train_steps: 500,
        val_every: 100,
        val_tokens: 16_384, // the first 256 windows of the validation split, the same for every run
        checkpoint_every: 0,
        keep_checkpoints: 1,
        seed: 0,
      },
      optimizer: optimizer(3e-3), // as the tiny presets: small models tolerate it, and short runs learn visibly
      schedule: { warmup_fraction: 0.1, start_factor: 0.1 },
      data: { dataset: 'default', tokenizer: 'byte' },
    },
  },
  small: {
    scale: 'small',
    description: 'GPT-2 tokenizer, dim 384, 6 heads, context 256, 32 × 256 tokens per step, 2,000 steps on the shipped corpus (a workstation or one GPU)',
    gatedAttention: 'key',
    controllerGain: 5e-3,
    base: {
      model: { dim: 384, n_heads: 6, vocab_size: 50257, max_seq_len: 256 },
      training: {
        batch_size: 32,
        grad_acc_steps: 1,
        train_steps: 2_000,
        val_every: 200,
        val_tokens: 262_144,
        checkpoint_every: 500,
        keep_checkpoints: 2,
        seed: 0,
      },
      optimizer: optimizer(1e-3),
      schedule: { warmup_fraction: 0.1, start_factor: 0.1 },
      data: { dataset: 'default', tokenizer: 'gpt2' },
    },
  },
  paper: {
    scale: 'paper',
    description: 'the published sizes: dim 768, 12 heads, context 1024, GPT-2 vocab, 512 × 1024 tokens per step (32 × 16 accumulated), 19,560 steps on FineWeb-10B (GPUs/clusters)',
    gatedAttention: 'query',
    controllerGain: 1e-3, // the paper's
    base: {
      model: { dim: 768, n_heads: 12, vocab_size: 50257, max_seq_len: 1024 },
      training: {
        batch_size: 32, // per device, as the reference
        grad_acc_steps: 16, // 32 × 16 = 512 sequences = 524,288 tokens per optimizer step (spec B.3)
        train_steps: 19_560,
        val_every: 100,
        val_tokens: 99_876_864, // spec B.5
        checkpoint_every: 500,
        keep_checkpoints: 2,
        seed: 0,
      },
      optimizer: optimizer(1e-3), // spec B.1
      schedule: { warmup_fraction: 0.1, start_factor: 0.1 }, // spec B.2
      data: { dataset: 'fineweb10B-gpt2', tokenizer: 'gpt2' },
    },
  },
}

export interface PaperGridOptions {
  scale?: SweepScale
  /** replicate every point (N seeds 0..N−1, or a list) */
  seeds?: number | readonly number[]
  /** depths of the dense and nocontrol groups (default 2..12 even) */
  depths?: readonly number[]
  /** target ends of the gated group (default the paper's ten) */
  ends?: readonly number[]
  /** which groups (default all three) */
  groups?: readonly PaperGridGroup[]
  /** depth of the gated group (default 12) */
  gatedDepth?: number
  /** dotted path → value, applied to every run last (e.g. { 'training.train_steps': 50, 'engine.engine': 'tfjs' }) */
  set?: Record<string, unknown>
}

export function paperGrid(o: PaperGridOptions = {}): SweepSpec {
  const scale = SCALES[o.scale ?? 'tiny']
  if (!scale) throw new SweepError(`unknown scale "${o.scale}"; use one of ${SWEEP_SCALES.join(', ')}`)
  const groups = o.groups ?? PAPER_GRID_GROUPS
  for (const g of groups) if (!PAPER_GRID_GROUPS.includes(g)) throw new SweepError(`unknown group "${g}"; use any of ${PAPER_GRID_GROUPS.join(', ')}`)
  const depths = o.depths ?? PAPER_DEPTHS
  const ends = o.ends ?? PAPER_TARGET_ENDS
  const gatedDepth = o.gatedDepth ?? PAPER_GATED_DEPTH
  const base = scale.base
  const model = base.model as Record<string, unknown>
  const specs: SweepGroupSpec[] = []
  if (groups.includes('dense'))
    specs.push({
      name: 'dense',
      description: 'dense baselines: zero-initialised masks (g ≡ 1), no controller',
      base: { ...base, model: { ...model, zero_init_masks: true }, controller: { name: 'dummy' } },
      axes: { 'model.n_layers': depths },
    })
  if (groups.includes('nocontrol'))
    specs.push({
      name: 'nocontrol',
      description: 'gated architecture (masks N(0, 0.02²)) with the dummy controller',
      base: { ...base, model: { ...model, zero_init_masks: false, gated_attention: scale.gatedAttention }, controller: { name: 'dummy' } },
      axes: { 'model.n_layers': depths },
    })
  if (groups.includes('gated'))
    specs.push({
      name: 'gated',
      description: `L = ${gatedDepth}, proportional controller (k = ${scale.controllerGain}), mean targets linspace(1, E, L/2) mirrored`,
      base: {
        ...base,
        model: { ...model, n_layers: gatedDepth, zero_init_masks: false, gated_attention: scale.gatedAttention },
        controller: { name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: scale.controllerGain },
      },
      axes: { 'controller.mean_target_end': ends },
    })
  return {
    name: `paper-grid-${scale.scale}`,
    description:
      `the paper's experiment grid at scale ${scale.scale}: ${scale.description}` +
      (o.set && Object.keys(o.set).length ? `; overridden: ${Object.entries(o.set).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}` : ''),
    groups: specs,
    ...(o.seeds !== undefined ? { seeds: o.seeds } : {}),
    ...(o.set ? { set: o.set } : {}),
  }
}

export interface SweepPresetInfo {
  name: string
  description: string
  build: (o: PaperGridOptions) => SweepSpec
}

export const SWEEP_PRESETS: readonly SweepPresetInfo[] = [
  {
    name: 'paper-grid',
    description: "dense L = 2..12, nocontrol L = 2..12, and 12-layer gated runs for ten target ends (the paper's grid)",
    build: paperGrid,
  },
]

export function sweepPreset(name: string, o: PaperGridOptions = {}): SweepSpec {
  const p = SWEEP_PRESETS.find((x) => x.name === name)
  if (!p) throw new SweepError(`unknown sweep preset "${name}"; available: ${SWEEP_PRESETS.map((x) => x.name).join(', ')}`)
  return p.build(o)
}
