// The fault suite's record (scripts/fault-suite.mjs) counts cases by the class tag in their titles: every case in
// the fault files must carry one, and the counting must read Vitest's report correctly.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types (run by node in `npm test`)
import { countFaults, FAULT_CLASSES, faultClass, formatFaults, isFaultFile } from '../scripts/fault-suite.mjs'

const root = resolve(import.meta.dirname, '..')
const files = [...readdirSync(join(root, 'tests')).filter((f) => /^faults.*\.test\.ts$/.test(f)).map((f) => join(root, 'tests', f)), join(root, 'core/jobs/faults.test.ts')]

describe('fault suite record', () => {
  it('finds the fault files', () => {
    expect(files.length).toBeGreaterThanOrEqual(5)
    for (const f of files) expect(isFaultFile(f), f).toBe(true)
    expect(isFaultFile(join(root, 'tests/fault-record.test.ts'))).toBe(false)
  })

  it('every test in the fault files starts with a class tag', () => {
    for (const f of files) {
      const src = readFileSync(f, 'utf8')
      const titles = [...src.matchAll(/(?:\bit|\bit\.skipIf\([^)]*\)|\]\))\(\s*(['"`])(.+?)\1/g)].map((m) => m[2]!)
      expect(titles.length, f).toBeGreaterThan(0)
      for (const t of titles) expect(faultClass(t), `${f}: ${t}`).not.toBeNull()
    }
  })

  it('counts cases by class from a Vitest JSON report and formats one line', () => {
    const report = {
      testResults: [
        { name: '/r/tests/faults-security.test.ts', assertionResults: [{ title: '[security] a', status: 'passed' }, { title: '[security] b', status: 'failed' }] },
        { name: '/r/core/jobs/faults.test.ts', assertionResults: [{ title: '[storage] c', status: 'skipped' }, { title: 'no tag', status: 'passed' }] },
        { name: '/r/core/jobs/queue.test.ts', assertionResults: [{ title: '[process] not a fault file', status: 'passed' }] },
      ],
    }
    const c = countFaults(report)
    expect(c.total).toBe(3)
    expect(c.classes.security).toEqual({ passed: 1, failed: 1, skipped: 0 })
    expect(c.classes.storage).toEqual({ passed: 0, failed: 0, skipped: 1 })
    expect(c.untagged).toEqual(['no tag'])
    expect(formatFaults(c)).toBe(`fault suite: 3 cases (${FAULT_CLASSES.map((k: string) => `${k} ${k === 'security' ? 2 : k === 'storage' ? 1 : 0}`).join(', ')}); 1 passed, 1 failed, 1 skipped; 1 without a class tag`)
  })
})
