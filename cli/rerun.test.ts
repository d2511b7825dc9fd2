// `skipbench runs rerun ID` through real CLI processes, a real SQLite file and real (tiny) CPU training: the re-run
// reproduces the original's metrics bit for bit and says so; `runs show` lists the provenance.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tinyRunConfig } from '../core/store/test-helpers.js'

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/skipbench.mjs', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, SKIPBENCH_DB: '', SKIPBENCH_HOME: '' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('skipbench runs rerun', () => {
  it('re-runs a CPU run and proves its metrics bit-identical', () => {
    const root = mkdtempSync(join(tmpdir(), 'sb-cli-rerun-'))
    const db = join(root, 'sb.db')
    const cfg = join(root, 'tiny.json')
    writeFileSync(cfg, JSON.stringify(tinyRunConfig({ steps: 4, seed: 11 })))
    const { run } = JSON.parse(cli(['queue', 'add', cfg, '--db', db, '--json']).out) as { run: number }
    expect(cli(['worker', '--db', db]).code).toBe(0)

    const r = cli(['runs', 'rerun', String(run), '--db', db, '--json'])
    expect(r.code, r.err).toBe(0)
    const c = JSON.parse(r.out) as { identical: boolean; compared: number; original: number; rerun: number }
    expect(c).toMatchObject({ identical: true, original: run })
    expect(c.compared).toBeGreaterThan(20)
    const text = cli(['runs', 'show', String(c.rerun), '--db', db]).out
    expect(text).toMatch(new RegExp(`rerun of\\s+run ${run}`))
    expect(text).toMatch(/provenance/)
    expect(text).toMatch(/onnxruntime\s+\d+\.\d+/)
    expect(text).toMatch(/data generator\s+synthetic sha256:[0-9a-f]{16}/)
    expect(text).toMatch(/seed\s+11/)

    // the filter language from the CLI
    const w = JSON.parse(cli(['runs', 'list', '--where', `training.seed = 11 and name ~ "rerun" and val.loss > 0`, '--db', db, '--json']).out) as { total: number; rows: { id: number }[] }
    expect(w.rows.map((x) => x.id)).toEqual([c.rerun])
    const g = cli(['runs', 'list', '--where', 'model.n_layers >= 2', '--group-by', 'model.n_layers', '--db', db])
    expect(g.out).toMatch(/^GROUP\s+ID/)
    expect(g.out.split('\n').filter((l) => /^2\s+\d/.test(l))).toHaveLength(2)
    const malformed = cli(['runs', 'list', '--where', 'model.n_layers >=', '--db', db])
    expect(malformed.code).toBe(1)
    expect(malformed.err.trim()).toMatch(/^skipbench: error: expected a value .* at character 18/)
    expect(malformed.err.trim().split('\n')).toHaveLength(1)

    // exports of the stored metrics: TensorBoard event files and long-format CSV
    const tb = JSON.parse(cli(['runs', 'export', `${run},${c.rerun}`, '--format', 'tensorboard', '--out', join(root, 'tb'), '--db', db, '--json']).out) as { files: string[]; values: number }
    expect(tb.files).toHaveLength(2)
    expect(readFileSync(tb.files[0]!).length).toBeGreaterThan(100)
    const csv = JSON.parse(cli(['runs', 'export', String(run), '--format', 'csv', '--out', join(root, 'csv'), '--db', db, '--json']).out) as { files: string[]; values: number }
    expect(readFileSync(csv.files[0]!, 'utf8').trim().split('\n')).toHaveLength(csv.values + 1)
    expect(tb.values).toBe(csv.values * 2) // the re-run stored exactly as many values
    expect(cli(['runs', 'export', String(run), '--format', 'xlsx', '--db', db]).err).toMatch(/--format must be one of tensorboard, csv, parquet/)

    const bad = cli(['runs', 'rerun', '999', '--db', db])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/run 999/)
  }, 120_000)
})
