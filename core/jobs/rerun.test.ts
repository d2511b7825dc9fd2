// "Re-run exactly": two real tiny CPU trainings of one stored config give bit-identical metrics, and the comparison
// notices a difference of one ulp in one value, a missing value and a moved step.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ingestRunFolder } from '../store/ingest.js'
import { openStore, type Store } from '../store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../store/test-helpers.js'
import { prepareRun } from '../trainer/run.js'
import { compareRunMetrics, formatRerunComparison, queueRerun } from './rerun.js'
import { parseRunConfig, runConfigToJson } from '../config/index.js'

let dir: TempDir
let store: Store
afterEach(() => {
  store?.close()
  dir?.cleanup()
})

async function trainInto(runDir: string, config: unknown) {
  const p = await prepareRun({ config: parseRunConfig(config), runDir })
  try {
    await p.trainer.run()
  } finally {
    await p.close()
  }
}

describe('re-run exactly', () => {
  it('reproduces a CPU run bit for bit, records provenance, and says when a value differs', async () => {
    dir = tempDir('sb-rerun-')
    store = openStore(dir.file('sb.db'))
    const cfg = tinyRunConfig({ steps: 5, gated: true, seed: 7 })
    await trainInto(join(dir.path, 'a'), cfg)
    const a = ingestRunFolder(store, join(dir.path, 'a')).runId

    // the stored run carries its provenance, and its resolved config re-runs it
    const orig = store.runs.require(a)
    expect(orig.provenance).toMatchObject({ format: 1, seed: 7, node: process.versions.node, onnxruntime: expect.any(String) })
    expect((orig.provenance.datasets as { sha256: string }[])[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect((orig.provenance.cpu as { cores: number }).cores).toBeGreaterThan(0)
    await trainInto(join(dir.path, 'b'), orig.config)
    const b = ingestRunFolder(store, join(dir.path, 'b')).runId

    const c = compareRunMetrics(store, a, b)
    expect(c.identical).toBe(true)
    expect(c.mismatchCount).toBe(0)
    // every step line and validation of every non-timing key
    expect(c.compared).toBeGreaterThan(5 * 5)
    expect(c.ignoredKeys).toEqual(expect.arrayContaining(['sys/cpu_percent', 'sys/rss_mb', 'train/tokens_per_sec']))
    expect(formatRerunComparison(c)).toMatch(/bit for bit/)

    // one ulp in one value is a difference
    const key = store.metrics.existingKeyId('train/loss')!
    const v = store.db.prepare('SELECT value FROM metrics WHERE run_id = ? AND key_id = ? AND step = 3').pluck().get(b, key) as number
    const buf = new Float64Array([v])
    new BigInt64Array(buf.buffer)[0]! += 1n
    store.db.prepare('UPDATE metrics SET value = ? WHERE run_id = ? AND key_id = ? AND step = 3').run(buf[0], b, key)
    const d = compareRunMetrics(store, a, b)
    expect(d.identical).toBe(false)
    expect(d.mismatches).toEqual([{ key: 'train/loss', step: 3, original: v, rerun: buf[0] }])
    expect(formatRerunComparison(d)).toMatch(/DIFFERS.*train\/loss at step 3/)

    // a value present in one run only is a difference too
    store.db.prepare('DELETE FROM metrics WHERE run_id = ? AND key_id = ? AND step = 4').run(b, key)
    expect(compareRunMetrics(store, a, b).mismatchCount).toBe(2)
  }, 60_000)

  it('queues a re-run with the same config, experiment and tags, linked to the original', () => {
    dir = tempDir('sb-rerun-')
    store = openStore(dir.file('sb.db'))
    const exp = store.experiments.ensure('e')
    const orig = store.runs.create({ name: 'r', kind: 'gated', config: runConfigToJson(parseRunConfig(tinyRunConfig({ seed: 3 }))) as never, experimentId: exp.id, tags: ['baseline'] })
    const { run, job } = queueRerun(store, orig.id, join(dir.path, 'runs'))
    expect(run.rerunOf).toBe(orig.id)
    expect(run.experimentId).toBe(exp.id)
    expect(run.tags).toEqual(['baseline'])
    expect((run.config.training as { seed: number }).seed).toBe(3)
    expect(job.kind).toBe('train')
    const bare = store.runs.create({ name: 'x', kind: 'dense', config: {} })
    expect(() => queueRerun(store, bare.id, dir.path)).toThrow(/no stored config/)
    // the stored config is checked, never re-defaulted: one that lacks resolved fields is refused, naming them
    const partial = store.runs.create({ name: 'p', kind: 'gated', config: tinyRunConfig({ seed: 3 }) as never })
    expect(() => queueRerun(store, partial.id, dir.path)).toThrow(/schedule: missing or not resolved/)
  })
})
