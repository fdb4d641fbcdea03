import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import {
  RegistryError,
  type DetectorRecord,
  type JobRecord,
  type ModelVersionRecord,
  type Registry,
  type Role,
  type RuntimeStateRecord,
  type Stage,
  type StageChange,
  type TokenRecord,
} from './types.js';

interface DetectorRow {
  id: string;
  name: string;
  spec: string;
  created_at: number;
  updated_at: number;
}
interface VersionRow {
  detector_id: string;
  version: number;
  entity: string;
  stage: Stage;
  trained_at: number;
  metrics: string;
  params: string;
  bundle?: string;
}
interface JobRow {
  id: string;
  detector_id: string;
  kind: JobRecord['kind'];
  state: JobRecord['state'];
  phase: string;
  progress: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  result: string | null;
}
interface TokenRow {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  revoked_at: number | null;
}

interface RuntimeRow {
  detector_id: string;
  entity: string;
  stage: RuntimeStateRecord['stage'];
  version: number;
  scored_to: number;
  snapshot: string;
  updated_at: number;
}

const runtime = (r: RuntimeRow): RuntimeStateRecord => ({
  detectorId: r.detector_id,
  entity: r.entity,
  stage: r.stage,
  version: r.version,
  scoredTo: r.scored_to,
  snapshot: r.snapshot,
  updatedAt: r.updated_at,
});

const detector = (r: DetectorRow): DetectorRecord => ({
  id: r.id,
  name: r.name,
  spec: JSON.parse(r.spec) as unknown,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const version = (r: VersionRow): ModelVersionRecord => ({
  detectorId: r.detector_id,
  version: r.version,
  entity: r.entity,
  stage: r.stage,
  trainedAt: r.trained_at,
  metrics: JSON.parse(r.metrics) as unknown,
  params: JSON.parse(r.params) as unknown,
  ...(r.bundle !== undefined ? { bundle: r.bundle } : {}),
});
const job = (r: JobRow): JobRecord => ({
  id: r.id,
  detectorId: r.detector_id,
  kind: r.kind,
  state: r.state,
  phase: r.phase,
  progress: r.progress,
  createdAt: r.created_at,
  ...(r.started_at !== null ? { startedAt: r.started_at } : {}),
  ...(r.finished_at !== null ? { finishedAt: r.finished_at } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
  ...(r.result !== null ? { result: JSON.parse(r.result) as unknown } : {}),
});
const token = (r: TokenRow): TokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
});

/**
 * The registry in one SQLite file (WAL mode, foreign keys on). SQLite allows one writer: run one
 * service replica per file (the Kubernetes overlay `sqlite-single` does), or another Registry.
 */
export class SqliteRegistry implements Registry {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  /** Applies the migrations not yet applied, each in its own transaction. */
  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the registry's schema is version ${current}, newer than this Isoscope knows (${MIGRATIONS.length}): upgrade Isoscope`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async ping(): Promise<boolean> {
    return this.db.open && (this.db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
  }

  async listDetectors(): Promise<DetectorRecord[]> {
    return (this.db.prepare('SELECT * FROM detectors ORDER BY name').all() as DetectorRow[]).map(detector);
  }

  async getDetector(id: string): Promise<DetectorRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM detectors WHERE id = ?').get(id) as DetectorRow | undefined;
    return row ? detector(row) : undefined;
  }

  async createDetector(r: { id: string; name: string; spec: unknown }, now: number): Promise<DetectorRecord> {
    try {
      this.db
        .prepare('INSERT INTO detectors (id, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(r.id, r.name, JSON.stringify(r.spec), now, now);
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT'))
        throw new RegistryError('CONFLICT', `a detector named '${r.name}' already exists`);
      throw err;
    }
    return (await this.getDetector(r.id))!;
  }

  async updateDetector(
    id: string,
    changes: { name?: string; spec?: unknown },
    now: number,
  ): Promise<DetectorRecord> {
    const existing = await this.getDetector(id);
    if (!existing) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
    try {
      this.db
        .prepare('UPDATE detectors SET name = ?, spec = ?, updated_at = ? WHERE id = ?')
        .run(changes.name ?? existing.name, JSON.stringify(changes.spec ?? existing.spec), now, id);
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT'))
        throw new RegistryError('CONFLICT', `a detector named '${changes.name}' already exists`);
      throw err;
    }
    return (await this.getDetector(id))!;
  }

  async deleteDetector(id: string): Promise<void> {
    const result = this.db.prepare('DELETE FROM detectors WHERE id = ?').run(id);
    if (result.changes === 0) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
  }

  async addModelVersion(
    v: { detectorId: string; entity: string; bundle: string; metrics: unknown; params: unknown },
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord> {
    const add = this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM detectors WHERE id = ?').get(v.detectorId))
        throw new RegistryError('NOT_FOUND', `no detector '${v.detectorId}'`);
      const next = (
        this.db
          .prepare('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE detector_id = ?')
          .get(v.detectorId) as { next: number }
      ).next;
      this.db
        .prepare(
          'INSERT INTO model_versions (detector_id, version, entity, stage, trained_at, metrics, params, bundle) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          v.detectorId,
          next,
          v.entity,
          'candidate',
          now,
          JSON.stringify(v.metrics),
          JSON.stringify(v.params),
          v.bundle,
        );
      this.db
        .prepare(
          'INSERT INTO stage_history (detector_id, version, from_stage, to_stage, actor, reason, at) VALUES (?, ?, NULL, ?, ?, ?, ?)',
        )
        .run(v.detectorId, next, 'candidate', actor, 'trained', now);
      return next;
    });
    const next = add();
    return (await this.getModelVersion(v.detectorId, next))!;
  }

  async listModelVersions(detectorId: string): Promise<ModelVersionRecord[]> {
    return (
      this.db
        .prepare(
          'SELECT detector_id, version, entity, stage, trained_at, metrics, params FROM model_versions WHERE detector_id = ? ORDER BY version DESC',
        )
        .all(detectorId) as VersionRow[]
    ).map(version);
  }

  async getModelVersion(detectorId: string, v: number): Promise<ModelVersionRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM model_versions WHERE detector_id = ? AND version = ?')
      .get(detectorId, v) as VersionRow | undefined;
    return row ? version(row) : undefined;
  }

  async setStage(
    detectorId: string,
    v: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): Promise<ModelVersionRecord> {
    this.db.transaction(() => this.moveStage(detectorId, v, to, actor, reason, now))();
    return (await this.getModelVersion(detectorId, v))!;
  }

  /** Inside a transaction: moves one version, archiving the production one it replaces. */
  private moveStage(
    detectorId: string,
    v: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): void {
    const row = this.db
      .prepare('SELECT stage, entity FROM model_versions WHERE detector_id = ? AND version = ?')
      .get(detectorId, v) as { stage: Stage; entity: string } | undefined;
    if (!row) throw new RegistryError('NOT_FOUND', `detector '${detectorId}' has no version ${v}`);
    if (row.stage === to) throw new RegistryError('CONFLICT', `version ${v} is already ${to}`);
    const history = this.db.prepare(
      'INSERT INTO stage_history (detector_id, version, from_stage, to_stage, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    if (to === 'production') {
      const current = this.db
        .prepare(
          "SELECT version FROM model_versions WHERE detector_id = ? AND entity = ? AND stage = 'production'",
        )
        .get(detectorId, row.entity) as { version: number } | undefined;
      if (current) {
        this.db
          .prepare("UPDATE model_versions SET stage = 'archived' WHERE detector_id = ? AND version = ?")
          .run(detectorId, current.version);
        history.run(
          detectorId,
          current.version,
          'production',
          'archived',
          actor,
          `replaced by version ${v}`,
          now,
        );
      }
    }
    this.db
      .prepare('UPDATE model_versions SET stage = ? WHERE detector_id = ? AND version = ?')
      .run(to, detectorId, v);
    history.run(detectorId, v, row.stage, to, actor, reason, now);
  }

  async rollback(
    detectorId: string,
    actor: string,
    reason: string,
    now: number,
    entity = '',
  ): Promise<ModelVersionRecord> {
    const target = this.db.transaction(() => {
      const current = this.db
        .prepare(
          "SELECT version FROM model_versions WHERE detector_id = ? AND entity = ? AND stage = 'production'",
        )
        .get(detectorId, entity) as { version: number } | undefined;
      if (!current)
        throw new RegistryError(
          'CONFLICT',
          `detector '${detectorId}' has no production version to roll back`,
        );
      // The latest version that was production before the current one and is not production now.
      const previous = this.db
        .prepare(
          `SELECT h.version FROM stage_history h JOIN model_versions m ON m.detector_id = h.detector_id AND m.version = h.version
           WHERE h.detector_id = ? AND h.to_stage = 'production' AND h.version != ? AND m.entity = ?
           ORDER BY h.id DESC LIMIT 1`,
        )
        .get(detectorId, current.version, entity) as { version: number } | undefined;
      if (!previous)
        throw new RegistryError(
          'CONFLICT',
          `detector '${detectorId}' has no earlier production version to roll back to`,
        );
      this.moveStage(detectorId, previous.version, 'production', actor, `rollback: ${reason}`, now);
      return previous.version;
    })();
    return (await this.getModelVersion(detectorId, target))!;
  }

  async stageHistory(detectorId: string): Promise<StageChange[]> {
    return (
      this.db
        .prepare('SELECT * FROM stage_history WHERE detector_id = ? ORDER BY id')
        .all(detectorId) as Array<{
        detector_id: string;
        version: number;
        from_stage: Stage | null;
        to_stage: Stage;
        actor: string;
        reason: string;
        at: number;
      }>
    ).map((r) => ({
      detectorId: r.detector_id,
      version: r.version,
      from: r.from_stage,
      to: r.to_stage,
      actor: r.actor,
      reason: r.reason,
      at: r.at,
    }));
  }

  async createJob(
    j: { id: string; detectorId: string; kind: JobRecord['kind'] },
    now: number,
  ): Promise<JobRecord> {
    this.db
      .prepare(
        "INSERT INTO jobs (id, detector_id, kind, state, phase, progress, created_at) VALUES (?, ?, ?, 'queued', 'queued', 0, ?)",
      )
      .run(j.id, j.detectorId, j.kind, now);
    return (await this.getJob(j.id))!;
  }

  async updateJob(
    id: string,
    changes: Partial<
      Pick<JobRecord, 'state' | 'phase' | 'progress' | 'startedAt' | 'finishedAt' | 'error' | 'result'>
    >,
  ): Promise<JobRecord> {
    const columns: Record<string, unknown> = {
      state: changes.state,
      phase: changes.phase,
      progress: changes.progress,
      started_at: changes.startedAt,
      finished_at: changes.finishedAt,
      error: changes.error,
      result: changes.result === undefined ? undefined : JSON.stringify(changes.result),
    };
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    if (set.length > 0) {
      const result = this.db
        .prepare(`UPDATE jobs SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`)
        .run(...set.map(([, v]) => v), id);
      if (result.changes === 0) throw new RegistryError('NOT_FOUND', `no job '${id}'`);
    }
    const updated = await this.getJob(id);
    if (!updated) throw new RegistryError('NOT_FOUND', `no job '${id}'`);
    return updated;
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? job(row) : undefined;
  }

  async listJobs(detectorId?: string): Promise<JobRecord[]> {
    const rows = detectorId
      ? (this.db
          .prepare('SELECT * FROM jobs WHERE detector_id = ? ORDER BY created_at DESC')
          .all(detectorId) as JobRow[])
      : (this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC').all() as JobRow[]);
    return rows.map(job);
  }

  async failInterruptedJobs(now: number): Promise<number> {
    return this.db
      .prepare(
        "UPDATE jobs SET state = 'failed', error = 'interrupted: the service stopped while the job ran', finished_at = ? WHERE state IN ('queued', 'running')",
      )
      .run(now).changes;
  }

  async addDriftReport(
    detectorId: string,
    version: number,
    entity: string,
    at: number,
    report: string,
  ): Promise<void> {
    this.db
      .prepare('INSERT INTO drift_reports (detector_id, version, entity, at, report) VALUES (?, ?, ?, ?, ?)')
      .run(detectorId, version, entity, at, report);
  }

  async latestDriftReports(detectorId: string): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT report FROM drift_reports d WHERE detector_id = ? AND id = (SELECT MAX(id) FROM drift_reports e WHERE e.detector_id = d.detector_id AND e.entity = d.entity) ORDER BY entity`,
      )
      .all(detectorId) as Array<{ report: string }>;
    return rows.map((r) => r.report);
  }

  async setStreamState(detectorId: string, entity: string, state: string, now: number): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO stream_state (detector_id, entity, snapshot, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (detector_id, entity) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at',
      )
      .run(detectorId, entity, state, now);
  }

  async getStreamState(detectorId: string, entity: string): Promise<string | undefined> {
    const row = this.db
      .prepare('SELECT snapshot FROM stream_state WHERE detector_id = ? AND entity = ?')
      .get(detectorId, entity) as { snapshot: string } | undefined;
    return row?.snapshot;
  }

  async setRuntimeState(r: RuntimeStateRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO runtime_state (detector_id, entity, stage, version, scored_to, snapshot, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (detector_id, entity, stage) DO UPDATE SET version = excluded.version,
           scored_to = excluded.scored_to, snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
      )
      .run(r.detectorId, r.entity, r.stage, r.version, r.scoredTo, r.snapshot, r.updatedAt);
  }

  async getRuntimeState(
    detectorId: string,
    entity: string,
    stage: RuntimeStateRecord['stage'],
  ): Promise<RuntimeStateRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM runtime_state WHERE detector_id = ? AND entity = ? AND stage = ?')
      .get(detectorId, entity, stage) as RuntimeRow | undefined;
    return row ? runtime(row) : undefined;
  }

  async listRuntimeStates(detectorId: string): Promise<RuntimeStateRecord[]> {
    return (
      this.db
        .prepare(
          `SELECT detector_id, entity, stage, version, scored_to, '' AS snapshot, updated_at
           FROM runtime_state WHERE detector_id = ? ORDER BY entity, stage`,
        )
        .all(detectorId) as RuntimeRow[]
    ).map(runtime);
  }

  async deleteRuntimeState(
    detectorId: string,
    entity: string,
    stage: RuntimeStateRecord['stage'],
  ): Promise<void> {
    this.db
      .prepare('DELETE FROM runtime_state WHERE detector_id = ? AND entity = ? AND stage = ?')
      .run(detectorId, entity, stage);
  }

  async addToOutbox(receiver: string, events: string[], now: number): Promise<number[]> {
    const insert = this.db.prepare('INSERT INTO alert_outbox (receiver, event, created_at) VALUES (?, ?, ?)');
    return this.db.transaction(() =>
      events.map((e) => Number(insert.run(receiver, e, now).lastInsertRowid)),
    )();
  }

  async listOutbox(receiver: string): Promise<Array<{ id: number; event: string }>> {
    return this.db
      .prepare('SELECT id, event FROM alert_outbox WHERE receiver = ? ORDER BY id')
      .all(receiver) as Array<{ id: number; event: string }>;
  }

  async removeFromOutbox(ids: number[]): Promise<void> {
    const remove = this.db.prepare('DELETE FROM alert_outbox WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => remove.run(id)))();
  }

  async createToken(
    t: { id: string; name: string; role: Role; hash: string },
    now: number,
  ): Promise<TokenRecord> {
    this.db
      .prepare('INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(t.id, t.name, t.role, t.hash, now);
    return token(this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(t.id) as TokenRow);
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as
      TokenRow | undefined;
    return row ? token(row) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.db.prepare('SELECT * FROM tokens ORDER BY created_at').all() as TokenRow[]).map(token);
  }

  async revokeToken(id: string, now: number): Promise<void> {
    const result = this.db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(now, id);
    if (result.changes === 0) throw new RegistryError('NOT_FOUND', `no active token '${id}'`);
  }
}
