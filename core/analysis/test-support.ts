/**
 * Test-only fixtures for the comparison (production code may not import this file; lint-enforced).
 */

/**
 * Six stored-run records for a comparison on measured evaluation time: dense L = 2, 4, 8 and gated L = 8 measured on
 * "machine A", gated L = 4 not measured, gated L = 6 measured on "machine B".
 */
export function measuredCostRuns() {
  const base = { dim: 32, n_heads: 4, vocab_size: 64, max_seq_len: 32 }
  const run = (id: string, L: number, gated: boolean, loss: number, cost: number | null, on = 'machine A; ort ort-cpu') => ({
    id,
    kind: gated ? 'gated' : 'dense',
    config: { ...base, n_layers: L, zero_init_masks: !gated, gated_attention: 'key' },
    seed: 0,
    valLoss: loss,
    valTokens: 4096,
    dataset: 'd',
    tokenizer: 'byte',
    estimator: 'paper',
    inferenceFlops: 1e9 * L,
    trainingFlops: 1e12 * L,
    zeroFraction: gated ? 0.3 : null,
    measuredCost: cost,
    ...(cost !== null ? { measuredOn: on } : {}),
  })
  return [run('d2', 2, false, 3.0, 2e-5), run('d4', 4, false, 2.6, 4e-5), run('d8', 8, false, 2.3, 8e-5), run('g8', 8, true, 2.45, 5e-5), run('g4', 4, true, 2.7, null), run('g6', 6, true, 2.5, 3e-5, 'machine B; ort ort-cpu')]
}
