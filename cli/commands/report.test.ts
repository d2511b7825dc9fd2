// `skipbench report` argument handling and user errors, on a real store with synthetic stored runs (no training).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { escapeHtml, escapeLatex } from '../../core/report/index.js'
import { parseCsv } from '../../core/report/test-support.js'
import { seedSyntheticExperiment } from '../../core/report-export/synthetic.js'
import { openStore } from '../../core/store/index.js'
import { tempDir } from '../../core/store/test-helpers.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'skipbench.mjs')
const tmp = tempDir('skipbench-report-cli-')
const db = tmp.file('skipbench.db')
let runIds: number[] = []

const sb = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SKIPBENCH_DB: '', ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

beforeAll(() => {
  const store = openStore(db)
  runIds = seedSyntheticExperiment(store, { experiment: 'small', runs: 8, steps: 10 }).runIds
  store.close()
})
afterAll(() => tmp.cleanup())

describe('skipbench report', () => {
  it('writes the requested formats and prints their paths', () => {
    const out = tmp.file('r1')
    const r = sb(['report', '--experiment', 'small', '--db', db, '--format', 'csv,json,md', '--out', out])
    expect(r.stderr).toMatch(/^report of 8 runs in \d+\.\d s: /)
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.slice(0, 5)).toEqual([join(out, 'report.json'), join(out, 'runs.csv'), join(out, 'series.csv'), join(out, 'verdict.csv'), join(out, 'report.md')])
    expect(lines).toContain(`${join(out, 'figures')}/ (6 figure files: svg)`)
    expect(lines).toContain(`${join(out, 'configs')}/ (8 run configs)`)
    for (const l of lines.slice(0, 5)) expect(existsSync(l)).toBe(true)
    // every format carries the same verdict, reasons and next steps
    const v = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { comparisons: { paper: { inference: { verdict: { conclusive: boolean; text: string; reasons: string[]; nextSteps: string[] } } } } }).comparisons.paper.inference.verdict
    expect(r.stderr).toContain(v.text)
    expect(v.reasons.length).toBeGreaterThan(0)
    const csv = parseCsv(readFileSync(join(out, 'verdict.csv'), 'utf8')).filter((row) => row[0] === 'paper' && row[1] === 'inference')
    expect(csv.find((row) => row[2] === 'conclusive')![4]).toBe(String(v.conclusive))
    expect(csv.find((row) => row[2] === 'headline')![4]).toBe(v.text)
    expect(csv.filter((row) => row[2] === 'reason').map((row) => row[4])).toEqual(v.reasons)
    expect(csv.filter((row) => row[2] === 'next_step').map((row) => row[4])).toEqual(v.nextSteps)
    expect(csv.filter((row) => row[2] === 'fairness').map((row) => row[3])).toEqual(['training tokens', 'LR schedule', 'dataset and tokenizer', 'evaluation set'])
    const md = readFileSync(join(out, 'report.md'), 'utf8')
    expect(md).toContain(v.text)
    for (const reason of v.reasons) expect(md).toContain(`- ${reason}`)
    for (const step of v.nextSteps) expect(md).toContain(`- ${step}`)
    expect(md).toContain('**Fairness checks**')
  })

  it('HTML and LaTeX show the same verdict, reasons, next steps and fairness checks as report.json', () => {
    const out = tmp.file('r-verdict')
    const r = sb(['report', '--experiment', 'small', '--db', db, '--format', 'html,tex,json', '--out', out])
    expect(r.code, r.stderr).toBe(0)
    const v = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { comparisons: { paper: { inference: { verdict: { conclusive: boolean; text: string; reasons: string[]; nextSteps: string[] } } } } }).comparisons.paper.inference.verdict
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    expect(html).toContain(`data-conclusive="${v.conclusive}"`)
    for (const t of [v.text, ...v.reasons, ...v.nextSteps]) expect(html).toContain(escapeHtml(t))
    expect(html).toContain('<h3>Fairness checks</h3>')
    const tex = readFileSync(join(out, 'report.tex'), 'utf8')
    expect(tex).toContain(escapeLatex(v.text))
    for (const t of v.reasons) expect(tex).toContain(`\\item ${escapeLatex(t)}`)
    expect(tex).toContain('Fairness check')
  })

  it('takes a subset of runs, the corrected estimator and --json', () => {
    const out = tmp.file('r2')
    const r = sb(['report', '--experiment', 'small', '--runs', runIds.slice(0, 4).join(','), '--estimator', 'corrected', '--format', 'json', '--out', out, '--db', db, '--json'])
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as { runs: number; files: { format: string; path: string }[] }
    expect(j.runs).toBe(4)
    expect(j.files.filter((f) => f.format === 'json')).toEqual([{ format: 'json', path: join(out, 'report.json') }])
  })

  it('says what is wrong: no experiment, unknown format, a run of another experiment, no Chromium for PDF', () => {
    let r = sb(['report', '--db', db])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/give --experiment NAME or --runs ID/)
    r = sb(['report', '--experiment', 'nope', '--db', db])
    expect(r.stderr).toMatch(/no experiment "nope" .*; experiments: small/)
    r = sb(['report', '--experiment', 'small', '--db', db, '--format', 'html,docx'])
    expect(r.stderr).toMatch(/unknown report format "docx"; use any of html, pdf, csv, json, md, tex/)
    r = sb(['report', '--runs', '1,x', '--db', db])
    expect(r.stderr).toMatch(/--runs: expected run ids like 3,4,7/)
    r = sb(['report', '--experiment', 'small', '--db', tmp.file('missing.db')])
    expect(r.stderr).toMatch(/no database at/)
    const out = tmp.file('nopdf')
    r = sb(['report', '--experiment', 'small', '--db', db, '--format', 'html,pdf', '--out', out], { SKIPBENCH_CHROMIUM: '/nonexistent/chromium' })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/PDF output needs Chromium \(not executable: \/nonexistent\/chromium\): install it/)
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]) // nothing half-written
  })

  it('is listed in the usage and has help', () => {
    expect(sb(['--help']).stdout).toMatch(/report +write a comparison report[\s\S]*demo +train a reduced paper grid/)
    expect(sb(['report', '--help']).stdout).toMatch(/usage: skipbench report --experiment NAME/)
    expect(sb(['demo', '--help']).stdout).toMatch(/--quick +the 10-second variant/)
  })
})
