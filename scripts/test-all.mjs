#!/usr/bin/env node
// `npm test`: lint, type checks, build, unit tests (Vitest) and browser tests (Playwright), then ONE summary line
// `N passed, N failed` counting every check (each lint/typecheck/build step counts as one test).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { countFaults, formatFaults } from './fault-suite.mjs'

mkdirSync('reports', { recursive: true })
let passed = 0
let failed = 0
let skipped = 0
const failures = []
let faultLine = null

function step(name, cmd, args, env = {}) {
  const t0 = Date.now()
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } })
  const s = ((Date.now() - t0) / 1000).toFixed(1)
  console.log(`=== ${name}: exit ${r.status} (${s}s)`)
  return r.status === 0
}
function check(name, ok) {
  if (ok) passed++
  else {
    failed++
    failures.push(name)
  }
}

const only = process.argv.slice(2)
const want = (k) => only.length === 0 || only.includes(k)

if (want('lint')) {
  check('lint', step('lint', 'npx', ['eslint', '.']))
  check('lint:exports', step('lint:exports', 'node', ['scripts/lint/unused-exports.mjs']))
}
if (want('typecheck')) {
  check('typecheck:core', step('typecheck:core', 'npx', ['tsc', '-p', 'tsconfig.core.json', '--noEmit']))
  check('typecheck:node', step('typecheck:node', 'npx', ['tsc', '-p', 'tsconfig.node.json', '--noEmit']))
  check('typecheck:web', step('typecheck:web', 'npx', ['vue-tsc', '-p', 'tsconfig.web.json', '--noEmit']))
}
if (want('build')) {
  check('build', step('build', 'npx', ['electron-vite', 'build']))
  check('build:cli', step('build:cli', 'node', ['scripts/build-cli.mjs']))
}

function countVitest(file) {
  if (!existsSync(file)) return false
  const j = JSON.parse(readFileSync(file, 'utf8'))
  passed += j.numPassedTests ?? 0
  failed += j.numFailedTests ?? 0
  skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0)
  for (const f of j.testResults ?? []) for (const a of f.assertionResults ?? []) if (a.status === 'failed') failures.push(a.fullName)
  // a file that failed to load has no assertions but status failed
  for (const f of j.testResults ?? []) if (f.status === 'failed' && (f.assertionResults ?? []).length === 0) { failed++; failures.push(f.name) }
  faultLine = formatFaults(countFaults(j))
  return true
}
if (want('unit')) {
  rmSync('reports/vitest.json', { force: true })
  const ok = step('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile=reports/vitest.json'])
  if (!countVitest('reports/vitest.json')) check('vitest (no report)', false)
  else if (!ok && failed === 0) check('vitest (runner error)', false)
}

function countPlaywright(file) {
  if (!existsSync(file)) return false
  const j = JSON.parse(readFileSync(file, 'utf8'))
  const s = j.stats ?? {}
  passed += (s.expected ?? 0) + (s.flaky ?? 0)
  failed += s.unexpected ?? 0
  skipped += s.skipped ?? 0
  const walk = (suite) => {
    for (const sp of suite.specs ?? []) for (const t of sp.tests ?? []) if (t.status === 'unexpected') failures.push(`e2e: ${sp.title}`)
    for (const c of suite.suites ?? []) walk(c)
  }
  for (const s2 of j.suites ?? []) walk(s2)
  for (const e of j.errors ?? []) { failed++; failures.push(`e2e error: ${e.message?.split('\n')[0]}`) }
  return true
}
if (want('e2e')) {
  rmSync('reports/playwright.json', { force: true })
  const ok = step('e2e', 'npx', ['playwright', 'test'])
  if (!countPlaywright('reports/playwright.json')) check('playwright (no report)', false)
  else if (!ok && failures.filter((f) => f.startsWith('e2e')).length === 0) check('playwright (runner error)', false)
}

if (failures.length) console.log(`\nFailed:\n  ${failures.join('\n  ')}`)
// the fault suite's record by class (scripts/fault-suite.mjs), on its own line before the summary
if (faultLine) console.log(`\n${faultLine}`)
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed === 0 ? 0 : 1)
