// The fault suite's standing record: tests/faults*.test.ts and core/jobs/faults.test.ts. Every case is one test
// whose title carries its class tag — [security], [input], [storage], [process] or [concurrency] — so `npm test`
// (scripts/test-all.mjs) can print how many cases of each class ran and passed, from Vitest's JSON report.
export const FAULT_CLASSES = ['security', 'input', 'storage', 'process', 'concurrency']

/** Whether a test file (path from Vitest's report) belongs to the fault suite. */
export const isFaultFile = (name) => /(^|[\\/])tests[\\/]faults[^\\/]*\.test\.ts$|(^|[\\/])core[\\/]jobs[\\/]faults\.test\.ts$/.test(name)

/** The class tag of a test title, or null. */
export function faultClass(title) {
  const m = /\[([a-z]+)\]/.exec(title)
  return m && FAULT_CLASSES.includes(m[1]) ? m[1] : null
}

/** { classes: { [class]: { passed, failed, skipped } }, untagged: [titles], total } from a Vitest JSON report. */
export function countFaults(report) {
  const classes = Object.fromEntries(FAULT_CLASSES.map((c) => [c, { passed: 0, failed: 0, skipped: 0 }]))
  const untagged = []
  let total = 0
  for (const f of report.testResults ?? []) {
    if (!isFaultFile(f.name ?? '')) continue
    for (const a of f.assertionResults ?? []) {
      const c = faultClass(a.title ?? a.fullName ?? '')
      if (!c) {
        untagged.push(a.fullName ?? a.title)
        continue
      }
      total++
      const k = a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'skipped'
      classes[c][k]++
    }
  }
  return { classes, untagged, total }
}

/** One line: `fault suite: 80 cases (security 41, input 17, …); 79 passed, 0 failed, 1 skipped`. */
export function formatFaults({ classes, total, untagged }) {
  const sum = (k) => Object.values(classes).reduce((s, c) => s + c[k], 0)
  const per = FAULT_CLASSES.map((c) => `${c} ${classes[c].passed + classes[c].failed + classes[c].skipped}`).join(', ')
  const extra = untagged.length ? `; ${untagged.length} without a class tag` : ''
  return `fault suite: ${total} cases (${per}); ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped${extra}`
}
