import { afterEach, beforeEach, expect, it } from 'vitest'
import { migrate } from './migrate.js'
import { openDatabase } from './open.js'
import { openStore } from './store.js'
import { tempDir, type TempDir } from './test-helpers.js'

let tmp: TempDir
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

it('0040 backfills summaries equal to what the repository maintains, NULL (NaN) values counted but never min/max', () => {
  const path = tmp.file('m.db')
  const db = openDatabase(path)
  migrate(db, { target: 30 })
  db.exec(`INSERT INTO runs (uid, name, kind, status, config) VALUES ('a', 'a', 'gated', 'completed', '{}');
    INSERT INTO metric_keys (key) VALUES ('train/loss');
    INSERT INTO metrics (run_id, key_id, step, value) VALUES (1, 1, 0, 5), (1, 1, 1, 2), (1, 1, 2, NULL), (1, 1, 3, 2), (1, 1, 4, 3), (1, 1, 5, NULL);`)
  db.close()
  const store = openStore(path)
  const backfilled = store.metrics.summaries(1)
  expect(backfilled).toEqual([{ key: 'train/loss', count: 6, firstStep: 0, lastStep: 5, lastValue: null, minValue: 2, minStep: 1, maxValue: 5 }])
  // the same points through the repository give the same summary
  const r = store.runs.create({ name: 'b', kind: 'gated', config: {} })
  store.metrics.insert(r.id, [5, 2, NaN, 2, 3, NaN].map((value, step) => ({ step, key: 'train/loss', value })))
  expect(store.metrics.summaries(r.id)).toEqual(backfilled)
  store.close()
})
