import type { Migration } from './types.js'

/**
 * Datasets become rows (runs keep their dataset name and gain dataset_id, backfilled from the names already there),
 * and evaluations (a checkpoint scored on a dataset: tokens, loss, gate statistics, FLOPs) get their own table.
 */
export const migration0020: Migration = {
  version: 20,
  name: 'datasets-evaluations',
  sql: `
CREATE TABLE datasets (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  path         TEXT,
  tokenizer    TEXT,
  vocab_size   INTEGER,
  train_tokens INTEGER,
  val_tokens   INTEGER,
  fingerprint  TEXT,
  meta         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

ALTER TABLE runs ADD COLUMN dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL;
INSERT INTO datasets (name) SELECT DISTINCT dataset FROM runs WHERE dataset IS NOT NULL AND dataset <> '';
UPDATE runs SET dataset_id = (SELECT d.id FROM datasets d WHERE d.name = runs.dataset) WHERE dataset IS NOT NULL;
CREATE INDEX runs_by_dataset ON runs (dataset_id, id);

CREATE TABLE evaluations (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  checkpoint_id   INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  dataset_id      INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  dataset         TEXT NOT NULL,
  split           TEXT NOT NULL DEFAULT 'val',
  step            INTEGER,
  tokens          INTEGER NOT NULL,
  loss            REAL,
  gate_stats      TEXT CHECK (gate_stats IS NULL OR json_valid(gate_stats)),
  flops_per_token REAL,
  flops           REAL,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX evaluations_by_run ON evaluations (run_id, id);
`,
}
