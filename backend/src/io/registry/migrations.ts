/**
 * Numbered schema migrations, applied in order at start inside one transaction each. Never edit a
 * released migration: add the next number. `PRAGMA user_version` records the last one applied.
 */
export const MIGRATIONS: string[] = [
  // 1: the initial schema
  `
  CREATE TABLE detectors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE model_versions (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL CHECK (stage IN ('candidate', 'staging', 'production', 'archived')),
    trained_at INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    bundle TEXT NOT NULL,
    PRIMARY KEY (detector_id, version)
  );
  CREATE UNIQUE INDEX one_production_per_entity ON model_versions (detector_id, entity) WHERE stage = 'production';
  CREATE TABLE stage_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'backfill')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    phase TEXT NOT NULL,
    progress REAL NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    error TEXT,
    result TEXT
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE drift_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL,
    report TEXT NOT NULL
  );
  CREATE TABLE stream_state (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (detector_id, entity)
  );
  `,
  // 2: alerts waiting for a receiver survive a restart
  `
  CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receiver TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX alert_outbox_receiver ON alert_outbox (receiver, id);
  `,
  // 3: the streaming runtime's state per (detector, entity, stage), saved after each scored interval
  `
  CREATE TABLE runtime_state (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('production', 'staging')),
    version INTEGER NOT NULL,
    scored_to INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (detector_id, entity, stage)
  );
  `,
];
