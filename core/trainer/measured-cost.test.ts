/**
 * Measured evaluation cost as an x-axis (issue 15): a key-gated checkpoint is timed with hard skipping, a dense one
 * with the dense evaluation, on the same engine; results are cached per checkpoint and machine; the comparison plots
 * them, states the machine and engine, and excludes runs measured elsewhere or not at all.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { compareRuns } from '../analysis/index.js'
import { saveModelCheckpoint } from '../checkpoint/index.js'
import { Comparison } from '../contract/analysis.js'
import { writeShard } from '../data/shard.js'
import { parseModelConfig } from '../model/config.js'
import { initWeights } from '../model/init.js'
import { paretoChartOption } from '../report/charts.js'
import { Rng } from '../util/rng.js'
import { latestMeasuredCost, MEASURED_COST_FILE, measureCheckpointCost, thisMachine } from './measured-cost.js'
import { measuredCostRuns } from '../analysis/test-support.js'

const tmp = mkdtempSync(join(tmpdir(), 'sb-measured-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function checkpoint(name: string, gated: boolean) {
  const config = parseModelConfig({ dim: 32, n_layers: 4, n_heads: 4, vocab_size: 64, max_seq_len: 32, zero_init_masks: !gated, gated_attention: 'key' })
  const w = initWeights(config, 7)
  if (gated) {
    const rng = new Rng(11)
    for (let j = 0; j < 2; j++) {
      w.get(`masks.${j}.linear.bias`)![0] = 0.45
      const m = w.get(`masks.${j}.linear.weight`)!
      for (let i = 0; i < m.length; i++) m[i] = rng.normal() * 0.15
    }
  }
  const dir = join(tmp, name)
  mkdirSync(dir)
  saveModelCheckpoint(dir, config, w)
  return dir
}
const shard = join(tmp, 'val.bin')
const rng = new Rng(3)
writeShard(shard, Uint16Array.from({ length: 32 * 8 + 1 }, () => Math.floor(rng.uniform() * 64)))

describe('measured evaluation cost', () => {
  it('times key-gated checkpoints with hard skipping and dense ones densely; caches per checkpoint and machine', async () => {
    const g = checkpoint('gated', true)
    const d = checkpoint('dense', false)
    const engine = { engine: 'ort' as const, threads: 1 }
    const mg = await measureCheckpointCost({ checkpoint: g, data: shard, maxTokens: 128, batchSize: 2, engine })
    expect(mg.mode).toBe('hard-skip')
    expect(mg.zeroFraction).toBeGreaterThan(0.2)
    expect(mg.secondsPerToken).toBeGreaterThan(0)
    expect(mg.denseSecondsPerToken).toBeGreaterThan(0)
    expect(mg.tokens).toBe(128)
    expect(mg.engine).toBe('ort')
    expect(mg.machine.id).toBe(thisMachine().id)
    const md = await measureCheckpointCost({ checkpoint: d, data: shard, maxTokens: 128, batchSize: 2, engine })
    expect(md.mode).toBe('dense')
    expect(md.zeroFraction).toBe(0)
    // cached: the same settings return the stored entry; refresh measures again; other settings add an entry
    expect(await measureCheckpointCost({ checkpoint: g, data: shard, maxTokens: 128, batchSize: 2, engine })).toEqual(mg)
    const again = await measureCheckpointCost({ checkpoint: g, data: shard, maxTokens: 128, batchSize: 2, engine, refresh: true })
    expect(again.measuredAt >= mg.measuredAt).toBe(true)
    await measureCheckpointCost({ checkpoint: g, data: shard, maxTokens: 64, batchSize: 2, engine })
    const file = JSON.parse(readFileSync(join(g, MEASURED_COST_FILE), 'utf8')) as { entries: unknown[] }
    expect(file.entries.length).toBe(2)
    expect(latestMeasuredCost(g)!.tokens).toBe(64)
    expect(latestMeasuredCost(g, { machine: { id: 'another-machine', label: 'x' } })).toBeNull()
  })

  it('compare with flopsKind "measured": plots measured times, states machine and engine, excludes the unmeasured', () => {
    const runs = measuredCostRuns()
    const c = compareRuns(runs, { estimator: 'paper', flopsKind: 'measured' })
    expect(c.measuredOn).toBe('machine A; ort ort-cpu')
    expect(c.gated.map((x) => x.id)).toEqual(['g8'])
    expect(c.gated[0]!.flops).toBe(5e-5) // the measured time, not FLOPs
    expect(c.gated[0]!.atEqualFlops.gap).toBeLessThan(0) // 2.45 nats at 50 µs/token beats dense interpolated there
    expect(c.excluded.find((e) => e.id === 'g4')!.reason).toMatch(/no measured evaluation cost/)
    expect(c.excluded.find((e) => e.id === 'g6')!.reason).toMatch(/machine B.*not comparable/)
    expect(c.verdict.text).not.toMatch(/inference FLOPs|training FLOPs/)
    expect(Comparison.parse(JSON.parse(JSON.stringify(c))).flopsKind).toBe('measured')
    const chart = paretoChartOption(c) as { xAxis: { name: string }; title: { subtext: string } }
    expect(chart.xAxis.name).toMatch(/measured evaluation time/)
    expect(chart.title.subtext).toMatch(/machine A; ort ort-cpu/)
  })
})
