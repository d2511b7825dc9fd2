/** Shared by the job runner's tests: series checks and an uninterrupted reference run. */
import { expect } from 'vitest'
import type { Store } from '../store/store.js'
import { parseRunConfig } from '../config/index.js'
import { prepareRun } from '../trainer/run.js'

/** Every training step 0..T−1 exactly once for every training key, validations at `valSteps`, nothing else. */
export function expectCompleteRun(store: Store, runId: number, T: number, valSteps: number[]): void {
  const steps = Array.from({ length: T }, (_, i) => i)
  expect(store.metrics.steps(runId, 'train/loss')).toEqual(steps)
  expect(store.metrics.steps(runId, 'val/loss')).toEqual(valSteps)
  const perKey = store.db
    .prepare(`SELECT k.key, count(*) AS n, count(DISTINCT m.step) AS d, min(m.step) AS lo, max(m.step) AS hi FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? GROUP BY k.key`)
    .all(runId) as { key: string; n: number; d: number; lo: number; hi: number }[]
  for (const r of perKey) {
    if (r.key.startsWith('val/')) expect({ key: r.key, n: r.n }).toEqual({ key: r.key, n: valSteps.length })
    else expect({ key: r.key, n: r.n, lo: r.lo, hi: r.hi }).toEqual({ key: r.key, n: T, lo: 0, hi: T - 1 })
  }
  // summaries agree with the rows
  for (const s of store.metrics.summaries(runId)) expect(s.count).toBe(perKey.find((r) => r.key === s.key)!.n)
}

export function expectConsistentDb(store: Store): void {
  expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok')
  expect(store.db.pragma('foreign_key_check')).toEqual([])
}

/** train/loss of an uninterrupted run of the same config, in this process (the reference for resumed runs). */
export async function referenceLosses(config: unknown, runDir: string): Promise<{ train: number[]; val: number[] }> {
  const p = await prepareRun({ config: parseRunConfig(config), runDir })
  const train: number[] = []
  const val: number[] = []
  p.trainer.on('step', (e) => train.push(e.loss))
  p.trainer.on('validation', (e) => val.push(e.loss))
  try {
    await p.trainer.run()
  } finally {
    await p.close()
  }
  return { train, val }
}

export function expectClose(actual: number[], expected: number[], rel = 1e-5): void {
  expect(actual).toHaveLength(expected.length)
  actual.forEach((a, i) => {
    const e = expected[i]!
    if (Math.abs(a - e) > rel * Math.max(1, Math.abs(e))) expect.fail(`value ${i}: ${a} vs reference ${e}`)
  })
}
