// The run filter language: grammar, errors on malformed input, hostile input never reaching SQL as text, and
// results checked against a real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileFilter, FilterError, parseFilter, tokenize } from './filter.js'
import { openStore, type Store } from './store.js'
import { tempDir, type TempDir } from './test-helpers.js'
import type { JsonObject } from './types.js'

let dir: TempDir
let store: Store
const ids: Record<string, number> = {}

beforeAll(() => {
  dir = tempDir('sb-filter-')
  store = openStore(dir.file('sb.db'))
  const exp = store.experiments.create({ name: 'grid' })
  const mk = (name: string, L: number, gated: boolean, loss: number, tags: string[], status: 'completed' | 'failed' = 'completed', notes = '') => {
    const config = { model: { n_layers: L, dim: 32, zero_init_masks: !gated, gated_attention: 'key' }, training: { seed: L }, controller: { name: gated ? 'proportional' : 'dummy' } }
    const r = store.runs.create({ name, kind: gated ? 'gated' : 'dense', status, config: config as unknown as JsonObject, experimentId: exp.id, tags, notes, seed: L })
    store.metrics.insert(r.id, [
      { step: 0, key: 'val/loss', value: loss + 1 },
      { step: 10, key: 'val/loss', value: loss },
      { step: 10, key: 'train/loss', value: loss - 0.1 },
    ])
    ids[name] = r.id
  }
  mk('d4', 4, false, 2.5, ['baseline'])
  mk('d8', 8, false, 2.0, ['baseline', 'big'])
  mk('g8', 8, true, 2.05, ['gated'], 'completed', 'lr looks too LOW here')
  mk('g12', 12, true, 1.9, [], 'failed', "it's 100% done_ish")
  mk('orphan', 2, false, 3.0, ["o'brien"])
})
afterAll(() => {
  store.close()
  dir.cleanup()
})

const names = (where: string) =>
  store.runs
    .list({ where, sort: { by: 'name', dir: 'asc' }, summaries: [] })
    .rows.map((r) => r.name)
    .sort()

describe('filter language', () => {
  it('the issue example: config fields, metrics and tags, parameterised', () => {
    const c = compileFilter('model.n_layers >= 8 and val.loss < 2.1 and tag:baseline')
    expect(c.params).toEqual(['$.model.n_layers', 8, 'val/loss', 2.1, 'baseline'])
    expect(c.sql).not.toMatch(/n_layers|baseline|2\.1/)
    expect(names('model.n_layers >= 8 and val.loss < 2.1 and tag:baseline')).toEqual(['d8'])
  })

  it('config, metric aggregates, run fields, booleans, null, or / not / parentheses, precedence', () => {
    expect(names('model.n_layers = 8')).toEqual(['d8', 'g8'])
    expect(names('config.model.n_layers == 12')).toEqual(['g12'])
    expect(names('model.zero_init_masks = false')).toEqual(['g12', 'g8'])
    expect(names('controller.name = proportional')).toEqual(['g12', 'g8'])
    expect(names('model.missing = null')).toHaveLength(5)
    expect(names('model.dim != null and kind = gated')).toEqual(['g12', 'g8'])
    expect(names('min(val.loss) < 2.05')).toEqual(['d8', 'g12'])
    expect(names('max(val/loss) >= 3.5')).toEqual(['d4', 'orphan'])
    expect(names('train/loss < 2')).toEqual(['d8', 'g12', 'g8'])
    expect(names('status = failed or kind = dense and seed < 3')).toEqual(['g12', 'orphan']) // and binds tighter
    expect(names('(status = failed or kind = dense) and seed < 5')).toEqual(['d4', 'orphan'])
    expect(names('not kind = dense')).toEqual(['g12', 'g8'])
    expect(names('not tag:baseline and not tag:gated')).toEqual(['g12', 'orphan'])
    expect(names('tag != baseline')).toEqual(['g12', 'g8', 'orphan'])
    expect(names('tags ~ "bas"')).toEqual(['d4', 'd8'])
    expect(names('experiment = grid and id > 0')).toHaveLength(5)
    expect(names(`created >= 2000-01-01 and created < 2999-01-01T00:00:00Z`)).toHaveLength(5)
    expect(names('val.loss < .5')).toEqual([])
  })

  it('notes: case-insensitive substring; % _ and quotes are literal', () => {
    expect(names('note ~ "too low"')).toEqual(['g8'])
    expect(names("notes ~ '100%'")).toEqual(['g12'])
    expect(names('notes ~ "%"')).toEqual(['g12'])
    expect(names('note ~ "_"')).toEqual(['g12'])
    expect(names('note !~ "low"')).toEqual(['d4', 'd8', 'g12', 'orphan'])
    expect(names(`tag:"o'brien"`)).toEqual(['orphan'])
    expect(names(`notes ~ 'it\\'s'`)).toEqual(['g12'])
    store.experiments.update(store.experiments.list().find((e) => e.name === 'grid')!.id, { description: 'Depth sweep, lr 1e-3', tags: ['paper'] })
    expect(names('experiment_notes ~ "depth sweep"')).toHaveLength(5)
    expect(names('experiment_tags ~ "paper" and kind = gated')).toEqual(['g12', 'g8'])
  })

  it('malformed input: one clear error naming what and where', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['   ', /empty/],
      ['model.n_layers >=', /expected a value.*end of the filter/],
      ['model.n_layers 8', /expected an operator/],
      ['>= 8', /expected a field/],
      ['(status = completed', /expected "\)"/],
      ['status = completed)', /expected "and", "or" or the end/],
      ['status = completed and', /expected a field/],
      ['foo = 1', /unknown field "foo"/],
      ['model = 1', /unknown field "model"/],
      ['note ~ 3', /~ needs text/],
      ['val.loss < true', /< needs a number/],
      ['min(status) < 1', /takes a metric/],
      ['name = "unterminated', /unterminated string/],
      ['status = completed ; DROP TABLE runs', /unexpected character ";"/],
      ['tag:', /expected a value/],
      ['model.n_layers >= 1e999', /finite/],
      ['a'.repeat(2001), /at most 2000/],
      [Array(150).fill('id = 1').join(' or '), /more than 200 tokens/],
      ['('.repeat(40) + 'id = 1' + ')'.repeat(40), /nesting deeper than 32/],
      ['not '.repeat(40) + 'id = 1', /nesting deeper than 32/],
      ['model.a.b.c.d.e.f.g.h.i = 1', /at most 8 parts/],
    ]
    for (const [src, re] of bad) {
      let err: unknown
      try {
        parseFilter(src)
      } catch (e) {
        err = e
      }
      expect(err, src.slice(0, 40)).toBeInstanceOf(FilterError)
      expect((err as Error).message, src.slice(0, 40)).toMatch(re)
      expect((err as Error).message).not.toMatch(/\n/)
      // and the store refuses it the same way, before any SQL runs (a blank filter there means "no filter")
      if (src.trim()) expect(() => store.runs.list({ where: src })).toThrow(FilterError)
    }
  })

  it('hostile input never becomes SQL text: injections are values (matching nothing) or parse errors', () => {
    const before = store.db.prepare('SELECT count(*) FROM runs').pluck().get()
    const hostile = [
      `name = "x' OR '1'='1"`,
      `name = "x\\" OR 1=1 --"`,
      `name = "'); DROP TABLE runs; --"`,
      `note ~ "%' OR 1=1 --"`,
      `tag:"x') OR 1=1 --"`,
      `model.n_layers = "1 OR 1=1"`,
      `name = "\u0000"`,
      `name = "${'x'.repeat(200)}"`,
    ]
    for (const src of hostile) {
      const c = compileFilter(src)
      // the SQL text contains only our own tokens: no quote characters beyond the fixed ESCAPE clause
      expect(c.sql.replace(/ESCAPE '\\'/g, '')).not.toMatch(/['";]|--|DROP|OR 1/i)
      expect(names(src)).toEqual([])
    }
    const refused = [
      `name = x OR 1=1`, // 1=1 is not a field: parse error, not a tautology
      `model.n_layers]; DROP TABLE runs; -- = 1`,
      `config.model."dim" = 1`,
      `config.model.dim') = 1 OR json_extract(r.config, '$ = 1`,
      `min(val.loss); DELETE FROM runs) < 1`,
      'val.loss` < 1',
      `model.n_layers = 1 UNION SELECT * FROM runs`,
      `id = 1 /* comment */`,
    ]
    for (const src of refused) expect(() => store.runs.list({ where: src }), src).toThrow(FilterError)
    expect(store.db.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(before)
    expect(store.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'runs'`).pluck().get()).toBe(1)
  })

  it('tokenizes dates, negative and exponent numbers, and dotted barewords', () => {
    expect(tokenize('created >= 2026-12-01T10:00:00Z and x > -1.5e-3').map((t) => t.kind)).toEqual(['name', 'op', 'date', 'name', 'name', 'op', 'number', 'end'])
    expect(compileFilter('data.dataset = tiny.shakespeare').params).toEqual(['$.data.dataset', 'tiny.shakespeare'])
  })

  it('group-by a config path returns each row’s value; a bad path is refused', () => {
    const r = store.runs.list({ groupBy: 'model.n_layers', where: 'kind = dense', sort: { by: 'name', dir: 'asc' } })
    expect(r.rows.map((x) => [x.name, x.group])).toEqual([
      ['d4', 4],
      ['d8', 8],
      ['orphan', 2],
    ])
    expect(() => store.runs.list({ groupBy: "model.n_layers') --" })).toThrow(FilterError)
  })
})

describe('saved views', () => {
  it('are per experiment (null: all runs), replaced by name, deleted, and go with their experiment', () => {
    const exp = store.experiments.create({ name: 'views-exp' })
    const a = store.views.save(exp.id, 'deep', { where: 'model.n_layers >= 8', groupBy: '' })
    store.views.save(null, 'deep', { where: 'kind = gated', groupBy: 'model.n_layers' })
    const again = store.views.save(exp.id, 'deep', { where: 'model.n_layers >= 6', groupBy: 'training.seed' })
    expect(again.id).toBe(a.id)
    expect(store.views.list(exp.id).map((v) => [v.name, v.state.where])).toEqual([['deep', 'model.n_layers >= 6']])
    expect(store.views.list(null).map((v) => v.state)).toEqual([{ where: 'kind = gated', groupBy: 'model.n_layers' }])
    store.views.save(exp.id, 'shallow', { where: 'model.n_layers < 4', groupBy: '' })
    expect(store.views.remove(a.id)).toBe(true)
    expect(store.views.list(exp.id).map((v) => v.name)).toEqual(['shallow'])
    store.experiments.remove(exp.id)
    expect(store.views.list(exp.id)).toEqual([])
    expect(store.views.list(null)).toHaveLength(1)
  })
})
