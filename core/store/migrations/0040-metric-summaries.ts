import type { Migration } from './types.js'

/**
 * Per (run, key) summaries — count, first/last step, last value, min (and its step), max — so the run list can show
 * and sort by "last val/loss" or "min val/loss" over 10,000 runs without touching the metrics table. Maintained by
 * MetricsRepository on every insert (and recomputed for a run when rows are discarded); backfilled here from the
 * metrics already stored. NULL values (NaN) are counted but never the min or max.
 */
export const migration0040: Migration = {
  version: 40,
  name: 'metric-summaries',
  sql: `
CREATE TABLE metric_summaries (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key_id     INTEGER NOT NULL REFERENCES metric_keys(id),
  count      INTEGER NOT NULL,
  first_step INTEGER NOT NULL,
  last_step  INTEGER NOT NULL,
  last_value REAL,
  min_value  REAL,
  min_step   INTEGER,
  max_value  REAL,
  PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;
CREATE INDEX metric_summaries_by_key ON metric_summaries (key_id, run_id);

INSERT INTO metric_summaries (run_id, key_id, count, first_step, last_step, last_value, min_value, min_step, max_value)
SELECT g.run_id, g.key_id, g.n, g.first_step, g.last_step,
       (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id AND m.step = g.last_step),
       g.min_value,
       (SELECT m.step FROM metrics m WHERE m.run_id = g.run_id AND m.key_id = g.key_id AND m.value = g.min_value ORDER BY m.step LIMIT 1),
       g.max_value
FROM (SELECT run_id, key_id, count(*) AS n, min(step) AS first_step, max(step) AS last_step,
             min(value) AS min_value, max(value) AS max_value
      FROM metrics GROUP BY run_id, key_id) g;
`,
}
