import type { Migration } from './types.js'

/**
 * Issue 18 (tracker features):
 * - runs.provenance: what the run was made from (skipbench version, git commit and dirty diff, Node/onnxruntime/tfjs,
 *   OS, CPU, GPU, dataset content hashes, seed, resolved config), written when the run starts (core/provenance).
 * - runs.rerun_of: the run this one re-runs exactly (`skipbench runs rerun ID`, the run page's button).
 * - saved_views: named run-table states (filter, group-by, sort, columns, brushing) per experiment; experiment_id
 *   NULL means the all-runs table.
 */
export const migration0060: Migration = {
  version: 60,
  name: 'provenance-views',
  sql: `
ALTER TABLE runs ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(provenance));
ALTER TABLE runs ADD COLUMN rerun_of INTEGER REFERENCES runs(id) ON DELETE SET NULL;

CREATE TABLE saved_views (
  id            INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (json_valid(state)),
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX saved_views_by_name ON saved_views (coalesce(experiment_id, 0), name);
`,
}
