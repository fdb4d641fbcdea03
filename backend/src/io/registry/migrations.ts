/**
 * One migration history per dialect, numbered and applied in order at start inside one
 * transaction each. Never edit a released migration: add the next number, to both lists when the
 * change concerns both (the histories need not have the same numbers: each records its own).
 *
 * SQLite: `PRAGMA user_version` records the last one applied.
 */
export const SQLITE_MIGRATIONS: string[] = [
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
  // 3: per-entity detector state (snapshot and cursor per detector, entity and stage); indexes for
  // the history and latest-drift-report reads
  `
  CREATE TABLE detector_state (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('candidate', 'staging', 'production', 'archived')),
    snapshot TEXT NOT NULL,
    cursor INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (detector_id, entity, stage)
  );
  CREATE INDEX stage_history_detector ON stage_history (detector_id, id);
  CREATE INDEX drift_reports_latest ON drift_reports (detector_id, entity, id);
  CREATE INDEX jobs_detector ON jobs (detector_id, created_at);
  `,
  // 4: the streaming runtime's state per (detector, entity, stage), saved after each scored interval
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
  // 5: per-entity version numbers: each (detector, entity)'s models are v1, v2, … (entity_version);
  // the detector-wide version stays the registry's unique id. Existing versions are numbered in order.
  `
  ALTER TABLE model_versions ADD COLUMN entity_version INTEGER NOT NULL DEFAULT 0;
  UPDATE model_versions SET entity_version = (
    SELECT COUNT(*) FROM model_versions m
    WHERE m.detector_id = model_versions.detector_id AND m.entity = model_versions.entity AND m.version <= model_versions.version
  );
  CREATE UNIQUE INDEX model_versions_entity_version ON model_versions (detector_id, entity, entity_version);
  `,
  // 6: incidents and feedback. Flagged rows grouped per (detector, entity) into incidents (state
  // firing/resolved, span in time and rows, peak of the smoothed score, worst severity, counts of top metrics, the
  // quiet rows since the last flag and the last scores while firing), and operators' verdicts on them.
  `
  CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL,
    peak_at INTEGER NOT NULL,
    peak_score REAL NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('none', 'low', 'medium', 'high', 'critical')),
    flagged INTEGER NOT NULL,
    span_rows INTEGER NOT NULL,
    top_metrics TEXT NOT NULL,
    quiet_rows INTEGER NOT NULL,
    recent TEXT NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX incidents_entity ON incidents (detector_id, entity, start_at);
  CREATE INDEX incidents_start ON incidents (start_at);
  CREATE UNIQUE INDEX one_firing_incident ON incidents (detector_id, entity) WHERE state = 'firing';
  CREATE TABLE incident_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN ('real', 'expected', 'not_anomaly')),
    note TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX incident_feedback_incident ON incident_feedback (incident_id, id);
  `,
  // 7: suppression rules: a metric, an entity and/or a detector, in a daily or weekly window or a
  // maintenance period, with a reason; flagged rows inside one are recorded but do not page.
  `
  CREATE TABLE suppression_rules (
    id TEXT PRIMARY KEY,
    detector_id TEXT REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT,
    metric TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly', 'period')),
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 8: verdicts taken from Grafana annotations: each annotation applied, by Grafana's id, with the
  // version (its `updated` time) applied, so the poller applies each annotation once per edit.
  `
  CREATE TABLE annotation_feedback (
    annotation_id TEXT PRIMARY KEY,
    updated INTEGER NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('real', 'expected', 'not_anomaly')),
    incidents INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
  );
  `,
  // 9: one replica at a time delivers a receiver's outbox (a lease, renewed while it delivers),
  // so replicas sharing a registry do not send the same alert twice.
  `
  CREATE TABLE outbox_leases (
    receiver TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until_at INTEGER NOT NULL
  );
  `,
  // 10: a heartbeat on jobs, so a replica that starts fails only the jobs nobody is running any more
  // (replicas sharing a PostgreSQL registry run each other's neighbours' jobs).
  `
  ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER;
  `,
  // 11: which suppression rule kept an incident from paging: its id and reason, copied so the
  // incident still says why once the rule is deleted (no foreign key). NULL: not suppressed, or
  // recorded before this column.
  `
  ALTER TABLE incidents ADD COLUMN suppressed_by TEXT;
  ALTER TABLE incidents ADD COLUMN suppressed_reason TEXT;
  `,
  // 12: model bundles in their own table. A bundle (the checkpoint) can be megabytes, and SQLite
  // rewrites a whole row to change one column of it: a promotion used to rewrite every bundle it
  // moved in one transaction, every other writer waiting, and listing versions walked the
  // bundles' pages to reach entity_version, which lies after them. Stage changes and lists now
  // touch only the small rows.
  `
  CREATE TABLE model_bundles (
    detector_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    bundle TEXT NOT NULL,
    PRIMARY KEY (detector_id, version),
    FOREIGN KEY (detector_id, version) REFERENCES model_versions (detector_id, version) ON DELETE CASCADE
  );
  INSERT INTO model_bundles (detector_id, version, bundle) SELECT detector_id, version, bundle FROM model_versions;
  ALTER TABLE model_versions DROP COLUMN bundle;
  `,
  // 13: every suppression rule that held part of a suppressed incident (JSON list of rule ids and
  // reasons, as suppressed_by copies one): several rules together can cover one incident. NULL:
  // recorded before, read as the one rule in suppressed_by.
  `
  ALTER TABLE incidents ADD COLUMN suppressed_by_all TEXT;
  `,
  // 14: verdicts from Grafana annotations that can be withdrawn. Each verdict names the annotation
  // that gave it (NULL: given in the UI or the API, which annotations never touch) and when it was
  // withdrawn (the annotation deleted, its verdict tag removed or changed); the ledger keeps the
  // span each annotation marked, so a poll knows which applied ones Grafana should have returned.
  // Verdicts recorded before are traced to their annotation where the poll that applied them
  // applied no other annotation with the same verdict.
  `
  ALTER TABLE incident_feedback ADD COLUMN annotation_id TEXT;
  ALTER TABLE incident_feedback ADD COLUMN withdrawn_at INTEGER;
  CREATE INDEX incident_feedback_annotation ON incident_feedback (annotation_id) WHERE annotation_id IS NOT NULL;
  ALTER TABLE annotation_feedback ADD COLUMN time_at INTEGER;
  ALTER TABLE annotation_feedback ADD COLUMN time_end_at INTEGER;
  ALTER TABLE annotation_feedback ADD COLUMN withdrawn_at INTEGER;
  UPDATE incident_feedback SET annotation_id = (
    SELECT a.annotation_id FROM annotation_feedback a
    WHERE a.applied_at = incident_feedback.at AND a.verdict = incident_feedback.verdict
  )
  WHERE actor LIKE 'grafana:%' AND (
    SELECT COUNT(*) FROM annotation_feedback a
    WHERE a.applied_at = incident_feedback.at AND a.verdict = incident_feedback.verdict
  ) = 1;
  `,
];

/**
 * PostgreSQL: the table `isoscope_schema` records each applied version; replicas starting together
 * take an advisory lock first, so exactly one applies a migration. Times are epoch milliseconds in
 * BIGINT (as in SQLite), JSON stays TEXT: the registry validates what it reads either way, and the
 * bytes written are the bytes read back.
 */
export const POSTGRES_MIGRATIONS: string[] = [
  // 1: the schema of SQLite's migrations 1-3
  `
  CREATE TABLE detectors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE model_versions (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL CHECK (stage IN ('candidate', 'staging', 'production', 'archived')),
    trained_at BIGINT NOT NULL,
    metrics TEXT NOT NULL,
    params TEXT NOT NULL,
    bundle TEXT NOT NULL,
    PRIMARY KEY (detector_id, version)
  );
  CREATE UNIQUE INDEX one_production_per_entity ON model_versions (detector_id, entity) WHERE stage = 'production';
  CREATE TABLE stage_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX stage_history_detector ON stage_history (detector_id, id);
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'backfill')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    phase TEXT NOT NULL,
    progress DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    error TEXT,
    result TEXT
  );
  CREATE INDEX jobs_detector ON jobs (detector_id, created_at);
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  CREATE TABLE drift_reports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL,
    report TEXT NOT NULL
  );
  CREATE INDEX drift_reports_latest ON drift_reports (detector_id, entity, id);
  CREATE TABLE stream_state (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (detector_id, entity)
  );
  CREATE TABLE alert_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receiver TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX alert_outbox_receiver ON alert_outbox (receiver, id);
  CREATE TABLE detector_state (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('candidate', 'staging', 'production', 'archived')),
    snapshot TEXT NOT NULL,
    cursor BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (detector_id, entity, stage)
  );
  `,
  // 2: the streaming runtime's state per (detector, entity, stage), as SQLite's 4
  `
  CREATE TABLE runtime_state (
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('production', 'staging')),
    version INTEGER NOT NULL,
    scored_to BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (detector_id, entity, stage)
  );
  `,
  // 3: per-entity version numbers: each (detector, entity)'s models are v1, v2, … (entity_version);
  // the detector-wide version stays the registry's unique id. Existing versions are numbered in order.
  `
  ALTER TABLE model_versions ADD COLUMN entity_version INTEGER NOT NULL DEFAULT 0;
  UPDATE model_versions SET entity_version = (
    SELECT COUNT(*) FROM model_versions m
    WHERE m.detector_id = model_versions.detector_id AND m.entity = model_versions.entity AND m.version <= model_versions.version
  );
  CREATE UNIQUE INDEX model_versions_entity_version ON model_versions (detector_id, entity, entity_version);
  `,
  // 4: incidents and feedback. Flagged rows grouped per (detector, entity) into incidents (state
  // firing/resolved, span in time and rows, peak of the smoothed score, worst severity, counts of top metrics, the
  // quiet rows since the last flag and the last scores while firing), and operators' verdicts on them.
  `
  CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    detector_id TEXT NOT NULL REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    peak_at BIGINT NOT NULL,
    peak_score DOUBLE PRECISION NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('none', 'low', 'medium', 'high', 'critical')),
    flagged INTEGER NOT NULL,
    span_rows INTEGER NOT NULL,
    top_metrics TEXT NOT NULL,
    quiet_rows INTEGER NOT NULL,
    recent TEXT NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX incidents_entity ON incidents (detector_id, entity, start_at);
  CREATE INDEX incidents_start ON incidents (start_at);
  CREATE UNIQUE INDEX one_firing_incident ON incidents (detector_id, entity) WHERE state = 'firing';
  CREATE TABLE incident_feedback (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN ('real', 'expected', 'not_anomaly')),
    note TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX incident_feedback_incident ON incident_feedback (incident_id, id);
  `,
  // 5: suppression rules: a metric, an entity and/or a detector, in a daily or weekly window or a
  // maintenance period, with a reason; flagged rows inside one are recorded but do not page.
  `
  CREATE TABLE suppression_rules (
    id TEXT PRIMARY KEY,
    detector_id TEXT REFERENCES detectors(id) ON DELETE CASCADE,
    entity TEXT,
    metric TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly', 'period')),
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  `,
  // 6: verdicts taken from Grafana annotations: each annotation applied, by Grafana's id, with the
  // version (its `updated` time) applied, so the poller applies each annotation once per edit.
  `
  CREATE TABLE annotation_feedback (
    annotation_id TEXT PRIMARY KEY,
    updated BIGINT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('real', 'expected', 'not_anomaly')),
    incidents INTEGER NOT NULL,
    applied_at BIGINT NOT NULL
  );
  `,
  // 7: one replica at a time delivers a receiver's outbox (a lease, renewed while it delivers),
  // so replicas sharing a registry do not send the same alert twice.
  `
  CREATE TABLE outbox_leases (
    receiver TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until_at BIGINT NOT NULL
  );
  `,
  // 8: a heartbeat on jobs, so a replica that starts fails only the jobs nobody is running any more
  // (replicas sharing a PostgreSQL registry run each other's neighbours' jobs).
  `
  ALTER TABLE jobs ADD COLUMN heartbeat_at BIGINT;
  `,
  // 9: which suppression rule kept an incident from paging: its id and reason, copied so the
  // incident still says why once the rule is deleted (no foreign key). NULL: not suppressed, or
  // recorded before this column.
  `
  ALTER TABLE incidents ADD COLUMN suppressed_by TEXT;
  ALTER TABLE incidents ADD COLUMN suppressed_reason TEXT;
  `,
  // 10: model bundles in their own table, as SQLite's 12: a stage change updates a small row and
  // lists never reach a bundle (PostgreSQL kept unchanged bundles out of line already; the two
  // dialects keep one schema).
  `
  CREATE TABLE model_bundles (
    detector_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    bundle TEXT NOT NULL,
    PRIMARY KEY (detector_id, version),
    FOREIGN KEY (detector_id, version) REFERENCES model_versions (detector_id, version) ON DELETE CASCADE
  );
  INSERT INTO model_bundles (detector_id, version, bundle) SELECT detector_id, version, bundle FROM model_versions;
  ALTER TABLE model_versions DROP COLUMN bundle;
  `,
  // 11: every suppression rule that held part of a suppressed incident, as SQLite's 13.
  `
  ALTER TABLE incidents ADD COLUMN suppressed_by_all TEXT;
  `,
  // 12: verdicts from Grafana annotations that can be withdrawn, as SQLite's 14.
  `
  ALTER TABLE incident_feedback ADD COLUMN annotation_id TEXT;
  ALTER TABLE incident_feedback ADD COLUMN withdrawn_at BIGINT;
  CREATE INDEX incident_feedback_annotation ON incident_feedback (annotation_id) WHERE annotation_id IS NOT NULL;
  ALTER TABLE annotation_feedback ADD COLUMN time_at BIGINT;
  ALTER TABLE annotation_feedback ADD COLUMN time_end_at BIGINT;
  ALTER TABLE annotation_feedback ADD COLUMN withdrawn_at BIGINT;
  UPDATE incident_feedback SET annotation_id = (
    SELECT a.annotation_id FROM annotation_feedback a
    WHERE a.applied_at = incident_feedback.at AND a.verdict = incident_feedback.verdict
  )
  WHERE actor LIKE 'grafana:%' AND (
    SELECT COUNT(*) FROM annotation_feedback a
    WHERE a.applied_at = incident_feedback.at AND a.verdict = incident_feedback.verdict
  ) = 1;
  `,
];
