import { describe, expect, it } from 'vitest'
import { fmtCount, fmtDuration, fmtNum, progressOf } from './format'
import { flatten, getPath, parseValueList, setPath } from './paths'
import { filterRows, patchRow, sortBy, visibleRange } from './table'
import { href, parseRoute } from '../router'

describe('format', () => {
  it('numbers, counts, durations, progress', () => {
    expect(fmtNum(3.14159265)).toBe('3.1416')
    expect(fmtNum(null)).toBe('–')
    expect(fmtNum(NaN)).toBe('–')
    expect(fmtNum(1.5e9)).toBe('1.50e+9')
    expect(fmtCount(1_234_567)).toBe('1.23M')
    expect(fmtCount(12_345)).toBe('12.3k')
    expect(fmtDuration(0.2)).toBe('<1s')
    expect(fmtDuration(42)).toBe('42s')
    expect(fmtDuration(185)).toBe('3m 05s')
    expect(fmtDuration(3720)).toBe('1h 02m')
    expect(fmtDuration(null)).toBe('–')
    expect(progressOf({ status: 'running', lastStep: 5, totalSteps: 20 })).toBe(0.25)
    expect(progressOf({ status: 'completed', lastStep: 19, totalSteps: 20 })).toBe(1)
    expect(progressOf({ status: 'queued', lastStep: 0, totalSteps: null })).toBe(0)
  })
})

describe('paths', () => {
  it('get, set (copying), remove, parse value lists, flatten', () => {
    const doc = { model: { dim: 32 }, training: { seed: 0 } }
    expect(getPath(doc, 'model.dim')).toBe(32)
    expect(getPath(doc, 'model.nope.x')).toBeUndefined()
    const d2 = setPath(doc, 'model.n_layers', 4)
    expect(d2).toEqual({ model: { dim: 32, n_layers: 4 }, training: { seed: 0 } })
    expect(doc.model).toEqual({ dim: 32 }) // not mutated
    expect(setPath(doc, 'controller.name', 'dummy')).toMatchObject({ controller: { name: 'dummy' } })
    expect(setPath(doc, 'model.dim', undefined)).toEqual({ model: {}, training: { seed: 0 } })
    expect(parseValueList('2, 4 ,6')).toEqual([2, 4, 6])
    expect(parseValueList('0.5 0.75, 1e-3')).toEqual([0.5, 0.75, 0.001])
    expect(parseValueList('key, query, true')).toEqual(['key', 'query', true])
    expect(parseValueList(' , ')).toEqual([])
    expect(flatten({ a: { b: 1, c: [1, 2] }, d: null })).toEqual([['a.b', 1], ['a.c', [1, 2]], ['d', null]])
  })
})

describe('virtual table', () => {
  it('renders only the visible window plus overscan', () => {
    expect(visibleRange(0, 300, 30, 10_000, 5)).toEqual({ start: 0, end: 16, offsetTop: 0, totalHeight: 300_000 })
    const r = visibleRange(150_000, 300, 30, 10_000, 5)
    expect(r.start).toBe(4995)
    expect(r.end).toBe(5016)
    expect(r.offsetTop).toBe(4995 * 30)
    // scrolled past the end (the list shrank): clamps
    const c = visibleRange(1e9, 300, 30, 20, 5)
    expect(c.end).toBe(20)
    expect(c.start).toBeGreaterThanOrEqual(0)
    expect(visibleRange(0, 300, 30, 0)).toEqual({ start: 0, end: 0, offsetTop: 0, totalHeight: 0 })
  })
  it('renders at most a few dozen rows for any number of runs', () => {
    for (const total of [10, 1000, 100_000]) {
      const r = visibleRange(total * 15, 600, 30, total)
      expect(r.end - r.start).toBeLessThanOrEqual(40)
    }
  })
  it('sorts stably with nulls last, filters by words, patches rows', () => {
    const rows = [{ id: 1, v: 3 }, { id: 2, v: null }, { id: 3, v: 1 }, { id: 4, v: 3 }]
    expect(sortBy(rows, (r) => r.v, 'asc').map((r) => r.id)).toEqual([3, 1, 4, 2])
    expect(sortBy(rows, (r) => r.v, 'desc').map((r) => r.id)).toEqual([1, 4, 3, 2])
    expect(sortBy([{ n: 'run-10' }, { n: 'run-9' }], (r) => r.n, 'asc').map((r) => r.n)).toEqual(['run-9', 'run-10'])
    const named = [{ id: 1, t: 'dense L4 completed' }, { id: 2, t: 'gated L4 running' }]
    expect(filterRows(named, 'L4 gated', (r) => r.t).map((r) => r.id)).toEqual([2])
    expect(filterRows(named, '', (r) => r.t)).toHaveLength(2)
    const p = patchRow(rows, 3, { v: 9 })
    expect(p[2]).toEqual({ id: 3, v: 9 })
    expect(rows[2]).toEqual({ id: 3, v: 1 })
    expect(patchRow(rows, 99, { v: 1 })).toBe(rows)
  })
})

describe('router', () => {
  it('parses hash routes and builds links that parse back', () => {
    expect(parseRoute('')).toEqual({ name: 'experiments' })
    expect(parseRoute('#/experiments')).toEqual({ name: 'experiments' })
    expect(parseRoute('#/experiments/12')).toEqual({ name: 'experiment', id: 12, tab: 'runs' })
    expect(parseRoute('#/experiments/12/pareto')).toEqual({ name: 'experiment', id: 12, tab: 'pareto' })
    expect(parseRoute('#/runs/7')).toEqual({ name: 'run', id: 7 })
    expect(parseRoute('#/new')).toEqual({ name: 'new', experimentId: null, fromRun: null })
    expect(parseRoute('#/new?experiment=3')).toEqual({ name: 'new', experimentId: 3, fromRun: null })
    expect(parseRoute('#/new?from=9')).toEqual({ name: 'new', experimentId: null, fromRun: 9 })
    expect(parseRoute('#/runs/abc')).toMatchObject({ name: 'not-found' })
    expect(parseRoute('#/runs/0')).toMatchObject({ name: 'not-found' })
    expect(parseRoute('#/?token=abc')).toEqual({ name: 'experiments' })
    for (const h of [href.experiment(4, 'curves'), href.run(3), href.newRuns(2), href.cloneRun(8), href.datasets(), href.settings()]) expect(parseRoute(h).name).not.toBe('not-found')
  })
})

describe('grouping', () => {
  it('groups by a key, keeps the order inside groups, labels group starts, missing last', async () => {
    const { groupRows } = await import('./table')
    const rows = [
      { id: 1, kind: 'gated', L: 4 },
      { id: 2, kind: 'dense', L: 2 },
      { id: 3, kind: 'gated', L: 2 },
      { id: 4, kind: 'dense', L: 10 },
      { id: 5, kind: null as string | null, L: 4 },
    ]
    const g = groupRows(rows, (r) => r.kind)
    expect(g.rows.map((r) => r.id)).toEqual([2, 4, 1, 3, 5])
    expect([...g.starts]).toEqual([[2, 'dense'], [1, 'gated'], [5, '–']])
    expect(g.sizes.get('gated')).toBe(2)
    expect(groupRows(rows, (r) => r.L).rows.map((r) => r.L)).toEqual([2, 2, 4, 4, 10])
  })
})
