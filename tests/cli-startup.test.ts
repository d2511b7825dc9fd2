/**
 * The CLI starts from its bundle (out/cli, built by scripts/build-cli.mjs; vitest's global setup rebuilds it), not
 * through tsx: `skipbench presets` must not compile TypeScript. Timings are compared side by side in one run (the
 * bundle against the same command from the sources), never against an absolute number.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..')
const BIN = resolve(ROOT, 'bin/skipbench.mjs')

function presets(env: Record<string, string> = {}): { ms: number; out: string; err: string; code: number | null } {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [BIN, 'presets', '--json'], { cwd: tmpdir(), encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })
  return { ms: performance.now() - t0, out: r.stdout, err: r.stderr, code: r.status }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('CLI start-up', () => {
  it('runs from the bundle (fresh: every source it was built from is older than it), from any directory', () => {
    const meta = JSON.parse(readFileSync(resolve(ROOT, 'out/cli/meta.json'), 'utf8')) as { builtAt: number; inputs: string[] }
    expect(meta.inputs).toEqual(expect.arrayContaining(['cli/main.ts', 'core/jobs/worker-entry.ts', 'core/config/run.ts']))
    expect(existsSync(resolve(ROOT, 'out/cli/worker-entry.js'))).toBe(true)
    const r = presets({ SKIPBENCH_CLI_EXPLAIN: '1' })
    expect(r.code).toBe(0)
    expect(r.err).toBe('') // no "running the TypeScript sources through tsx" note (asked for with SKIPBENCH_CLI_EXPLAIN)
    expect((JSON.parse(r.out) as { name: string }[]).map((p) => p.name)).toContain('tiny-gated')
  })

  it('is faster than running the sources through tsx (median of 3, side by side)', () => {
    const bundle: number[] = []
    const sources: number[] = []
    for (let i = 0; i < 3; i++) {
      bundle.push(presets().ms)
      const s = presets({ SKIPBENCH_CLI_SOURCES: '1' })
      expect(s.code).toBe(0)
      sources.push(s.ms)
    }
    console.log(`skipbench presets: bundle ${median(bundle).toFixed(0)} ms, tsx sources ${median(sources).toFixed(0)} ms (median of 3)`)
    expect(median(bundle)).toBeLessThan(median(sources))
  })
})
