/**
 * The stores, written once over `SqlDb` for both dialects. Each reads rows through a TypeBox
 * schema (rows.ts) and maps constraint violations to RegistryError (CONFLICT, NOT_FOUND), so a
 * request that collides with the data gets a 4xx naming it, whichever database holds it.
 */
import {
  check,
  decodeJson,
  AnnotationFeedbackRow,
  DetectorRow,
  DetectorStateRow,
  encodeJson,
  FeedbackRow,
  IdRow,
  IncidentRow,
  JobRow,
  NumberRow,
  OutboxRow,
  RecentJson,
  SuppressedByJson,
  rowName,
  RuntimeStateRow,
  StageChangeRow,
  SuppressionRow,
  TextRow,
  TokenRow,
  TopMetricsJson,
  VersionRow,
} from './rows.js';
import type { Queryable, SqlDb, SqlValue } from './sql.js';
import {
  RegistryError,
  type DetectorRecord,
  type DetectorStateRecord,
  type DetectorStateStore,
  type DetectorStore,
  type DriftReportStore,
  type AnnotationSource,
  type AppliedAnnotation,
  type IncidentFeedback,
  type IncidentQuery,
  type IncidentRecord,
  type IncidentStore,
  type JobChanges,
  type JobRecord,
  type JobStore,
  type ModelVersionRecord,
  type ModelVersionStore,
  type OutboxStore,
  type RegistryStores,
  type Role,
  type RuntimeStateRecord,
  type RuntimeStateStore,
  type Stage,
  type StageChange,
  type StreamStateStore,
  type SuppressionRule,
  type SuppressionStore,
  type TokenRecord,
  type TokenStore,
} from './types.js';

const detectorOf = (raw: unknown): DetectorRecord => {
  const what = rowName('detectors', raw, ['id']);
  const r = check(DetectorRow, raw, what);
  return {
    id: r.id,
    name: r.name,
    spec: decodeJson(r.spec, `${what} column spec`),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
};

const versionOf = (raw: unknown): ModelVersionRecord => {
  const what = rowName('model_versions', raw, ['detector_id', 'version']);
  const r = check(VersionRow, raw, what);
  return {
    detectorId: r.detector_id,
    version: r.version,
    entity: r.entity,
    entityVersion: r.entity_version,
    stage: r.stage,
    trainedAt: r.trained_at,
    metrics: decodeJson(r.metrics, `${what} column metrics`),
    params: decodeJson(r.params, `${what} column params`),
    ...(r.bundle !== undefined ? { bundle: r.bundle } : {}),
  };
};

const stageChangeOf = (raw: unknown): StageChange => {
  const r = check(StageChangeRow, raw, rowName('stage_history', raw, ['detector_id', 'version']));
  return {
    detectorId: r.detector_id,
    version: r.version,
    from: r.from_stage,
    to: r.to_stage,
    actor: r.actor,
    reason: r.reason,
    at: r.at,
  };
};

const jobOf = (raw: unknown): JobRecord => {
  const what = rowName('jobs', raw, ['id']);
  const r = check(JobRow, raw, what);
  return {
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
    ...(r.result !== null ? { result: decodeJson(r.result, `${what} column result`) } : {}),
  };
};

const tokenOf = (raw: unknown): TokenRecord => {
  const r = check(TokenRow, raw, rowName('tokens', raw, ['id']));
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: r.created_at,
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
  };
};

const stateOf = (raw: unknown): DetectorStateRecord => {
  const what = rowName('detector_state', raw, ['detector_id', 'entity', 'stage']);
  const r = check(DetectorStateRow, raw, what);
  return {
    detectorId: r.detector_id,
    entity: r.entity,
    stage: r.stage,
    snapshot: decodeJson(r.snapshot, `${what} column snapshot`),
    ...(r.cursor !== null ? { cursor: r.cursor } : {}),
    updatedAt: r.updated_at,
  };
};

const DETECTOR = 'SELECT id, name, spec, created_at, updated_at FROM detectors';

class SqlDetectorStore implements DetectorStore {
  constructor(private readonly db: SqlDb) {}

  async list(): Promise<DetectorRecord[]> {
    return (await this.db.all(`${DETECTOR} ORDER BY name`)).map(detectorOf);
  }

  async get(id: string): Promise<DetectorRecord | undefined> {
    const row = await this.db.get(`${DETECTOR} WHERE id = ?`, [id]);
    return row === undefined ? undefined : detectorOf(row);
  }

  async create(r: { id: string; name: string; spec: unknown }, now: number): Promise<DetectorRecord> {
    const spec = encodeJson(r.spec, `detector '${r.id}' spec`);
    try {
      const row = await this.db.get(
        'INSERT INTO detectors (id, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
        [r.id, r.name, spec, now, now],
      );
      return detectorOf(row);
    } catch (err) {
      if (this.db.isUniqueViolation(err))
        throw new RegistryError('CONFLICT', `a detector named '${r.name}' already exists`);
      throw err;
    }
  }

  async update(id: string, changes: { name?: string; spec?: unknown }, now: number): Promise<DetectorRecord> {
    const sets: string[] = ['updated_at = ?'];
    const params: SqlValue[] = [now];
    if (changes.name !== undefined) {
      sets.push('name = ?');
      params.push(changes.name);
    }
    if (changes.spec !== undefined) {
      sets.push('spec = ?');
      params.push(encodeJson(changes.spec, `detector '${id}' spec`));
    }
    try {
      // One statement: a concurrent update of the other field (another replica) is not overwritten
      // with the value this one read.
      const row = await this.db.get(`UPDATE detectors SET ${sets.join(', ')} WHERE id = ? RETURNING *`, [
        ...params,
        id,
      ]);
      if (row === undefined) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
      return detectorOf(row);
    } catch (err) {
      if (this.db.isUniqueViolation(err))
        throw new RegistryError('CONFLICT', `a detector named '${changes.name}' already exists`);
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    if ((await this.db.run('DELETE FROM detectors WHERE id = ?', [id])) === 0)
      throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
  }
}

const VERSION =
  'SELECT detector_id, version, entity, entity_version, stage, trained_at, metrics, params FROM model_versions';
// A missing bundle row reads as NULL, which the row check names as damage rather than "no such version".
const VERSION_WITH_BUNDLE = `SELECT m.detector_id, m.version, m.entity, m.entity_version, m.stage, m.trained_at, m.metrics, m.params, b.bundle
  FROM model_versions m LEFT JOIN model_bundles b ON b.detector_id = m.detector_id AND b.version = m.version`;
const HISTORY =
  'INSERT INTO stage_history (detector_id, version, from_stage, to_stage, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)';

class SqlModelVersionStore implements ModelVersionStore {
  constructor(private readonly db: SqlDb) {}

  /**
   * Inside a transaction: locks the detector's row, so changes to one detector's versions run one
   * after another across replicas (version numbers, the single production version).
   */
  private async lockDetector(tx: Queryable, detectorId: string): Promise<void> {
    if (
      (await tx.get(`SELECT id FROM detectors WHERE id = ?${this.db.forUpdate}`, [detectorId])) === undefined
    )
      throw new RegistryError('NOT_FOUND', `no detector '${detectorId}'`);
  }

  /** Bundles can be megabytes, in their own table: read only when asked for. */
  private async getIn(
    q: Queryable,
    detectorId: string,
    v: number,
    withBundle = true,
  ): Promise<ModelVersionRecord | undefined> {
    const row = await q.get(
      withBundle
        ? `${VERSION_WITH_BUNDLE} WHERE m.detector_id = ? AND m.version = ?`
        : `${VERSION} WHERE detector_id = ? AND version = ?`,
      [detectorId, v],
    );
    return row === undefined ? undefined : versionOf(row);
  }

  async add(
    v: { detectorId: string; entity: string; bundle: string; metrics: unknown; params: unknown },
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord> {
    const metrics = encodeJson(v.metrics, 'model version metrics');
    const params = encodeJson(v.params, 'model version params');
    return this.db.transaction(async (tx) => {
      await this.lockDetector(tx, v.detectorId);
      const next = check(
        NumberRow,
        await tx.get('SELECT COALESCE(MAX(version), 0) + 1 AS n FROM model_versions WHERE detector_id = ?', [
          v.detectorId,
        ]),
        'next version number',
      ).n;
      const nextOfEntity = check(
        NumberRow,
        await tx.get(
          'SELECT COALESCE(MAX(entity_version), 0) + 1 AS n FROM model_versions WHERE detector_id = ? AND entity = ?',
          [v.detectorId, v.entity],
        ),
        'next version number of the entity',
      ).n;
      await tx.run(
        'INSERT INTO model_versions (detector_id, version, entity, entity_version, stage, trained_at, metrics, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [v.detectorId, next, v.entity, nextOfEntity, 'candidate', now, metrics, params],
      );
      await tx.run('INSERT INTO model_bundles (detector_id, version, bundle) VALUES (?, ?, ?)', [
        v.detectorId,
        next,
        v.bundle,
      ]);
      await tx.run(HISTORY, [v.detectorId, next, null, 'candidate', actor, 'trained', now]);
      return { ...(await this.getIn(tx, v.detectorId, next, false))!, bundle: v.bundle };
    });
  }

  async list(detectorId: string): Promise<ModelVersionRecord[]> {
    return (await this.db.all(`${VERSION} WHERE detector_id = ? ORDER BY version DESC`, [detectorId])).map(
      versionOf,
    );
  }

  get(
    detectorId: string,
    v: number,
    options: { bundle?: boolean } = {},
  ): Promise<ModelVersionRecord | undefined> {
    return this.getIn(this.db, detectorId, v, options.bundle ?? true);
  }

  async setStage(
    detectorId: string,
    v: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): Promise<ModelVersionRecord> {
    return this.db.transaction(async (tx) => {
      await this.lockDetector(tx, detectorId);
      await this.moveStage(tx, detectorId, v, to, actor, reason, now);
      return (await this.getIn(tx, detectorId, v, false))!;
    });
  }

  async setStages(
    detectorId: string,
    moves: Array<{ version: number; to: Stage; reason: string }>,
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord[]> {
    return this.db.transaction(async (tx) => {
      await this.lockDetector(tx, detectorId);
      for (const m of moves) await this.moveStage(tx, detectorId, m.version, m.to, actor, m.reason, now);
      const out: ModelVersionRecord[] = [];
      for (const m of moves) out.push((await this.getIn(tx, detectorId, m.version, false))!);
      return out;
    });
  }

  /** Inside a transaction holding the detector's lock: moves one version, archiving the production one it replaces. */
  private async moveStage(
    tx: Queryable,
    detectorId: string,
    v: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): Promise<void> {
    const row = await this.getIn(tx, detectorId, v, false);
    if (!row) throw new RegistryError('NOT_FOUND', `detector '${detectorId}' has no version ${v}`);
    if (row.stage === to) throw new RegistryError('CONFLICT', `version ${v} is already ${to}`);
    if (to === 'production') {
      const current = await tx.get(
        "SELECT version AS n FROM model_versions WHERE detector_id = ? AND entity = ? AND stage = 'production'",
        [detectorId, row.entity],
      );
      if (current !== undefined) {
        const n = check(NumberRow, current, `production version of '${detectorId}'`).n;
        await tx.run("UPDATE model_versions SET stage = 'archived' WHERE detector_id = ? AND version = ?", [
          detectorId,
          n,
        ]);
        await tx.run(HISTORY, [
          detectorId,
          n,
          'production',
          'archived',
          actor,
          `replaced by version ${v}`,
          now,
        ]);
      }
    }
    await tx.run('UPDATE model_versions SET stage = ? WHERE detector_id = ? AND version = ?', [
      to,
      detectorId,
      v,
    ]);
    await tx.run(HISTORY, [detectorId, v, row.stage, to, actor, reason, now]);
  }

  async rollback(
    detectorId: string,
    actor: string,
    reason: string,
    now: number,
    entity = '',
  ): Promise<ModelVersionRecord> {
    return this.db.transaction(async (tx) => {
      await this.lockDetector(tx, detectorId);
      const current = await tx.get(
        "SELECT version AS n FROM model_versions WHERE detector_id = ? AND entity = ? AND stage = 'production'",
        [detectorId, entity],
      );
      if (current === undefined)
        throw new RegistryError(
          'CONFLICT',
          `detector '${detectorId}' has no production version to roll back`,
        );
      const currentVersion = check(NumberRow, current, `production version of '${detectorId}'`).n;
      // The latest version that was production before the current one and is not production now.
      const previous = await tx.get(
        `SELECT h.version AS n FROM stage_history h JOIN model_versions m ON m.detector_id = h.detector_id AND m.version = h.version
         WHERE h.detector_id = ? AND h.to_stage = 'production' AND h.version != ? AND m.entity = ?
         ORDER BY h.id DESC LIMIT 1`,
        [detectorId, currentVersion, entity],
      );
      if (previous === undefined)
        throw new RegistryError(
          'CONFLICT',
          `detector '${detectorId}' has no earlier production version to roll back to`,
        );
      const target = check(NumberRow, previous, `rollback target of '${detectorId}'`).n;
      await this.moveStage(tx, detectorId, target, 'production', actor, `rollback: ${reason}`, now);
      return (await this.getIn(tx, detectorId, target, false))!;
    });
  }

  async history(detectorId: string): Promise<StageChange[]> {
    return (
      await this.db.all(
        'SELECT detector_id, version, from_stage, to_stage, actor, reason, at FROM stage_history WHERE detector_id = ? ORDER BY id',
        [detectorId],
      )
    ).map(stageChangeOf);
  }
}

class SqlJobStore implements JobStore {
  constructor(private readonly db: SqlDb) {}

  async create(
    j: { id: string; detectorId: string; kind: JobRecord['kind'] },
    now: number,
  ): Promise<JobRecord> {
    try {
      return jobOf(
        await this.db.get(
          "INSERT INTO jobs (id, detector_id, kind, state, phase, progress, created_at, heartbeat_at) VALUES (?, ?, ?, 'queued', 'queued', 0, ?, ?) RETURNING *",
          [j.id, j.detectorId, j.kind, now, now],
        ),
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no detector '${j.detectorId}'`);
      if (this.db.isUniqueViolation(err))
        throw new RegistryError('CONFLICT', `a job '${j.id}' already exists`);
      throw err;
    }
  }

  async update(id: string, changes: JobChanges): Promise<JobRecord> {
    const columns: Record<string, SqlValue | undefined> = {
      state: changes.state,
      phase: changes.phase,
      progress: changes.progress,
      started_at: changes.startedAt,
      finished_at: changes.finishedAt,
      error: changes.error,
      result: changes.result === undefined ? undefined : encodeJson(changes.result, `job '${id}' result`),
    };
    const set = Object.entries(columns).filter((e): e is [string, SqlValue] => e[1] !== undefined);
    const row =
      set.length > 0
        ? await this.db.get(
            `UPDATE jobs SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ? RETURNING *`,
            [...set.map(([, v]) => v), id],
          )
        : await this.db.get('SELECT * FROM jobs WHERE id = ?', [id]);
    if (row === undefined) throw new RegistryError('NOT_FOUND', `no job '${id}'`);
    return jobOf(row);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.get('SELECT * FROM jobs WHERE id = ?', [id]);
    return row === undefined ? undefined : jobOf(row);
  }

  async list(detectorId?: string): Promise<JobRecord[]> {
    const rows = detectorId
      ? await this.db.all('SELECT * FROM jobs WHERE detector_id = ? ORDER BY created_at DESC, id', [
          detectorId,
        ])
      : await this.db.all('SELECT * FROM jobs ORDER BY created_at DESC, id');
    return rows.map(jobOf);
  }

  async heartbeat(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run(
      `UPDATE jobs SET heartbeat_at = ? WHERE state IN ('queued', 'running') AND id IN (${ids.map(() => '?').join(', ')})`,
      [now, ...ids],
    );
  }

  failInterrupted(now: number, silentSince?: number): Promise<number> {
    const set =
      "UPDATE jobs SET state = 'failed', error = 'interrupted: the service stopped while the job ran', finished_at = ? WHERE state IN ('queued', 'running')";
    return silentSince === undefined
      ? this.db.run(set, [now])
      : this.db.run(`${set} AND COALESCE(heartbeat_at, started_at, created_at) < ?`, [now, silentSince]);
  }
}

class SqlDriftReportStore implements DriftReportStore {
  constructor(private readonly db: SqlDb) {}

  async add(detectorId: string, version: number, entity: string, at: number, report: string): Promise<void> {
    try {
      await this.db.run(
        'INSERT INTO drift_reports (detector_id, version, entity, at, report) VALUES (?, ?, ?, ?, ?)',
        [detectorId, version, entity, at, report],
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no detector '${detectorId}'`);
      throw err;
    }
  }

  async latest(detectorId: string): Promise<string[]> {
    const rows = await this.db.all(
      `SELECT report AS text FROM drift_reports d WHERE detector_id = ?
       AND id = (SELECT MAX(id) FROM drift_reports e WHERE e.detector_id = d.detector_id AND e.entity = d.entity)
       ORDER BY entity`,
      [detectorId],
    );
    return rows.map((r) => check(TextRow, r, `drift_reports row of '${detectorId}'`).text);
  }
}

class SqlStreamStateStore implements StreamStateStore {
  constructor(private readonly db: SqlDb) {}

  async set(detectorId: string, key: string, state: string, now: number): Promise<void> {
    try {
      await this.db.run(
        'INSERT INTO stream_state (detector_id, entity, snapshot, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (detector_id, entity) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at',
        [detectorId, key, state, now],
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no detector '${detectorId}'`);
      throw err;
    }
  }

  async get(detectorId: string, key: string): Promise<string | undefined> {
    const row = await this.db.get(
      'SELECT snapshot AS text FROM stream_state WHERE detector_id = ? AND entity = ?',
      [detectorId, key],
    );
    return row === undefined
      ? undefined
      : check(TextRow, row, `stream_state row (${detectorId}, ${key})`).text;
  }
}

const STATE_COLUMNS = '(detector_id, entity, stage, snapshot, cursor, updated_at)';
const STATE_UPSERT =
  'ON CONFLICT (detector_id, entity, stage) DO UPDATE SET snapshot = excluded.snapshot, cursor = excluded.cursor, updated_at = excluded.updated_at';
/** Rows per INSERT of putMany: 6 parameters each stays far below both dialects' limits (32 766, 65 535). */
const STATE_CHUNK = 500;

class SqlDetectorStateStore implements DetectorStateStore {
  constructor(private readonly db: SqlDb) {}

  private params(r: DetectorStateRecord): SqlValue[] {
    const what = `detector state (${r.detectorId}, ${r.entity}, ${r.stage})`;
    return [
      r.detectorId,
      r.entity,
      r.stage,
      encodeJson(r.snapshot, `${what} snapshot`),
      r.cursor ?? null,
      r.updatedAt,
    ];
  }

  /** One INSERT … ON CONFLICT for several records: one round trip to PostgreSQL, not one per entity. */
  private async putIn(q: Queryable, records: DetectorStateRecord[]): Promise<void> {
    const values = records.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
    try {
      await q.run(
        `INSERT INTO detector_state ${STATE_COLUMNS} VALUES ${values} ${STATE_UPSERT}`,
        records.flatMap((r) => this.params(r)),
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err) && records.length === 1)
        throw new RegistryError('NOT_FOUND', `no detector '${records[0]!.detectorId}'`);
      throw err;
    }
  }

  async get(detectorId: string, entity: string, stage: Stage): Promise<DetectorStateRecord | undefined> {
    const row = await this.db.get(
      'SELECT * FROM detector_state WHERE detector_id = ? AND entity = ? AND stage = ?',
      [detectorId, entity, stage],
    );
    return row === undefined ? undefined : stateOf(row);
  }

  put(record: DetectorStateRecord): Promise<void> {
    return this.putIn(this.db, [record]);
  }

  async putMany(records: DetectorStateRecord[]): Promise<void> {
    // One statement may not touch a row twice (PostgreSQL refuses): the last record of a key wins,
    // as it would with one put after another.
    const byKey = new Map(records.map((r) => [JSON.stringify([r.detectorId, r.entity, r.stage]), r]));
    const unique = [...byKey.values()];
    // Encode all first: a snapshot JSON cannot hold fails before anything is written.
    unique.forEach((r) => this.params(r));
    if (unique.length === 0) return;
    try {
      await this.db.transaction(async (tx) => {
        for (let i = 0; i < unique.length; i += STATE_CHUNK)
          await this.putIn(tx, unique.slice(i, i + STATE_CHUNK));
      });
    } catch (err) {
      if (!this.db.isForeignKeyViolation(err)) throw err;
      // Rolled back: name the detectors that do not exist (asked after, outside the failed transaction).
      const ids = [...new Set(unique.map((r) => r.detectorId))];
      const found = new Set(
        (
          await this.db.all(
            `SELECT id AS text FROM detectors WHERE id IN (${ids.map(() => '?').join(', ')})`,
            ids,
          )
        ).map((row) => check(TextRow, row, 'detectors row').text),
      );
      const missing = ids.filter((id) => !found.has(id));
      throw new RegistryError('NOT_FOUND', `no detector ${missing.map((id) => `'${id}'`).join(', ')}`);
    }
  }

  async list(detectorId: string): Promise<DetectorStateRecord[]> {
    return (
      await this.db.all('SELECT * FROM detector_state WHERE detector_id = ? ORDER BY entity, stage', [
        detectorId,
      ])
    ).map(stateOf);
  }

  delete(detectorId: string): Promise<number> {
    return this.db.run('DELETE FROM detector_state WHERE detector_id = ?', [detectorId]);
  }
}

const runtimeOf = (raw: unknown): RuntimeStateRecord => {
  const r = check(RuntimeStateRow, raw, rowName('runtime_state', raw, ['detector_id', 'entity', 'stage']));
  return {
    detectorId: r.detector_id,
    entity: r.entity,
    stage: r.stage,
    version: r.version,
    scoredTo: r.scored_to,
    snapshot: r.snapshot,
    updatedAt: r.updated_at,
  };
};

class SqlRuntimeStateStore implements RuntimeStateStore {
  constructor(private readonly db: SqlDb) {}

  async set(r: RuntimeStateRecord): Promise<void> {
    try {
      await this.db.run(
        `INSERT INTO runtime_state (detector_id, entity, stage, version, scored_to, snapshot, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (detector_id, entity, stage) DO UPDATE SET version = excluded.version,
           scored_to = excluded.scored_to, snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
        [r.detectorId, r.entity, r.stage, r.version, r.scoredTo, r.snapshot, r.updatedAt],
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no detector '${r.detectorId}'`);
      throw err;
    }
  }

  async get(
    detectorId: string,
    entity: string,
    stage: RuntimeStateRecord['stage'],
  ): Promise<RuntimeStateRecord | undefined> {
    const row = await this.db.get(
      'SELECT * FROM runtime_state WHERE detector_id = ? AND entity = ? AND stage = ?',
      [detectorId, entity, stage],
    );
    return row === undefined ? undefined : runtimeOf(row);
  }

  async list(detectorId: string, entity?: string): Promise<RuntimeStateRecord[]> {
    // Without the snapshots: a detector's runtimes are listed every interval, their snapshots are megabytes.
    return (
      await this.db.all(
        `SELECT detector_id, entity, stage, version, scored_to, '' AS snapshot, updated_at
         FROM runtime_state WHERE detector_id = ?${entity === undefined ? '' : ' AND entity = ?'} ORDER BY entity, stage`,
        entity === undefined ? [detectorId] : [detectorId, entity],
      )
    ).map(runtimeOf);
  }

  async delete(detectorId: string, entity: string, stage: RuntimeStateRecord['stage']): Promise<void> {
    await this.db.run('DELETE FROM runtime_state WHERE detector_id = ? AND entity = ? AND stage = ?', [
      detectorId,
      entity,
      stage,
    ]);
  }
}

class SqlOutboxStore implements OutboxStore {
  constructor(private readonly db: SqlDb) {}

  add(receiver: string, events: string[], now: number): Promise<number[]> {
    return this.db.transaction(async (tx) => {
      const ids: number[] = [];
      for (const e of events) {
        const row = await tx.get(
          'INSERT INTO alert_outbox (receiver, event, created_at) VALUES (?, ?, ?) RETURNING id',
          [receiver, e, now],
        );
        ids.push(check(IdRow, row, 'new alert_outbox row').id);
      }
      return ids;
    });
  }

  async list(receiver: string): Promise<Array<{ id: number; event: string }>> {
    return (
      await this.db.all('SELECT id, event FROM alert_outbox WHERE receiver = ? ORDER BY id', [receiver])
    ).map((r) => check(OutboxRow, r, rowName('alert_outbox', r, ['id'])));
  }

  async remove(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const id of ids) await tx.run('DELETE FROM alert_outbox WHERE id = ?', [id]);
    });
  }

  async lease(receiver: string, owner: string, untilMs: number, nowMs: number): Promise<boolean> {
    // One statement, so two replicas racing for a free or expired lease cannot both win it.
    const row = await this.db.get(
      `INSERT INTO outbox_leases (receiver, owner, until_at) VALUES (?, ?, ?)
       ON CONFLICT (receiver) DO UPDATE SET owner = excluded.owner, until_at = excluded.until_at
       WHERE outbox_leases.owner = excluded.owner OR outbox_leases.until_at < ?
       RETURNING owner`,
      [receiver, owner, untilMs, nowMs],
    );
    return row !== undefined;
  }

  async release(receiver: string, owner: string): Promise<void> {
    await this.db.run('DELETE FROM outbox_leases WHERE receiver = ? AND owner = ?', [receiver, owner]);
  }
}

class SqlTokenStore implements TokenStore {
  constructor(private readonly db: SqlDb) {}

  async create(t: { id: string; name: string; role: Role; hash: string }, now: number): Promise<TokenRecord> {
    try {
      return tokenOf(
        await this.db.get(
          'INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
          [t.id, t.name, t.role, t.hash, now],
        ),
      );
    } catch (err) {
      if (this.db.isUniqueViolation(err))
        throw new RegistryError('CONFLICT', `a token with id '${t.id}' or the same secret already exists`);
      throw err;
    }
  }

  async find(hash: string): Promise<TokenRecord | undefined> {
    const row = await this.db.get('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL', [hash]);
    return row === undefined ? undefined : tokenOf(row);
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.db.all('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenOf);
  }

  async revoke(id: string, now: number): Promise<void> {
    if (
      (await this.db.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [
        now,
        id,
      ])) === 0
    )
      throw new RegistryError('NOT_FOUND', `no active token '${id}'`);
  }
}

const incidentOf = (raw: unknown): IncidentRecord => {
  const what = rowName('incidents', raw, ['id']);
  const r = check(IncidentRow, raw, what);
  return {
    id: r.id,
    detectorId: r.detector_id,
    entity: r.entity,
    state: r.state,
    startAt: r.start_at,
    endAt: r.end_at,
    peakAt: r.peak_at,
    peakScore: r.peak_score,
    severity: r.severity,
    flagged: r.flagged,
    spanRows: r.span_rows,
    topMetrics: decodeJson(r.top_metrics, `${what} column top_metrics`, TopMetricsJson),
    quietRows: r.quiet_rows,
    recent: decodeJson(r.recent, `${what} column recent`, RecentJson),
    suppressed: r.suppressed === 1,
    ...(r.suppressed_by !== null
      ? { suppressedBy: { ruleId: r.suppressed_by, reason: r.suppressed_reason ?? '' } }
      : {}),
    ...(r.suppressed_by_all !== null
      ? {
          suppressedByAll: decodeJson(
            r.suppressed_by_all,
            `${what} column suppressed_by_all`,
            SuppressedByJson,
          ),
        }
      : r.suppressed_by !== null
        ? // Recorded before every rule was kept: the one it named.
          { suppressedByAll: [{ ruleId: r.suppressed_by, reason: r.suppressed_reason ?? '' }] }
        : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
};

const feedbackOf = (raw: unknown): IncidentFeedback => {
  const r = check(FeedbackRow, raw, rowName('incident_feedback', raw, ['incident_id']));
  return {
    incidentId: r.incident_id,
    verdict: r.verdict,
    note: r.note,
    actor: r.actor,
    at: r.at,
    ...(r.annotation_id !== null ? { annotationId: r.annotation_id } : {}),
    ...(r.withdrawn_at !== null ? { withdrawnAt: r.withdrawn_at } : {}),
  };
};

const appliedOf = (raw: unknown): AppliedAnnotation => {
  const r = check(AnnotationFeedbackRow, raw, rowName('annotation_feedback', raw, ['annotation_id']));
  return {
    annotationId: r.annotation_id,
    updated: r.updated,
    ...(r.time_at !== null ? { time: r.time_at } : {}),
    ...(r.time_end_at !== null ? { timeEnd: r.time_end_at } : {}),
    withdrawn: r.withdrawn_at !== null,
  };
};

const LEDGER = 'SELECT annotation_id, updated, time_at, time_end_at, withdrawn_at FROM annotation_feedback';
const WITHDRAW =
  'UPDATE incident_feedback SET withdrawn_at = ? WHERE annotation_id = ? AND withdrawn_at IS NULL';

const INCIDENT_COLUMNS =
  'id, detector_id, entity, state, start_at, end_at, peak_at, peak_score, severity, flagged, span_rows, top_metrics, quiet_rows, recent, suppressed, suppressed_by, suppressed_reason, suppressed_by_all, created_at, updated_at';

class SqlIncidentStore implements IncidentStore {
  constructor(private readonly db: SqlDb) {}

  async put(r: IncidentRecord): Promise<void> {
    const what = `incident '${r.id}'`;
    const values: SqlValue[] = [
      r.id,
      r.detectorId,
      r.entity,
      r.state,
      r.startAt,
      r.endAt,
      r.peakAt,
      r.peakScore,
      r.severity,
      r.flagged,
      r.spanRows,
      encodeJson(r.topMetrics, `${what} top metrics`),
      r.quietRows,
      encodeJson(r.recent, `${what} recent scores`),
      r.suppressed ? 1 : 0,
      r.suppressedBy?.ruleId ?? null,
      r.suppressedBy?.reason ?? null,
      r.suppressedByAll ? encodeJson(r.suppressedByAll, `${what} suppressing rules`) : null,
      r.createdAt,
      r.updatedAt,
    ];
    // The detector, entity and creation time of an incident never change; the rest follows it.
    const updated = INCIDENT_COLUMNS.split(', ')
      .filter((c) => !['id', 'detector_id', 'entity', 'created_at'].includes(c))
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    try {
      await this.db.run(
        `INSERT INTO incidents (${INCIDENT_COLUMNS}) VALUES (${values.map(() => '?').join(', ')})
         ON CONFLICT (id) DO UPDATE SET ${updated}`,
        values,
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no detector '${r.detectorId}'`);
      if (this.db.isUniqueViolation(err))
        throw new RegistryError(
          'CONFLICT',
          `detector '${r.detectorId}' already has a firing incident for entity '${r.entity}'`,
        );
      throw err;
    }
  }

  async get(id: string): Promise<IncidentRecord | undefined> {
    const row = await this.db.get(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = ?`, [id]);
    return row === undefined ? undefined : incidentOf(row);
  }

  async list(q: IncidentQuery = {}): Promise<IncidentRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (sql: string, ...values: SqlValue[]): void => {
      where.push(sql);
      params.push(...values);
    };
    if (q.detectorId !== undefined) add('detector_id = ?', q.detectorId);
    if (q.entity !== undefined) add('entity = ?', q.entity);
    if (q.state !== undefined) add('state = ?', q.state);
    if (q.severities !== undefined) {
      if (q.severities.length === 0) return [];
      add(`severity IN (${q.severities.map(() => '?').join(', ')})`, ...q.severities);
    }
    // Overlap: an incident still firing at `from` counts, one starting at `to` does not.
    if (q.from !== undefined) add('end_at >= ?', q.from);
    if (q.to !== undefined) add('start_at < ?', q.to);
    const limit = Math.max(1, Math.min(10_000, Math.floor(q.limit ?? 1000)));
    return (
      await this.db.all(
        `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY start_at DESC, id LIMIT ${limit}`,
        params,
      )
    ).map(incidentOf);
  }

  async firing(detectorId: string, entity: string): Promise<IncidentRecord | undefined> {
    const row = await this.db.get(
      `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE detector_id = ? AND entity = ? AND state = 'firing'`,
      [detectorId, entity],
    );
    return row === undefined ? undefined : incidentOf(row);
  }

  async addFeedback(f: IncidentFeedback): Promise<IncidentFeedback> {
    await this.insertFeedback(this.db, f);
    return { ...f };
  }

  /** One verdict, on the registry or inside a transaction; NOT_FOUND when the incident is gone. */
  private async insertFeedback(db: Queryable, f: IncidentFeedback): Promise<void> {
    try {
      await db.run(
        'INSERT INTO incident_feedback (incident_id, verdict, note, actor, at, annotation_id) VALUES (?, ?, ?, ?, ?, ?)',
        [f.incidentId, f.verdict, f.note, f.actor, f.at, f.annotationId ?? null],
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no incident '${f.incidentId}'`);
      throw err;
    }
  }

  async feedback(incidentIds: string[], options: { withdrawn?: boolean } = {}): Promise<IncidentFeedback[]> {
    const out: IncidentFeedback[] = [];
    // In chunks: a page of incidents stays far below both dialects' parameter limits.
    for (let i = 0; i < incidentIds.length; i += 500) {
      const ids = incidentIds.slice(i, i + 500);
      const rows = await this.db.all(
        `SELECT incident_id, verdict, note, actor, at, annotation_id, withdrawn_at FROM incident_feedback
         WHERE incident_id IN (${ids.map(() => '?').join(', ')})${options.withdrawn ? '' : ' AND withdrawn_at IS NULL'}
         ORDER BY incident_id, id`,
        ids,
      );
      out.push(...rows.map(feedbackOf));
    }
    return out;
  }

  async addAnnotationFeedback(source: AnnotationSource, feedback: IncidentFeedback[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // The claim: a row for a new annotation, a newer version of one, or one withdrawn since
      // (seen again); anything else changes no row, and whoever claimed it first (another
      // replica, an earlier poll) recorded it.
      const claimed = await tx.run(
        `INSERT INTO annotation_feedback (annotation_id, updated, verdict, incidents, applied_at, time_at, time_end_at, withdrawn_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (annotation_id) DO UPDATE SET updated = excluded.updated, verdict = excluded.verdict,
           incidents = excluded.incidents, applied_at = excluded.applied_at, time_at = excluded.time_at,
           time_end_at = excluded.time_end_at, withdrawn_at = NULL
         WHERE annotation_feedback.updated < excluded.updated OR annotation_feedback.withdrawn_at IS NOT NULL`,
        [
          source.annotationId,
          source.updated,
          source.verdict,
          feedback.length,
          source.appliedAt,
          source.time,
          source.timeEnd,
        ],
      );
      if (claimed === 0) return false;
      // What an earlier version of it said no longer stands: the edit replaces it.
      await tx.run(WITHDRAW, [source.appliedAt, source.annotationId]);
      for (const f of feedback) await this.insertFeedback(tx, { ...f, annotationId: source.annotationId });
      return true;
    });
  }

  withdrawAnnotation(annotationId: string, at: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const withdrawn = await tx.run(WITHDRAW, [at, annotationId]);
      await tx.run(
        'UPDATE annotation_feedback SET withdrawn_at = ? WHERE annotation_id = ? AND withdrawn_at IS NULL',
        [at, annotationId],
      );
      return withdrawn;
    });
  }

  async appliedAnnotations(annotationIds: string[]): Promise<Map<string, AppliedAnnotation>> {
    const out = new Map<string, AppliedAnnotation>();
    for (let i = 0; i < annotationIds.length; i += 500) {
      const ids = annotationIds.slice(i, i + 500);
      const rows = await this.db.all(
        `${LEDGER} WHERE annotation_id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      );
      for (const raw of rows) {
        const a = appliedOf(raw);
        out.set(a.annotationId, a);
      }
    }
    return out;
  }

  async standingAnnotations(from: number, to: number): Promise<AppliedAnnotation[]> {
    return (
      await this.db.all(
        `${LEDGER} WHERE withdrawn_at IS NULL AND time_at IS NOT NULL AND time_at <= ? AND time_end_at >= ?
         ORDER BY annotation_id`,
        [to, from],
      )
    ).map(appliedOf);
  }

  async noteSpan(annotationId: string, time: number, timeEnd: number): Promise<void> {
    await this.db.run(
      'UPDATE annotation_feedback SET time_at = ?, time_end_at = ? WHERE annotation_id = ? AND time_at IS NULL',
      [time, timeEnd, annotationId],
    );
  }
}

const ruleOf = (raw: unknown): SuppressionRule => {
  const r = check(SuppressionRow, raw, rowName('suppression_rules', raw, ['id']));
  return {
    id: r.id,
    ...(r.detector_id !== null ? { detectorId: r.detector_id } : {}),
    ...(r.entity !== null ? { entity: r.entity } : {}),
    ...(r.metric !== null ? { metric: r.metric } : {}),
    kind: r.kind,
    start: r.start_at,
    end: r.end_at,
    reason: r.reason,
    actor: r.actor,
    createdAt: r.created_at,
  };
};

class SqlSuppressionStore implements SuppressionStore {
  constructor(private readonly db: SqlDb) {}

  async add(r: SuppressionRule): Promise<SuppressionRule> {
    try {
      return ruleOf(
        await this.db.get(
          `INSERT INTO suppression_rules (id, detector_id, entity, metric, kind, start_at, end_at, reason, actor, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          [
            r.id,
            r.detectorId ?? null,
            r.entity ?? null,
            r.metric ?? null,
            r.kind,
            r.start,
            r.end,
            r.reason,
            r.actor,
            r.createdAt,
          ],
        ),
      );
    } catch (err) {
      if (this.db.isForeignKeyViolation(err))
        throw new RegistryError('NOT_FOUND', `no detector '${r.detectorId}'`);
      if (this.db.isUniqueViolation(err))
        throw new RegistryError('CONFLICT', `a suppression rule '${r.id}' already exists`);
      throw err;
    }
  }

  async list(): Promise<SuppressionRule[]> {
    return (await this.db.all('SELECT * FROM suppression_rules ORDER BY created_at, id')).map(ruleOf);
  }

  async delete(id: string): Promise<void> {
    if ((await this.db.run('DELETE FROM suppression_rules WHERE id = ?', [id])) === 0)
      throw new RegistryError('NOT_FOUND', `no suppression rule '${id}'`);
  }
}

export function sqlStores(db: SqlDb): RegistryStores {
  return {
    detectors: new SqlDetectorStore(db),
    models: new SqlModelVersionStore(db),
    jobs: new SqlJobStore(db),
    drift: new SqlDriftReportStore(db),
    streamState: new SqlStreamStateStore(db),
    detectorState: new SqlDetectorStateStore(db),
    runtimeState: new SqlRuntimeStateStore(db),
    outbox: new SqlOutboxStore(db),
    tokens: new SqlTokenStore(db),
    incidents: new SqlIncidentStore(db),
    suppressions: new SqlSuppressionStore(db),
  };
}
