/** Benchmark model sizes (kept identical to CONFIGS in torch_baseline.py). */
export const BENCH_CONFIGS = {
  S: { dim: 128, n_layers: 4, n_heads: 4, seq: 128, batch: 8, vocab: 512 },
  M: { dim: 256, n_layers: 8, n_heads: 8, seq: 256, batch: 8, vocab: 50257 },
} as const

export type BenchConfigName = keyof typeof BENCH_CONFIGS
