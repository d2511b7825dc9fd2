// `skipbench queue add` → `skipbench worker` → `skipbench runs list|show|ingest`, through real CLI processes,
// a real SQLite file and real (tiny) training.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tinyRunConfig } from '../core/store/test-helpers.js'

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/skipbench.mjs', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SKIPBENCH_DB: '', SKIPBENCH_HOME: '' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('skipbench queue / worker / runs', () => {
  it('queues a run, drains it headless, lists, shows and re-ingests it idempotently', () => {
    const root = mkdtempSync(join(tmpdir(), 'sb-cli-runs-'))
    const db = join(root, 'sb.db')
    const cfg = join(root, 'tiny.json')
    writeFileSync(cfg, JSON.stringify(tinyRunConfig({ steps: 4 })))

    const q = cli(['queue', 'add', cfg, '--experiment', 'cli-exp', '--name', 'tiny-one', '--tag', 'smoke', '--db', db, '--json'])
    expect(q.err).toBe('')
    const { run, run_dir } = JSON.parse(q.out) as { job: number; run: number; run_dir: string }

    const w = cli(['worker', '--db', db])
    expect(w.code).toBe(0)
    expect(w.out).toMatch(/1 job\(s\) handled, 0 failed/)

    const l = cli(['runs', 'list', '--experiment', 'cli-exp', '--sort', 'val-loss', '--db', db, '--json'])
    const list = JSON.parse(l.out) as { total: number; rows: { id: number; status: string; name: string; summaries: Record<string, { last: number | null }> }[] }
    expect(list.total).toBe(1)
    expect(list.rows[0]).toMatchObject({ id: run, status: 'completed', name: 'tiny-one' })
    expect(list.rows[0]!.summaries['val/loss']!.last).toBeGreaterThan(0)
    expect(cli(['runs', 'list', '--db', db]).out).toMatch(/tiny-one/)

    const s = cli(['runs', 'show', String(run), '--db', db, '--json'])
    const shown = JSON.parse(s.out) as { run: { id: number }; checkpoints: unknown[] }
    expect(shown.run.id).toBe(run)
    expect(shown.checkpoints.length).toBeGreaterThan(0)

    // the worker already ingested the folder: ingesting it again adds no metric or checkpoint, keeps the measured
    // throughput (one definition, in the store), and a second ingest changes nothing at all
    const tpsBefore = (JSON.parse(cli(['runs', 'show', String(run), '--db', db, '--json']).out) as { run: { tokensPerSec: number } }).run.tokensPerSec
    expect(tpsBefore).toBeGreaterThan(0)
    const i = cli(['runs', 'ingest', run_dir, '--db', db, '--json'])
    expect(i.code).toBe(0)
    expect(JSON.parse(i.out)).toMatchObject({ runId: run, created: false, metricsAdded: 0, metricsDiscarded: 0, checkpointsAdded: 0 })
    const after1 = cli(['runs', 'show', String(run), '--db', db, '--json']).out
    expect((JSON.parse(after1) as { run: { tokensPerSec: number } }).run.tokensPerSec).toBe(tpsBefore)
    cli(['runs', 'ingest', run_dir, '--db', db, '--json'])
    expect(cli(['runs', 'show', String(run), '--db', db, '--json']).out).toBe(after1)
    expect((JSON.parse(cli(['runs', 'list', '--db', db, '--json']).out) as { total: number }).total).toBe(1)
  })

  it('gives clear errors', () => {
    const root = mkdtempSync(join(tmpdir(), 'sb-cli-runs-'))
    const db = join(root, 'sb.db')
    const missing = cli(['runs', 'show', '999', '--db', db])
    expect(missing.code).not.toBe(0)
    expect(missing.err).toMatch(/999/)
    expect(missing.err).not.toMatch(/\n\s+at /)
    const bad = join(root, 'bad.json')
    writeFileSync(bad, JSON.stringify({ model: { dim: 16, n_layers: 3, n_heads: 2, zero_init_masks: false }, training: { train_steps: 2 } }))
    const q = cli(['queue', 'add', bad, '--db', db])
    expect(q.code).not.toBe(0)
    expect(q.err).toMatch(/even n_layers/)
  })
})
