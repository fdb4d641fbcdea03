import type { SqlDb } from './sql.js';
import { sqlStores } from './stores.js';
import type {
  DetectorRecord,
  JobChanges,
  JobRecord,
  ModelVersionRecord,
  Registry,
  RegistryStores,
  Role,
  RuntimeStateRecord,
  Stage,
  StageChange,
  TokenRecord,
} from './types.js';

/** The registry over a SQL database: the stores, and the flat API delegating to them. */
export class StoreRegistry implements Registry {
  readonly detectors: RegistryStores['detectors'];
  readonly models: RegistryStores['models'];
  readonly jobs: RegistryStores['jobs'];
  readonly drift: RegistryStores['drift'];
  readonly streamState: RegistryStores['streamState'];
  readonly detectorState: RegistryStores['detectorState'];
  readonly runtimeState: RegistryStores['runtimeState'];
  readonly outbox: RegistryStores['outbox'];
  readonly tokens: RegistryStores['tokens'];
  readonly incidents: RegistryStores['incidents'];
  readonly suppressions: RegistryStores['suppressions'];
  readonly backend: Registry['backend'];

  protected constructor(protected readonly db: SqlDb) {
    const stores = sqlStores(db);
    this.detectors = stores.detectors;
    this.models = stores.models;
    this.jobs = stores.jobs;
    this.drift = stores.drift;
    this.streamState = stores.streamState;
    this.detectorState = stores.detectorState;
    this.runtimeState = stores.runtimeState;
    this.outbox = stores.outbox;
    this.tokens = stores.tokens;
    this.incidents = stores.incidents;
    this.suppressions = stores.suppressions;
    this.backend = db.dialect;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async ping(): Promise<boolean> {
    const row = (await this.db.get('SELECT 1 AS ok')) as { ok?: unknown } | undefined;
    return row?.ok === 1;
  }

  listDetectors(): Promise<DetectorRecord[]> {
    return this.detectors.list();
  }
  getDetector(id: string): Promise<DetectorRecord | undefined> {
    return this.detectors.get(id);
  }
  createDetector(record: { id: string; name: string; spec: unknown }, now: number): Promise<DetectorRecord> {
    return this.detectors.create(record, now);
  }
  updateDetector(
    id: string,
    changes: { name?: string; spec?: unknown },
    now: number,
  ): Promise<DetectorRecord> {
    return this.detectors.update(id, changes, now);
  }
  deleteDetector(id: string): Promise<void> {
    return this.detectors.delete(id);
  }

  addModelVersion(
    v: { detectorId: string; entity: string; bundle: string; metrics: unknown; params: unknown },
    actor: string,
    now: number,
  ): Promise<ModelVersionRecord> {
    return this.models.add(v, actor, now);
  }
  listModelVersions(detectorId: string): Promise<ModelVersionRecord[]> {
    return this.models.list(detectorId);
  }
  getModelVersion(detectorId: string, version: number): Promise<ModelVersionRecord | undefined> {
    return this.models.get(detectorId, version);
  }
  setStage(
    detectorId: string,
    version: number,
    to: Stage,
    actor: string,
    reason: string,
    now: number,
  ): Promise<ModelVersionRecord> {
    return this.models.setStage(detectorId, version, to, actor, reason, now);
  }
  rollback(
    detectorId: string,
    actor: string,
    reason: string,
    now: number,
    entity?: string,
  ): Promise<ModelVersionRecord> {
    return this.models.rollback(detectorId, actor, reason, now, entity);
  }
  stageHistory(detectorId: string): Promise<StageChange[]> {
    return this.models.history(detectorId);
  }

  createJob(
    job: { id: string; detectorId: string; kind: JobRecord['kind'] },
    now: number,
  ): Promise<JobRecord> {
    return this.jobs.create(job, now);
  }
  updateJob(id: string, changes: JobChanges): Promise<JobRecord> {
    return this.jobs.update(id, changes);
  }
  getJob(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }
  listJobs(detectorId?: string): Promise<JobRecord[]> {
    return this.jobs.list(detectorId);
  }
  failInterruptedJobs(now: number, silentSince?: number): Promise<number> {
    return this.jobs.failInterrupted(now, silentSince);
  }

  addDriftReport(
    detectorId: string,
    version: number,
    entity: string,
    at: number,
    report: string,
  ): Promise<void> {
    return this.drift.add(detectorId, version, entity, at, report);
  }
  latestDriftReports(detectorId: string): Promise<string[]> {
    return this.drift.latest(detectorId);
  }

  setStreamState(detectorId: string, entity: string, state: string, now: number): Promise<void> {
    return this.streamState.set(detectorId, entity, state, now);
  }
  getStreamState(detectorId: string, entity: string): Promise<string | undefined> {
    return this.streamState.get(detectorId, entity);
  }

  setRuntimeState(state: RuntimeStateRecord): Promise<void> {
    return this.runtimeState.set(state);
  }
  getRuntimeState(
    detectorId: string,
    entity: string,
    stage: RuntimeStateRecord['stage'],
  ): Promise<RuntimeStateRecord | undefined> {
    return this.runtimeState.get(detectorId, entity, stage);
  }
  listRuntimeStates(detectorId: string, entity?: string): Promise<RuntimeStateRecord[]> {
    return this.runtimeState.list(detectorId, entity);
  }
  deleteRuntimeState(detectorId: string, entity: string, stage: RuntimeStateRecord['stage']): Promise<void> {
    return this.runtimeState.delete(detectorId, entity, stage);
  }

  addToOutbox(receiver: string, events: string[], now: number): Promise<number[]> {
    return this.outbox.add(receiver, events, now);
  }
  listOutbox(receiver: string): Promise<Array<{ id: number; event: string }>> {
    return this.outbox.list(receiver);
  }
  removeFromOutbox(ids: number[]): Promise<void> {
    return this.outbox.remove(ids);
  }

  createToken(t: { id: string; name: string; role: Role; hash: string }, now: number): Promise<TokenRecord> {
    return this.tokens.create(t, now);
  }
  findToken(hash: string): Promise<TokenRecord | undefined> {
    return this.tokens.find(hash);
  }
  listTokens(): Promise<TokenRecord[]> {
    return this.tokens.list();
  }
  revokeToken(id: string, now: number): Promise<void> {
    return this.tokens.revoke(id, now);
  }
}
