/**
 * The model registry: detectors, model versions and their stages, training jobs, tokens. The
 * service talks to this interface only; `SqliteRegistry` implements it, and a PostgreSQL one can.
 * Every method that changes several rows does it in one transaction: it happens whole or not at all.
 */

export const STAGES = ['candidate', 'staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface DetectorRecord<Spec = unknown> {
  id: string;
  name: string;
  spec: Spec;
  createdAt: number;
  updatedAt: number;
}

export interface ModelVersionRecord {
  detectorId: string;
  version: number;
  /** '' for a detector-wide model, else the entity (host) it was trained for. */
  entity: string;
  stage: Stage;
  trainedAt: number;
  metrics: unknown;
  params: unknown;
  /** The model bundle (JSON text); omitted by list calls. */
  bundle?: string;
}

export interface StageChange {
  detectorId: string;
  version: number;
  from: Stage | null;
  to: Stage;
  actor: string;
  reason: string;
  at: number;
}

export interface JobRecord {
  id: string;
  detectorId: string;
  kind: 'training' | 'backfill';
  state: JobState;
  phase: string;
  progress: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  result?: unknown;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt?: number;
}

/**
 * The streaming runtime of one (detector, entity, stage): the detector's snapshot after the last
 * interval it scored, the model version (checkpoint) it descends from, and up to when it scored.
 */
export interface RuntimeStateRecord {
  detectorId: string;
  entity: string;
  stage: 'production' | 'staging';
  version: number;
  /** Rows before this time (ms) have been pushed; the next interval starts here. */
  scoredTo: number;
  /** The detector's snapshot (JSON text). */
  snapshot: string;
  updatedAt: number;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'INVALID',
    message: string,
  ) {
    super(message);
  }
}

export interface Registry {
  close(): Promise<void>;
  /** Reachable and migrated (readiness). */
  ping(): Promise<boolean>;

  listDetectors(): Promise<DetectorRecord[]>;
  getDetector(id: string): Promise<DetectorRecord | undefined>;
  createDetector(record: { id: string; name: string; spec: unknown }, now: number): Promise<DetectorRecord>;
  updateDetector(
    id: string,
    changes: { name?: string; spec?: unknown },
    now: number,
  ): Promise<DetectorRecord>;
  /** Deletes a detector with its versions, history and jobs. */
  deleteDetector(id: string): Promise<void>;

  addModelVersion(
    v: { detectorId: string; entity: string; bundle: string; metrics: unknown; params: unknown },
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord>;
  listModelVersions(detectorId: string): Promise<ModelVersionRecord[]>;
  getModelVersion(detectorId: string, version: number): Promise<ModelVersionRecord | undefined>;
  /**
   * Moves a version to a stage. Promoting to production archives the current production version
   * (of the same entity) in the same transaction, so there is always at most one.
   */
  setStage(
    detectorId: string,
    version: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): Promise<ModelVersionRecord>;
  /** Promotes the most recent earlier production version again (archiving the current one). */
  rollback(
    detectorId: string,
    actor: string,
    reason: string,
    now: number,
    entity?: string,
  ): Promise<ModelVersionRecord>;
  stageHistory(detectorId: string): Promise<StageChange[]>;

  createJob(
    job: { id: string; detectorId: string; kind: JobRecord['kind'] },
    now: number,
  ): Promise<JobRecord>;
  updateJob(
    id: string,
    changes: Partial<
      Pick<JobRecord, 'state' | 'phase' | 'progress' | 'startedAt' | 'finishedAt' | 'error' | 'result'>
    >,
  ): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(detectorId?: string): Promise<JobRecord[]>;
  /** At start: jobs left queued or running by a previous process are marked failed. Returns how many. */
  failInterruptedJobs(now: number): Promise<number>;

  addDriftReport(
    detectorId: string,
    version: number,
    entity: string,
    at: number,
    report: string,
  ): Promise<void>;
  /** The newest drift report of each entity of a detector (JSON text). */
  latestDriftReports(detectorId: string): Promise<string[]>;

  /** Per detector and entity: the scoring state (JSON) that survives restarts. */
  setStreamState(detectorId: string, entity: string, state: string, now: number): Promise<void>;
  getStreamState(detectorId: string, entity: string): Promise<string | undefined>;

  /** A runtime's state, written after each scored interval (insert or replace). */
  setRuntimeState(state: RuntimeStateRecord): Promise<void>;
  getRuntimeState(
    detectorId: string,
    entity: string,
    stage: RuntimeStateRecord['stage'],
  ): Promise<RuntimeStateRecord | undefined>;
  /** Every runtime of a detector, without their snapshots (snapshot ''), by entity then stage. */
  listRuntimeStates(detectorId: string): Promise<RuntimeStateRecord[]>;
  /** Drops a runtime (its stage no longer has a version for the entity). */
  deleteRuntimeState(detectorId: string, entity: string, stage: RuntimeStateRecord['stage']): Promise<void>;

  /** Alert events waiting for a receiver, oldest first; they stay until delivered or rejected. */
  addToOutbox(receiver: string, events: string[], now: number): Promise<number[]>;
  listOutbox(receiver: string): Promise<Array<{ id: number; event: string }>>;
  removeFromOutbox(ids: number[]): Promise<void>;

  createToken(t: { id: string; name: string; role: Role; hash: string }, now: number): Promise<TokenRecord>;
  /** The token with this hash, unless revoked. */
  findToken(hash: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: string, now: number): Promise<void>;
}
