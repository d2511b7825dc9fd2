import { appendFileSync, cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseRunConfig } from '../config/index.js'
import { prepareRun } from '../trainer/run.js'
import { IngestError } from './errors.js'
import { ingestRunFolder, readMetricsFile } from './ingest.js'
import { openStore, type Store } from './store.js'
import { tempDir, tinyRunConfig, type TempDir } from './test-helpers.js'

let tmp: TempDir
let store: Store
beforeEach(() => {
  tmp = tempDir()
  store = openStore(tmp.file('s.db'))
})
afterEach(() => {
  store.close()
  tmp.cleanup()
})

/** Train a tiny run with the real trainer; optionally stop (cancel) after a given step event, or resume. */
async function train(runDir: string, opts: { cancelAfterStep?: number; resumeFrom?: string; lr?: number; steps?: number } = {}) {
  const config = parseRunConfig(tinyRunConfig({ lr: opts.lr, steps: opts.steps }))
  const ac = new AbortController()
  const p = await prepareRun({ config, runDir, signal: ac.signal, ...(opts.resumeFrom ? { resumeFrom: opts.resumeFrom } : {}) })
  if (opts.cancelAfterStep !== undefined) p.trainer.on('step', (e) => e.step === opts.cancelAfterStep && ac.abort())
  try {
    return await p.trainer.run()
  } finally {
    await p.close()
  }
}

const metricRows = (dir: string) => readMetricsFile(join(dir, 'metrics.jsonl')).points.length

describe('ingestRunFolder', () => {
  it('ingests a real run folder completely, and a second time adds nothing', async () => {
    const dir = join(tmp.path, 'run')
    await train(dir)
    const r = ingestRunFolder(store, dir)
    expect(r).toMatchObject({ created: true, skippedLines: 0, checkpointsAdded: 3, checkpointsInvalid: 0, metricsDiscarded: 0 })
    expect(r.metricsAdded).toBe(metricRows(dir))
    expect(r.metricLines).toBe(6 + 4) // 6 steps, validations at 0, 2, 4, 6
    const run = store.runs.get(r.runId)!
    expect(run).toMatchObject({ kind: 'gated', status: 'completed', dataset: 'synthetic', runDir: dir, lastStep: 6, seed: 0, name: 'tiny' })
    expect(run.engine === 'ort' || run.engine === 'tfjs').toBe(true)
    expect(run.tokensPerSec).toBeGreaterThan(0)
    expect(run.config).toMatchObject({ model: { dim: 16 }, training: { train_steps: 6 } })
    expect(store.metrics.steps(r.runId, 'train/loss')).toEqual([0, 1, 2, 3, 4, 5])
    expect(store.metrics.steps(r.runId, 'val/loss')).toEqual([0, 2, 4, 6])
    expect(store.metrics.steps(r.runId, 'train/tokens')).toEqual([0, 1, 2, 3, 4, 5])
    expect(store.checkpoints.list(r.runId).map((c) => [c.step, c.final])).toEqual([
      [2, false],
      [4, false],
      [6, true],
    ])
    const updated = run.updatedAt
    const again = ingestRunFolder(store, dir)
    expect(again).toMatchObject({ runId: r.runId, created: false, metricsAdded: 0, checkpointsAdded: 0, checkpointsInvalid: 0, metricsDiscarded: 0 })
    expect(store.runs.get(r.runId)!.updatedAt).toBe(updated)
    // moving the folder keeps the identity
    const moved = join(tmp.path, 'moved')
    cpSync(dir, moved, { recursive: true })
    const m = ingestRunFolder(store, moved)
    expect(m).toMatchObject({ runId: r.runId, created: false, metricsAdded: 0 })
    expect(store.runs.get(r.runId)!.runDir).toBe(moved)
  })

  it('ingests a partial folder (a line cut short, no final checkpoint), then the rest', async () => {
    const dir = join(tmp.path, 'run')
    await train(dir)
    const full = join(tmp.path, 'full')
    cpSync(dir, full, { recursive: true })
    const text = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    const cut = text.lastIndexOf('\n', text.length - 2) + 20 // 20 bytes into the last line
    truncateSync(join(dir, 'metrics.jsonl'), cut)
    rmSync(join(dir, 'final'), { recursive: true })
    const r = ingestRunFolder(store, dir)
    expect(r.skippedLines).toBe(1)
    expect(r.warnings.join()).toMatch(/cut short/)
    expect(r.checkpointsAdded).toBe(2)
    const n = store.metrics.count(r.runId)
    expect(n).toBeLessThan(metricRows(full))
    const rest = ingestRunFolder(store, full)
    expect(rest.runId).toBe(r.runId)
    expect(rest.metricsAdded).toBe(metricRows(full) - n)
    expect(store.metrics.count(r.runId)).toBe(metricRows(full))
  })

  it('a folder resumed elsewhere replaces the abandoned timeline after the resume point, nothing before it', async () => {
    const dir = join(tmp.path, 'run')
    await train(dir) // 6 steps; checkpoints at 2, 4
    const first = ingestRunFolder(store, dir)
    const before = store.metrics.series(first.runId, 'train/loss', { maxPoints: 0 })
    // resume from step 2 with another learning rate: steps 2.. differ
    await train(dir, { resumeFrom: join(dir, 'checkpoints', 'step-000002'), lr: 5e-2 })
    const r = ingestRunFolder(store, dir)
    expect(r.runId).toBe(first.runId)
    expect(r.metricsDiscarded).toBeGreaterThan(0)
    const after = store.metrics.series(first.runId, 'train/loss', { maxPoints: 0 })
    expect(after.steps).toEqual([0, 1, 2, 3, 4, 5])
    expect(after.values.slice(0, 2)).toEqual(before.values.slice(0, 2))
    expect(after.values[3]).not.toBe(before.values[3])
    const file = readMetricsFile(join(dir, 'metrics.jsonl')).points.filter((p) => p.key === 'train/loss')
    expect(after.values).toEqual(file.map((p) => p.value))
    expect(store.metrics.count(first.runId)).toBe(metricRows(dir))
    expect(ingestRunFolder(store, dir)).toMatchObject({ metricsAdded: 0, metricsDiscarded: 0 })
  })

  it('refuses a folder without run.json, with a reason', () => {
    writeFileSync(tmp.file('metrics.jsonl'), '')
    expect(() => ingestRunFolder(store, tmp.path)).toThrow(IngestError)
    expect(() => ingestRunFolder(store, tmp.path)).toThrow(/no run\.json/)
    expect(() => ingestRunFolder(store, join(tmp.path, 'nope'))).toThrow(/no such run folder/)
  })

  it('marks a corrupt checkpoint invalid with the reason', async () => {
    const dir = join(tmp.path, 'run')
    await train(dir)
    truncateSync(join(dir, 'checkpoints', 'step-000004', 'model.safetensors'), 100)
    appendFileSync(join(dir, 'metrics.jsonl'), 'not json\n')
    const r = ingestRunFolder(store, dir)
    expect(r.checkpointsInvalid).toBe(1)
    const bad = store.checkpoints.list(r.runId).find((c) => c.step === 4)!
    expect(bad.valid).toBe(false)
    expect(bad.problem).toMatch(/model\.safetensors/)
    expect(store.checkpoints.latestValid(r.runId, 5)!.step).toBe(2)
  })
})
