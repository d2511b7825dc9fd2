import { afterEach, beforeEach, expect, it } from 'vitest'
import { migrate } from './migrate.js'
import { openDatabase } from './open.js'
import { tempDir, type TempDir } from './test-helpers.js'

let tmp: TempDir
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

it('0020 turns the dataset names runs already had into dataset rows and links them; empty names stay unlinked', () => {
  const db = openDatabase(tmp.file('m.db'))
  migrate(db, { target: 10 })
  db.exec(`INSERT INTO runs (uid, name, kind, status, config, dataset) VALUES
    ('a', 'a', 'dense', 'completed', '{}', 'fineweb'), ('b', 'b', 'gated', 'completed', '{}', 'fineweb'),
    ('c', 'c', 'gated', 'failed', '{}', 'synthetic'), ('d', 'd', 'gated', 'failed', '{}', ''), ('e', 'e', 'dense', 'queued', '{}', NULL)`)
  migrate(db, { target: 20 })
  expect(db.prepare('SELECT name FROM datasets ORDER BY name').pluck().all()).toEqual(['fineweb', 'synthetic'])
  const links = db.prepare('SELECT r.uid, d.name FROM runs r LEFT JOIN datasets d ON d.id = r.dataset_id ORDER BY r.uid').raw().all()
  expect(links).toEqual([['a', 'fineweb'], ['b', 'fineweb'], ['c', 'synthetic'], ['d', null], ['e', null]])
  expect(db.pragma('foreign_key_check')).toEqual([])
  db.close()
})
