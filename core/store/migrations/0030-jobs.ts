import type { Migration } from './types.js'

/**
 * The persistent job queue (core/jobs), its event history, and log lines of runs and jobs.
 * Job status: queued → running → completed | failed | cancelled | paused | interrupted (the parent died while it ran);
 * pausing/cancelling are the requested-but-not-yet-stopped states.
 */
export const migration0030: Migration = {
  version: 30,
  name: 'jobs',
  sql: `
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('train', 'eval')),
  status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'pausing', 'paused', 'cancelling', 'completed', 'failed', 'cancelled', 'interrupted')),
  payload      TEXT NOT NULL CHECK (json_valid(payload)),
  run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  priority     INTEGER NOT NULL DEFAULT 0,
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 1,
  resume_from  TEXT,
  pid          INTEGER,
  host         TEXT,
  error        TEXT,
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  started_at   TEXT,
  ended_at     TEXT
);
CREATE INDEX jobs_by_status ON jobs (status, priority DESC, id);
CREATE INDEX jobs_by_run ON jobs (run_id);

CREATE TABLE job_events (
  id     INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  type   TEXT NOT NULL,
  data   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
);
CREATE INDEX job_events_by_job ON job_events (job_id, id);

CREATE TABLE log_lines (
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  job_id  INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  level   TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message TEXT NOT NULL
);
CREATE INDEX log_lines_by_run ON log_lines (run_id, id);
CREATE INDEX log_lines_by_job ON log_lines (job_id, id);
`,
}
