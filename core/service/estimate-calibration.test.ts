/**
 * Issue 17, acceptance: on a fresh database the time estimate of the tiny preset is within 2× of the measured time.
 * A real service on an empty folder calibrates this machine in the background on first start (the CLI sweep's own
 * calibration); meanwhile the estimate says so and is a wide range. Then the tiny preset (shortened to 20 steps and 8,192
 * validation tokens so the test stays fast, on synthetic tokens so no corpus has to be prepared; same model, batch and context) is
 * estimated, trained for real through the job queue, and the two times are compared as a ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiHandlers, ServerEvent } from '../contract/api.js'
import { getPreset } from '../config/index.js'
import { secondsRange } from './calibration.js'
import { createService, type Service } from './service.js'

let dir: string
let svc: Service
let h: ApiHandlers
const events: ServerEvent[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-cal-'))
  svc = await createService({ transport: 'http', dataDir: dir, throttleMs: 200, calibrateOnStart: true })
  h = svc.handlers
  svc.on((e) => events.push(e))
})
afterAll(async () => {
  await svc?.close()
  rmSync(dir, { recursive: true, force: true })
})

const preset = getPreset('tiny-gated')!.config as Record<string, unknown>
const tinyShort = {
  ...preset,
  name: 'tiny-gated-short',
  training: { ...(preset['training'] as object), train_steps: 20, val_every: 10, val_tokens: 8192, checkpoint_every: 0 },
  data: { dataset: 'synthetic', synthetic: { train_tokens: 200_000, val_tokens: 40_000 } },
}

describe('estimates on a fresh database', () => {
  it('calibrates in the background on first start; the estimate of the tiny preset is then within 2× of a real run', async () => {
    const before = await h.validateConfig({ config: tinyShort })
    expect(before.ok).toBe(true)
    expect(before.estimate!.throughput).toMatchObject({ source: 'default', calibrating: true })
    // while it is a guess, the range is wide and contains the point estimate
    const [lo0, hi0] = before.estimate!.secondsRange
    expect(lo0).toBeLessThan(before.estimate!.seconds)
    expect(hi0).toBeGreaterThan(before.estimate!.seconds)

    await svc.calibration()
    const after = await h.validateConfig({ config: tinyShort })
    expect(after.estimate!.throughput).toMatchObject({ source: 'calibrated', calibrating: false, runs: 2 })
    expect(after.estimate!.secondsRange).toEqual(secondsRange(after.estimate!.seconds, 'calibrated'))
    const estimated = after.estimate!.seconds

    const t0 = performance.now()
    const { runId } = await h.startRun({ config: tinyShort, experimentId: null, name: 'tiny-gated-short', tags: [] })
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        const s = events.find((e) => e.type === 'run-status' && e.runId === runId && ['completed', 'failed', 'cancelled'].includes(e.status))
        if (!s || s.type !== 'run-status') return
        clearInterval(t)
        if (s.status === 'completed') resolve()
        else reject(new Error(`the run ended ${s.status}: ${s.error ?? ''}`))
      }, 100)
    })
    const measured = (performance.now() - t0) / 1000
    const ratio = estimated / measured
    console.log(`tiny preset (20 steps): estimated ${estimated.toFixed(1)} s, measured ${measured.toFixed(1)} s, ratio ${ratio.toFixed(2)}`)
    expect(ratio).toBeGreaterThan(0.5)
    expect(ratio).toBeLessThan(2)
  }, 240_000)
})
