/**
 * Built-in run presets: small commented RunConfig objects. A config file can start from one with
 * `{ "extends": "tiny-gated", ... }`; the CLI takes `--preset NAME`.
 */
import type { RunConfigInput } from './run.js'

export interface Preset {
  name: string
  description: string
  kind: 'dense' | 'gated'
  config: RunConfigInput
}

/**
 * Shared by the tiny presets: a byte-level model that trains in about a minute on 2 CPU cores with the default
 * (onnxruntime) engine, ~20k tokens/s there; the tfjs WASM backend is ~15× slower.
 */
const tinyModel = {
  dim: 128,
  n_layers: 4,
  n_heads: 4, // head_dim 32
  vocab_size: 257, // byte tokenizer: 256 bytes + EOT 256
  max_seq_len: 128,
}

const tinyTraining = {
  batch_size: 16, // 16 × 128 = 2,048 tokens per step
  grad_acc_steps: 1,
  train_steps: 500, // ≈ 1M tokens, a tenth of the corpus
  val_every: 100,
  val_tokens: 32_768, // the first 256 windows of the validation split, the same every time
  checkpoint_every: 250,
  keep_checkpoints: 2,
  seed: 0,
}

/** 3× the reference lr: tiny models tolerate it, and it makes a 500-step run learn visibly */
const tinyOptimizer = { lr: 3e-3, beta1: 0.8, beta2: 0.95, eps: 1e-10, weight_decay: 0 }

const tinyData = { dataset: 'default', tokenizer: 'byte' as const } // the shipped corpus, byte-level

export const PRESETS: readonly Preset[] = [
  {
    name: 'tiny-dense',
    description: 'Dense 4-layer byte-level baseline (dim 128) on the shipped corpus; about a minute on 2 CPU cores',
    kind: 'dense',
    config: {
      name: 'tiny-dense',
      model: { ...tinyModel, zero_init_masks: true }, // masks zero → g ≡ 1: a dense baseline (spec A.7)
      training: tinyTraining,
      optimizer: tinyOptimizer,
      controller: { name: 'dummy' },
      data: tinyData,
    },
  },
  {
    name: 'tiny-gated',
    description: 'Skip-middle 4-layer byte-level model (dim 128), key-gated attention, proportional controller 1 → 0.5 (skips ~25% of token-layers)',
    kind: 'gated',
    config: {
      name: 'tiny-gated',
      // gated: masks start N(0, 0.02²); "key" = the paper's mechanism, so skipped tokens are hidden from later ones (H.1)
      model: { ...tinyModel, zero_init_masks: false, gated_attention: 'key' },
      training: tinyTraining,
      optimizer: tinyOptimizer,
      // the paper's controller (spec C), targets linspace(1, 0.5, L/2) = [1, 0.5] mirrored; k = 1e-2, 10× the
      // paper's, because this run is 40× shorter: it reaches the ideal skip fraction (1 − 0.5)/2 = 25% by step ~300
      // (measured: 25.3% of (token, layer) pairs skipped at step 500, val loss 1.64; with the paper's k = 1e-3
      // almost nothing is skipped in 500 steps, val loss 1.56)
      controller: { name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: 1e-2 },
      data: tinyData,
    },
  },
  {
    name: 'paper-12l',
    description: "The paper's 12-layer gated run (spec A.1/B/C): dim 768, GPT-2 vocab, proportional controller 1 → 0.5, 19,560 steps of 524,288 tokens",
    kind: 'gated',
    config: {
      name: 'paper-12l',
      model: {
        dim: 768,
        n_layers: 12,
        n_heads: 12,
        vocab_size: 50257,
        max_seq_len: 1024,
        zero_init_masks: false, // gated runs: scripts/train_fineweb_gated_*.sh
        // the released code's (query-indexed, a softmax no-op) gating, so the run reproduces what produced the
        // paper's numbers; use "key" for the mechanism the paper describes (spec A.6, H.1)
        gated_attention: 'query',
      },
      training: {
        batch_size: 32, // per device, as the reference
        grad_acc_steps: 16, // 32 × 16 = 512 sequences = 524,288 tokens per step on one device (4 GPUs × 4 upstream)
        train_steps: 19_560, // ≈ 10.255B tokens, one pass over FineWeb-10B (spec B.3)
        val_every: 100,
        val_tokens: 99_876_864, // 762 steps × 4 ranks × 32 × 1024: the whole set the reference iterates (spec B.5)
        checkpoint_every: 500,
        keep_checkpoints: 2,
        seed: 0,
      },
      optimizer: { lr: 1e-3, beta1: 0.8, beta2: 0.95, eps: 1e-10, weight_decay: 0 }, // spec B.1
      schedule: { warmup_fraction: 0.1, start_factor: 0.1 }, // spec B.2
      controller: { name: 'proportional', mean_target_start: 1, mean_target_end: 0.5, coef_update_multiplier: 1e-3 },
      // FineWeb-10B GPT-2 shards (kjj0/fineweb10B-gpt2) imported as a dataset of this name, or a path/glob to them
      data: { dataset: 'fineweb10B-gpt2', tokenizer: 'gpt2' },
    },
  },
  {
    name: 'paper-baseline-12l',
    description: "The paper's dense 12-layer baseline: as paper-12l with zero-initialised masks (g ≡ 1) and no controller",
    kind: 'dense',
    config: {
      name: 'paper-baseline-12l',
      model: { dim: 768, n_layers: 12, n_heads: 12, vocab_size: 50257, max_seq_len: 1024, zero_init_masks: true },
      training: {
        batch_size: 32,
        grad_acc_steps: 16,
        train_steps: 19_560,
        val_every: 100,
        val_tokens: 99_876_864,
        checkpoint_every: 500,
        keep_checkpoints: 2,
        seed: 0,
      },
      optimizer: { lr: 1e-3, beta1: 0.8, beta2: 0.95, eps: 1e-10, weight_decay: 0 },
      schedule: { warmup_fraction: 0.1, start_factor: 0.1 },
      controller: { name: 'dummy' }, // scripts/train_fineweb_baseline_*.sh
      data: { dataset: 'fineweb10B-gpt2', tokenizer: 'gpt2' },
    },
  },
]

export function getPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name)
}

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name)
}
