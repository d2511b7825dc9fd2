import type { Migration } from './types.js'

/**
 * Cluster profiles (how to reach a Slurm cluster: local or over ssh, workdir, resources; the JSON is validated by
 * core/cluster/profile.ts) and the Slurm jobs of runs handed to a cluster (core/cluster). One row per attempt of a
 * run: `submit_key` (also the job name `skipbench-<key>` and comment) makes submission idempotent; `metrics_offset`
 * is how many bytes of the run's metrics.jsonl on the cluster are already in the metrics table, so a restarted
 * skipbench continues tailing where it stopped.
 */
export const migration0050: Migration = {
  version: 50,
  name: 'clusters',
  sql: `
CREATE TABLE clusters (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  profile    TEXT NOT NULL CHECK (json_valid(profile)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE cluster_jobs (
  id             INTEGER PRIMARY KEY,
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  cluster        TEXT NOT NULL,
  submit_key     TEXT NOT NULL UNIQUE,
  attempt        INTEGER NOT NULL DEFAULT 1,
  state          TEXT NOT NULL CHECK (state IN ('submitting', 'pending', 'running', 'completed', 'failed', 'cancelled', 'resubmitted')),
  job_id         TEXT,
  array_job_id   TEXT,
  array_index    INTEGER,
  slurm_state    TEXT,
  node           TEXT,
  elapsed        TEXT,
  exit_code      TEXT,
  reason         TEXT,
  remote_run_dir TEXT NOT NULL,
  output_path    TEXT,
  output_tail    TEXT,
  metrics_offset INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  ended_at       TEXT
);
CREATE INDEX cluster_jobs_by_run ON cluster_jobs (run_id, id);
CREATE INDEX cluster_jobs_active ON cluster_jobs (state) WHERE state IN ('submitting', 'pending', 'running');
`,
}
