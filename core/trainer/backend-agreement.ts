/**
 * Backend agreement: train the same run (preset config, same data, same seed, controller in the loop) on two
 * onnxruntime providers side by side and compare the per-step losses. Used by the WebGPU tests (micro shapes on
 * lavapipe), `scripts/check-webgpu.ts` (the full tiny presets) and `npm run bench:gpu` (20-step check).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getPreset, mergeConfig, parseRunConfig, type RunConfigInput } from '../config/index.js'
import { prepareRun } from './run.js'

export interface AgreementOptions {
  preset: string
  /** merged over the preset's config (e.g. smaller model / batch for CI) */
  overrides?: RunConfigInput | Record<string, unknown>
  steps: number
  backends: [string, string]
  /** where the shipped corpus is imported (shared between calls to import once) */
  dataDir: string
  threads?: number
}

export interface Trajectory {
  backend: string
  /** the engine's own record of what ran (backend, adapter, …) */
  engineInfo: Record<string, unknown>
  loss: number[]
  /** wall seconds for all steps (first step includes session creation) */
  seconds: number
}

export interface Agreement {
  preset: string
  steps: number
  runs: [Trajectory, Trajectory]
  /** |Δloss| per step */
  diffs: number[]
  maxDiff: number
}

async function trainTrajectory(o: AgreementOptions, backend: string): Promise<Trajectory> {
  const p = getPreset(o.preset)
  if (!p) throw new Error(`unknown preset ${o.preset}`)
  const base = mergeConfig<Record<string, unknown>>(structuredClone(p.config) as Record<string, unknown>, o.overrides ?? {})
  const training = { ...(base.training as Record<string, unknown>), train_steps: o.steps, val_every: o.steps, checkpoint_every: 0 }
  const config = parseRunConfig({ ...base, training })
  const runDir = mkdtempSync(join(tmpdir(), `sb-agree-${backend}-`))
  const run = await prepareRun({
    config,
    runDir,
    dataDir: o.dataDir,
    engine: { engine: 'ort', backend, ...(o.threads !== undefined ? { threads: o.threads } : {}) },
  })
  const loss: number[] = []
  run.trainer.on('step', (e: { loss: number }) => loss.push(e.loss))
  const t0 = performance.now()
  try {
    await run.trainer.run()
  } finally {
    await run.close()
    rmSync(runDir, { recursive: true, force: true })
  }
  return { backend, engineInfo: { ...run.engine.info }, loss, seconds: (performance.now() - t0) / 1000 }
}

export async function compareBackends(o: AgreementOptions): Promise<Agreement> {
  const a = await trainTrajectory(o, o.backends[0])
  const b = await trainTrajectory(o, o.backends[1])
  const n = Math.min(a.loss.length, b.loss.length)
  const diffs = Array.from({ length: n }, (_, i) => Math.abs(a.loss[i]! - b.loss[i]!))
  return { preset: o.preset, steps: o.steps, runs: [a, b], diffs, maxDiff: n === 0 ? Infinity : Math.max(...diffs) }
}
