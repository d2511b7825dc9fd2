import type { Migration } from './types.js'

/**
 * Experiments, runs, metrics and checkpoints.
 * - runs.uid is the run folder's identity (run.json `id`): ingesting the same folder twice finds the same row.
 * - metrics are keyed (run, key, step) WITHOUT ROWID: the primary key is the storage order, so a series read is one
 *   range scan and a duplicate (run, key, step) is rejected by the key itself. Keys are interned in metric_keys.
 *   A NaN value is stored as NULL (SQLite has no NaN).
 */
export const migration0010: Migration = {
  version: 10,
  name: 'core',
  sql: `
CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  tags        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE runs (
  id             INTEGER PRIMARY KEY,
  uid            TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  experiment_id  INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('dense', 'gated')),
  status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'interrupted')),
  config         TEXT NOT NULL CHECK (json_valid(config)),
  seed           INTEGER,
  engine         TEXT,
  backend        TEXT,
  versions       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(versions)),
  dataset        TEXT,
  run_dir        TEXT,
  started_at     TEXT,
  ended_at       TEXT,
  last_step      INTEGER NOT NULL DEFAULT 0,
  tokens_per_sec REAL,
  notes          TEXT NOT NULL DEFAULT '',
  tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
  error          TEXT,
  created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, id);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_created ON runs (created_at, id);

CREATE TABLE metric_keys (
  id  INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key_id INTEGER NOT NULL REFERENCES metric_keys(id),
  step   INTEGER NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, key_id, step)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  final      INTEGER NOT NULL DEFAULT 0 CHECK (final IN (0, 1)),
  bytes      INTEGER,
  valid      INTEGER NOT NULL DEFAULT 1 CHECK (valid IN (0, 1)),
  problem    TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (run_id, path)
);
CREATE INDEX checkpoints_by_run_step ON checkpoints (run_id, step);
`,
}
