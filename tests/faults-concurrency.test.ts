/**
 * Fault suite, class "concurrency": a heavy request must not block the server (issue 12, item 5). Measured as
 * ratios on the same machine in one run, never absolute times: while a previewReport of a large experiment runs,
 * trivial requests are answered in a small fraction of the heavy request's time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedSyntheticExperiment } from '../core/report-export/synthetic.js'
import { startServer, type RunningServer } from '../core/server/server.js'
import { openStore } from '../core/store/store.js'
import { tempDir, type TempDir } from '../core/store/test-helpers.js'

const RUNS = 200

let tmp: TempDir
let srv: RunningServer
let experimentId: number
beforeAll(async () => {
  tmp = tempDir('sb-fconc-')
  const db = tmp.file('data/skipbench.db')
  const s = openStore(db)
  seedSyntheticExperiment(s, { experiment: 'big', runs: RUNS, steps: 40, validations: 4 })
  experimentId = s.experiments.list().find((e) => e.name === 'big')!.id
  s.close()
  srv = await startServer({ dataDir: tmp.file('data') })
})
afterAll(async () => {
  await srv.close()
  tmp.cleanup()
})

const post = async (method: string, body: unknown) => {
  const t0 = performance.now()
  const r = await fetch(`${srv.url}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = (await r.json()) as { value?: unknown; error?: string }
  return { ms: performance.now() - t0, status: r.status, json }
}

describe('heavy requests do not block the server (item 5)', () => {
  it(`[concurrency] trivial requests sent while a ${RUNS}-run previewReport runs are answered in a small fraction of its time`, async () => {
    const alone = await post('getAppInfo', {}) // warm: the first request compiles routes and validators
    expect(alone.status).toBe(200)
    // the heavy request, with trivial requests every 10 ms while it runs
    let done = false
    const heavy = post('previewReport', { experimentId }).finally(() => (done = true))
    const trivial: number[] = []
    await new Promise((r) => setTimeout(r, 20))
    while (!done) {
      const t = await post('getAppInfo', {})
      expect(t.status).toBe(200)
      if (!done) trivial.push(t.ms)
      await new Promise((r) => setTimeout(r, 10))
    }
    const h = await heavy
    expect(h.status, h.json.error).toBe(200)
    expect(String((h.json.value as { html: string }).html)).toContain('<html')
    expect(trivial.length).toBeGreaterThanOrEqual(3) // answered many times during one heavy request
    const worst = Math.max(...trivial)
    // blocked, the first trivial request would wait for (most of) the heavy one: worst / heavy ≈ 1
    console.log(`item 5: ${trivial.length} trivial requests during one ${RUNS}-run previewReport of ${h.ms.toFixed(0)} ms; worst ${worst.toFixed(0)} ms, median ${trivial.sort((a, b) => a - b)[trivial.length >> 1]!.toFixed(0)} ms; worst/heavy ${(worst / h.ms).toFixed(3)}`)
    expect(worst / h.ms, `worst trivial ${worst.toFixed(0)} ms vs heavy ${h.ms.toFixed(0)} ms`).toBeLessThan(0.25)
  })
})
