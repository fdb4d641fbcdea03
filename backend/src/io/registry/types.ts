/**
 * The model registry: detectors, model versions and their stages, training jobs, drift reports,
 * scoring state, the alert outbox, tokens. One typed store per aggregate (`registry.detectors`,
 * `registry.models`, ...), each validating the rows it reads; `SqliteRegistry` (the embedded
 * default) and `PostgresRegistry` (for replicas) implement them with the same SQL. `Registry` also
 * keeps the flat methods the service was written against, delegating to the stores.
 * Every method that changes several rows does it in one transaction: it happens whole or not at all.
 */

export const STAGES = ['candidate', 'staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const INCIDENT_STATES = ['firing', 'resolved'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];
export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type IncidentSeverity = (typeof SEVERITIES)[number];
/** An operator's verdict on an incident: a real problem, expected (a deploy, a batch job), or not an anomaly at all. */
export const VERDICTS = ['real', 'expected', 'not_anomaly'] as const;
export type Verdict = (typeof VERDICTS)[number];

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
  /** Its number among its entity's versions (1, 2, …); `version` is unique across the detector. */
  entityVersion: number;
  stage: Stage;
  trainedAt: number;
  metrics: unknown;
  params: unknown;
  /**
   * The model bundle (JSON text), kept in a table of its own: only `get` (unless asked not to) and
   * `add` return it; lists and stage changes never read it.
   */
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

/** Per detector, entity and stage: the scoring state a worker checkpoints and another takes over. */
export interface DetectorStateRecord {
  detectorId: string;
  /** '' for detector-wide state. */
  entity: string;
  stage: Stage;
  /** JSON-safe snapshot of the engine's state (the engine's format; the store only checks it is JSON). */
  snapshot: unknown;
  /** How far scoring got (epoch ms of the last scored bucket), when the state has one. */
  cursor?: number;
  updatedAt: number;
}

export type JobChanges = Partial<
  Pick<JobRecord, 'state' | 'phase' | 'progress' | 'startedAt' | 'finishedAt' | 'error' | 'result'>
>;

export interface DetectorStore {
  list(): Promise<DetectorRecord[]>;
  get(id: string): Promise<DetectorRecord | undefined>;
  /** CONFLICT when the id or name is taken. */
  create(record: { id: string; name: string; spec: unknown }, now: number): Promise<DetectorRecord>;
  update(id: string, changes: { name?: string; spec?: unknown }, now: number): Promise<DetectorRecord>;
  /** Deletes a detector with its versions, history, jobs, drift reports and state. */
  delete(id: string): Promise<void>;
}

/** Model versions (the bundles are the checkpoints) and the history of their stages. */
export interface ModelVersionStore {
  /**
   * A new candidate numbered after the detector's last version (and after its entity's last, for
   * entityVersion), with its history entry.
   */
  add(
    v: { detectorId: string; entity: string; bundle: string; metrics: unknown; params: unknown },
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord>;
  /** Newest first, without bundles. */
  list(detectorId: string): Promise<ModelVersionRecord[]>;
  /** With its bundle, unless `bundle: false`. */
  get(
    detectorId: string,
    version: number,
    options?: { bundle?: boolean },
  ): Promise<ModelVersionRecord | undefined>;
  /**
   * Moves a version to a stage. Promoting to production archives the current production version
   * (of the same entity) in the same transaction, so there is always at most one. Only the stage
   * column and the history change; the bundle is neither read nor written. Returns the version
   * without its bundle.
   */
  setStage(
    detectorId: string,
    version: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): Promise<ModelVersionRecord>;
  /**
   * Several versions' moves (setStage's each) in one transaction: all happen or none (a training
   * job's promotion of every entity), in the order given.
   */
  setStages(
    detectorId: string,
    moves: Array<{ version: number; to: Stage; reason: string }>,
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord[]>;
  /** Promotes the most recent earlier production version again (archiving the current one); without its bundle. */
  rollback(
    detectorId: string,
    actor: string,
    reason: string,
    now: number,
    entity?: string,
  ): Promise<ModelVersionRecord>;
  history(detectorId: string): Promise<StageChange[]>;
}

export interface JobStore {
  create(job: { id: string; detectorId: string; kind: JobRecord['kind'] }, now: number): Promise<JobRecord>;
  update(id: string, changes: JobChanges): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(detectorId?: string): Promise<JobRecord[]>;
  /** The process running these jobs is alive: their heartbeat is `now` (queued or running ones). */
  heartbeat(ids: readonly string[], now: number): Promise<void>;
  /**
   * Jobs left queued or running by a stopped process are marked failed: all of them, or with
   * `silentSince` only those whose last heartbeat is older. Returns how many.
   */
  failInterrupted(now: number, silentSince?: number): Promise<number>;
}

export interface DriftReportStore {
  /** `report` is JSON text (the service's DriftReport). */
  add(detectorId: string, version: number, entity: string, at: number, report: string): Promise<void>;
  /** The newest report of each entity of a detector (JSON text), by entity. */
  latest(detectorId: string): Promise<string[]>;
}

/** Small keyed state per detector that survives restarts: the scheduler's cursor, alert rule state. */
export interface StreamStateStore {
  set(detectorId: string, key: string, state: string, now: number): Promise<void>;
  get(detectorId: string, key: string): Promise<string | undefined>;
}

/** The per-entity scoring state workers lock, checkpoint and hand over. */
export interface DetectorStateStore {
  get(detectorId: string, entity: string, stage: Stage): Promise<DetectorStateRecord | undefined>;
  /** Inserts or replaces the state of (detector, entity, stage). */
  put(record: DetectorStateRecord): Promise<void>;
  /** Several at once, all or none (a shard's checkpoint). */
  putMany(records: DetectorStateRecord[]): Promise<void>;
  /** By entity, then stage. */
  list(detectorId: string): Promise<DetectorStateRecord[]>;
  /** Forgets a detector's state (a retrain that starts afresh). Returns how many were removed. */
  delete(detectorId: string): Promise<number>;
}

/** Alert events waiting for a receiver, oldest first; they stay until delivered or rejected. */
export interface OutboxStore {
  add(receiver: string, events: string[], now: number): Promise<number[]>;
  list(receiver: string): Promise<Array<{ id: number; event: string }>>;
  remove(ids: number[]): Promise<void>;
  /**
   * Takes or renews the lease to deliver `receiver`'s events until `untilMs`: true when `owner`
   * holds it (it was free, expired at `nowMs`, or already `owner`'s), false when another holds it.
   */
  lease(receiver: string, owner: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  release(receiver: string, owner: string): Promise<void>;
}

export interface TokenStore {
  /** CONFLICT when the id or the hash exists. */
  create(t: { id: string; name: string; role: Role; hash: string }, now: number): Promise<TokenRecord>;
  /** The token with this hash, unless revoked. */
  find(hash: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string, now: number): Promise<void>;
}

/** Each (detector, entity, stage)'s streaming runtime: its snapshot after the last scored interval. */
export interface RuntimeStateStore {
  /** Inserts or replaces. */
  set(state: RuntimeStateRecord): Promise<void>;
  get(
    detectorId: string,
    entity: string,
    stage: RuntimeStateRecord['stage'],
  ): Promise<RuntimeStateRecord | undefined>;
  /** Every runtime of a detector (or of one of its entities) without their snapshots (snapshot ''), by entity then stage. */
  list(detectorId: string, entity?: string): Promise<RuntimeStateRecord[]>;
  delete(detectorId: string, entity: string, stage: RuntimeStateRecord['stage']): Promise<void>;
}

/**
 * Flagged rows of one (detector, entity) grouped into one incident: it opens on a flag, stays
 * firing while flags follow fewer than the episode gap rows apart, and is resolved after that many
 * quiet rows.
 */
export interface IncidentRecord {
  id: string;
  detectorId: string;
  entity: string;
  state: IncidentState;
  /** Times (ms) of the first and last flagged row. */
  startAt: number;
  endAt: number;
  /** The most representative moment: where the incident's smoothed score peaked, and that score. */
  peakAt: number;
  peakScore: number;
  /** The worst severity of its rows. */
  severity: IncidentSeverity;
  /** How many of its rows were flagged. */
  flagged: number;
  /** How many rows it spans, from its first flagged row to its last. */
  spanRows: number;
  /** How often each metric was the flagged rows' top feature. */
  topMetrics: Record<string, number>;
  /** Rows scored since the last flagged one while firing (how close it is to resolving); the gap once resolved. */
  quietRows: number;
  /** The last few scores (newest last), which the next interval's smoothed score continues from. */
  recent: number[];
  /** Every flagged row fell inside a suppression rule: recorded, not paged. */
  suppressed: boolean;
  /**
   * While suppressed, the rule that held its first flagged row, with the rule's reason as it was
   * (the rule may be deleted since). Absent when not suppressed, or recorded before this was kept.
   */
  suppressedBy?: SuppressedBy;
  /**
   * While suppressed, every rule that held at least one of its flagged rows (several rules can
   * cover one incident between them), in the order they first held one; `suppressedBy` is the
   * first. Incidents recorded before this was kept read as `[suppressedBy]`.
   */
  suppressedByAll?: SuppressedBy[];
  createdAt: number;
  updatedAt: number;
}

/** The suppression rule behind a suppressed incident. */
export interface SuppressedBy {
  ruleId: string;
  reason: string;
}

export interface IncidentFeedback {
  incidentId: string;
  verdict: Verdict;
  note: string;
  actor: string;
  at: number;
  /** The Grafana annotation that gave it; absent for verdicts given in the UI or the API. */
  annotationId?: string;
  /** When it was withdrawn (its annotation deleted or changed); only listed when asked for. */
  withdrawnAt?: number;
}

export interface IncidentQuery {
  detectorId?: string;
  entity?: string;
  /** Only these severities. */
  severities?: IncidentSeverity[];
  state?: IncidentState;
  /** Incidents that overlap [from, to) (ms). */
  from?: number;
  to?: number;
  /** At most this many, newest start first (default 1000). */
  limit?: number;
}

/** Incidents and the feedback on them. */
export interface IncidentStore {
  /** Inserts or replaces by id. NOT_FOUND when its detector does not exist. */
  put(record: IncidentRecord): Promise<void>;
  get(id: string): Promise<IncidentRecord | undefined>;
  /** Newest start first. */
  list(q?: IncidentQuery): Promise<IncidentRecord[]>;
  /** The firing incident of (detector, entity), if any (there is at most one). */
  firing(detectorId: string, entity: string): Promise<IncidentRecord | undefined>;
  /** NOT_FOUND when the incident does not exist. */
  addFeedback(f: IncidentFeedback): Promise<IncidentFeedback>;
  /**
   * The standing verdicts, oldest first, by incident (the last one of an incident is its current
   * verdict); with `withdrawn: true` the withdrawn ones too, in their place, with `withdrawnAt`.
   */
  feedback(incidentIds: string[], options?: { withdrawn?: boolean }): Promise<IncidentFeedback[]>;
  /**
   * Records the verdicts a Grafana annotation gives (one per incident it matched) once per version
   * of the annotation, in one transaction with the note that it was applied; the verdicts an
   * earlier version of it gave are withdrawn in the same transaction (an edit replaces them).
   * Returns false and records nothing when this version (Grafana's `updated`) or a newer one was
   * applied already and not withdrawn since, so pollers (several replicas, a restart) can offer
   * the same annotation any number of times. NOT_FOUND (nothing recorded) when an incident no
   * longer exists.
   */
  addAnnotationFeedback(source: AnnotationSource, feedback: IncidentFeedback[]): Promise<boolean>;
  /**
   * Withdraws the verdicts an annotation gave (deleted in Grafana, its verdict tag removed, edited
   * to mean nothing) and notes it in the ledger, in one transaction; verdicts given otherwise are
   * never touched. Returns how many verdicts it withdrew (0 when none stood).
   */
  withdrawAnnotation(annotationId: string, at: number): Promise<number>;
  /** What the ledger holds of each annotation applied so far, by annotation id. */
  appliedAnnotations(annotationIds: string[]): Promise<Map<string, AppliedAnnotation>>;
  /**
   * The annotations applied and not withdrawn whose marked span overlaps [from, to] (ms): those a
   * poll of that window should see again in Grafana. Ones applied before spans were kept are not
   * listed until `noteSpan` records theirs.
   */
  standingAnnotations(from: number, to: number): Promise<AppliedAnnotation[]>;
  /** Records the span an annotation applied before spans were kept marks (no change otherwise). */
  noteSpan(annotationId: string, time: number, timeEnd: number): Promise<void>;
}

/** A Grafana annotation that carried a verdict: its id, version (its `updated` time, ms) and span. */
export interface AnnotationSource {
  annotationId: string;
  updated: number;
  verdict: Verdict;
  appliedAt: number;
  /** The span it marks (ms): `time`, and `timeEnd` (= time for a point). */
  time: number;
  timeEnd: number;
}

/** An annotation in the ledger: the version applied, the span it marked, whether it was withdrawn. */
export interface AppliedAnnotation {
  annotationId: string;
  updated: number;
  /** Absent for annotations applied before spans were kept. */
  time?: number;
  timeEnd?: number;
  withdrawn: boolean;
}

export const SUPPRESSION_KINDS = ['daily', 'weekly', 'period'] as const;
export type SuppressionKind = (typeof SUPPRESSION_KINDS)[number];

/**
 * Flagged rows that should not page: of a detector, an entity and/or a metric (the row's top
 * feature; unset: any), inside a window. `daily`: minutes of the UTC day [start, end) (wrapping
 * past midnight when end ≤ start); `weekly`: minutes of the UTC week from Monday 00:00, likewise;
 * `period`: epoch ms [start, end).
 */
export interface SuppressionRule {
  id: string;
  detectorId?: string;
  entity?: string;
  metric?: string;
  kind: SuppressionKind;
  start: number;
  end: number;
  reason: string;
  actor: string;
  createdAt: number;
}

export interface SuppressionStore {
  /** NOT_FOUND when its detector does not exist. */
  add(rule: SuppressionRule): Promise<SuppressionRule>;
  /** Oldest first. */
  list(): Promise<SuppressionRule[]>;
  /** NOT_FOUND when there is no such rule. */
  delete(id: string): Promise<void>;
}

export interface RegistryStores {
  detectors: DetectorStore;
  models: ModelVersionStore;
  jobs: JobStore;
  drift: DriftReportStore;
  streamState: StreamStateStore;
  detectorState: DetectorStateStore;
  runtimeState: RuntimeStateStore;
  outbox: OutboxStore;
  tokens: TokenStore;
  incidents: IncidentStore;
  suppressions: SuppressionStore;
}

export interface Registry extends RegistryStores {
  /** Which database holds it. */
  readonly backend: 'sqlite' | 'postgres';
  close(): Promise<void>;
  /** Reachable and migrated (readiness). */
  ping(): Promise<boolean>;

  // The flat API the service was written against; each delegates to a store (listDetectors is
  // detectors.list, setStreamState is streamState.set, ...). New code uses the stores.
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
  updateJob(id: string, changes: JobChanges): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(detectorId?: string): Promise<JobRecord[]>;
  /** At start: jobs left queued or running by a previous process are marked failed. Returns how many. */
  failInterruptedJobs(now: number, silentSince?: number): Promise<number>;

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
  listRuntimeStates(detectorId: string, entity?: string): Promise<RuntimeStateRecord[]>;
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
