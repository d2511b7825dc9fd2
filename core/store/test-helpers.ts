/** Helpers for the store's and the job runner's tests: real database files in fresh temporary folders. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDir {
  path: string
  file(name: string): string
  cleanup(): void
}

export function tempDir(prefix = 'skipbench-store-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, file: (name) => join(path, name), cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** A tiny run config (dim 16, 2 layers, synthetic data): a few steps take well under a second on 2 cores. */
export function tinyRunConfig(over: { steps?: number; gated?: boolean; checkpointEvery?: number; valEvery?: number; lr?: number; keep?: number; seed?: number } = {}) {
  return {
    name: 'tiny',
    model: { dim: 16, n_layers: 2, n_heads: 2, vocab_size: 32, max_seq_len: 16, zero_init_masks: !(over.gated ?? true), gated_attention: 'key' as const },
    training: {
      batch_size: 2,
      train_steps: over.steps ?? 6,
      val_every: over.valEvery ?? 2,
      val_tokens: 64,
      checkpoint_every: over.checkpointEvery ?? 2,
      keep_checkpoints: over.keep ?? 0,
      seed: over.seed ?? 0,
    },
    optimizer: { lr: over.lr ?? 1e-3 },
    data: { dataset: 'synthetic', synthetic: { train_tokens: 4096, val_tokens: 512 } },
  }
}
