/**
 * Detector health, a read model: per detector and entity, whether production scoring keeps up
 * (where each runtime stands, from the registry, so it survives restarts and is the same on every
 * replica), what this process scored and how often scoring failed since it started (in memory),
 * the last training job and the newest drift reports. The API, /metrics and the plugin read it.
 */
import { RegistryError, type JobRecord, type Registry } from '../../io/registry/index.js';
import { readSpec } from '../domain/spec.js';
import type { DetectorHealth, EntityHealth, HealthState } from '../schemas/health.js';

export interface HealthDeps {
  registry: Registry;
  now(): number;
}

/** Multiples of a detector's scoring period (intervalSeconds + scoreEverySeconds). */
export const LAGGING_PERIODS = 3;
export const STALLED_PERIODS = 10;

interface Counts {
  rows: number;
  anomalies: number;
}

interface Failures {
  total: number;
  consecutive: number;
  /** When the current run of failures began (consecutive > 0). */
  since?: number;
  lastAt?: number;
  lastError?: string;
}

/** A detector whose last scoring attempt failed: since when, and why. */
export interface FailingDetector {
  detector: string;
  since: number;
  error: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Worse first: the detector's state is its worst entity's, or its own failure. */
const RANK: Record<HealthState, number> = { failing: 4, stalled: 3, lagging: 2, 'not scored': 1, ok: 0 };

export class Health {
  private readonly scored = new Map<string, Map<string, Counts>>();
  private readonly failures = new Map<string, Failures>();
  readonly since: number;

  constructor(private readonly deps: HealthDeps) {
    this.since = deps.now();
  }

  /** One live scoring pass of a detector succeeded, with its production rows. */
  recordScored(detectorId: string, rows: ReadonlyArray<{ entity: string; anomaly: boolean }>): void {
    const byEntity = this.scored.get(detectorId) ?? new Map<string, Counts>();
    for (const r of rows) {
      const c = byEntity.get(r.entity) ?? { rows: 0, anomalies: 0 };
      c.rows++;
      if (r.anomaly) c.anomalies++;
      byEntity.set(r.entity, c);
    }
    this.scored.set(detectorId, byEntity);
    const f = this.failures.get(detectorId);
    if (f) f.consecutive = 0;
  }

  /**
   * One live scoring pass of a detector failed (it is retried on the next tick). The one record of
   * scoring failures: the health answer, readiness's failing detectors (Scheduler.health) and the
   * metrics isoscope_scoring_failing and isoscope_scoring_failures_total all read it.
   */
  recordFailure(detectorId: string, message: string, at = this.deps.now()): void {
    const f = this.failures.get(detectorId) ?? { total: 0, consecutive: 0 };
    if (f.consecutive === 0) f.since = at;
    f.total++;
    f.consecutive++;
    f.lastAt = at;
    f.lastError = message;
    this.failures.set(detectorId, f);
  }

  /** A detector deleted, or left out for a broken spec: no longer failing (its total stays). */
  forget(detectorId: string): void {
    const f = this.failures.get(detectorId);
    if (f) f.consecutive = 0;
  }

  /** The detectors whose last scoring attempt failed, since the first failure of the run. */
  failing(): FailingDetector[] {
    return [...this.failures]
      .filter(([, f]) => f.consecutive > 0)
      .map(([detector, f]) => ({ detector, since: f.since ?? f.lastAt ?? 0, error: f.lastError ?? '' }));
  }

  /** Failures counted so far per detector (for the /metrics counter). */
  failureTotals(): Map<string, number> {
    return new Map([...this.failures].map(([id, f]) => [id, f.total]));
  }

  /** Per detector that ever failed here: failures so far, and whether it is failing now (metrics). */
  failureStates(): Array<{ detector: string; total: number; failing: boolean }> {
    return [...this.failures].map(([detector, f]) => ({
      detector,
      total: f.total,
      failing: f.consecutive > 0,
    }));
  }

  /** Every detector's health; a detector whose spec is broken is left out (the scheduler skips it too). */
  async all(): Promise<DetectorHealth[]> {
    const out: DetectorHealth[] = [];
    for (const d of await this.deps.registry.detectors.list()) {
      try {
        out.push(await this.of(d.id));
      } catch {
        // A broken spec is reported where it is read (the detector's own page); /metrics goes on.
      }
    }
    return out;
  }

  /** One detector's health; NOT_FOUND (404) when it does not exist. */
  async of(detectorId: string): Promise<DetectorHealth> {
    const { registry } = this.deps;
    const record = await registry.detectors.get(detectorId);
    if (!record) throw new RegistryError('NOT_FOUND', `no detector '${detectorId}'`);
    const spec = readSpec(detectorId, record.spec);
    const now = this.deps.now();
    const period = spec.intervalSeconds + spec.schedule.scoreEverySeconds;
    const limits = { lagging: LAGGING_PERIODS * period, stalled: STALLED_PERIODS * period };
    const versions = await registry.models.list(detectorId); // newest first
    const runtimes = (await registry.runtimeState.list(detectorId)).filter((s) => s.stage === 'production');
    const jobs = (await registry.jobs.list(detectorId)).filter((j) => j.kind === 'training'); // newest first
    const drift = driftByEntity(await registry.drift.latest(detectorId));
    const failures = this.failures.get(detectorId) ?? { total: 0, consecutive: 0 };
    const counts = this.scored.get(detectorId) ?? new Map<string, Counts>();

    const entities = [
      ...new Set([...versions.map((v) => v.entity), ...runtimes.map((r) => r.entity)]),
    ].sort();
    const open = jobs.find((j) => j.state === 'queued' || j.state === 'running');
    const perEntity: EntityHealth[] = entities.map((entity) => {
      const runtime = runtimes.find((r) => r.entity === entity);
      const production = versions.find((v) => v.entity === entity && v.stage === 'production');
      const c = counts.get(entity) ?? { rows: 0, anomalies: 0 };
      const d = drift.get(entity);
      const base = {
        entity,
        rowsScored: c.rows,
        anomalies: c.anomalies,
        drift: d
          ? {
              state: d.drifted ? ('drifted' as const) : ('stable' as const),
              checkedAt: iso(d.at),
              driftedFeatures: d.driftedFeatures,
            }
          : { state: 'unchecked' as const, driftedFeatures: [] },
      };
      if (!runtime || !production) {
        const newest = versions.find((v) => v.entity === entity);
        const reason = newest
          ? `not scored: no model in production; v${newest.entityVersion} is ${newest.stage === 'staging' ? 'in staging (shadow scoring)' : `a ${newest.stage}`}, promote it to score`
          : open
            ? 'not scored yet: its first training is running'
            : 'not scored: no model';
        return { ...base, state: 'not scored' as const, reason };
      }
      const lag = Math.max(0, (now - runtime.scoredTo) / 1000);
      const state: HealthState = lag > limits.stalled ? 'stalled' : lag > limits.lagging ? 'lagging' : 'ok';
      return {
        ...base,
        state,
        // Times stay out of the words: scoredTo carries it, for each reader to write in its own format.
        reason:
          state === 'ok'
            ? `scored by v${production.entityVersion}`
            : `${state}: ${duration(lag)} behind (limit ${duration(state === 'stalled' ? limits.stalled : limits.lagging)})`,
        productionVersion: production.version,
        productionEntityVersion: production.entityVersion,
        scoredTo: iso(runtime.scoredTo),
        lagSeconds: lag,
      };
    });

    const scoredEntities = perEntity.filter((e) => e.scoredTo !== undefined);
    const oldest = scoredEntities.reduce<EntityHealth | undefined>(
      (a, e) => (a === undefined || e.scoredTo! < a.scoredTo! ? e : a),
      undefined,
    );
    const worst = perEntity.reduce<EntityHealth | undefined>(
      (a, e) => (a === undefined || RANK[e.state] > RANK[a.state] ? e : a),
      undefined,
    );
    let state: HealthState;
    let reason: string;
    if (failures.consecutive > 0) {
      state = 'failing';
      reason = `the last ${failures.consecutive === 1 ? 'scoring attempt' : `${failures.consecutive} scoring attempts`} failed: ${failures.lastError ?? 'unknown error'}`;
    } else if (scoredEntities.length === 0) {
      state = 'not scored';
      reason =
        perEntity.length === 0
          ? open
            ? 'not scored yet: its first training is running'
            : 'not scored: no model; train one'
          : `not scored: no entity has a model in production (${perEntity.length} waiting for promotion)`;
    } else if (worst && worst.state !== 'ok' && worst.state !== 'not scored') {
      state = worst.state;
      const n = perEntity.filter((e) => e.state === worst.state).length;
      reason = `${n} of ${perEntity.length} entities ${worst.state}; ${worst.entity || 'the detector'}: ${worst.reason}`;
    } else {
      state = 'ok';
      const waiting = perEntity.length - scoredEntities.length;
      reason = `${scoredEntities.length} of ${perEntity.length} entities scored${waiting > 0 ? `, ${waiting} not scored (no model in production)` : ''}`;
    }

    const lastJob = jobs[0];
    const drifted = perEntity.filter((e) => e.drift.state === 'drifted').map((e) => e.entity);
    const checks = perEntity.flatMap((e) => (e.drift.checkedAt ? [e.drift.checkedAt] : []));
    const total = [...counts.values()].reduce(
      (a, c) => ({ rows: a.rows + c.rows, anomalies: a.anomalies + c.anomalies }),
      { rows: 0, anomalies: 0 },
    );
    return {
      detector: detectorId,
      state,
      reason,
      checkedAt: iso(now),
      lagLimits: limits,
      ...(oldest ? { scoredTo: oldest.scoredTo!, lagSeconds: oldest.lagSeconds! } : {}),
      since: iso(this.since),
      rowsScored: total.rows,
      anomalies: total.anomalies,
      failures: {
        total: failures.total,
        consecutive: failures.consecutive,
        ...(failures.lastAt !== undefined ? { lastAt: iso(failures.lastAt) } : {}),
        ...(failures.lastError !== undefined ? { lastError: failures.lastError } : {}),
      },
      ...(lastJob ? { lastTraining: training(lastJob) } : {}),
      drift: {
        state: drifted.length > 0 ? 'drifted' : checks.length > 0 ? 'stable' : 'unchecked',
        ...(checks.length > 0 ? { checkedAt: checks.sort().at(-1)! } : {}),
        driftedEntities: drifted,
      },
      entities: perEntity,
    };
  }
}

function training(j: JobRecord): NonNullable<DetectorHealth['lastTraining']> {
  return {
    jobId: j.id,
    state: j.state,
    at: iso(j.finishedAt ?? j.createdAt),
    ...(j.error !== undefined ? { error: j.error } : {}),
  };
}

/** The newest drift report per entity, from their stored JSON (a damaged one counts as unchecked). */
function driftByEntity(
  reports: string[],
): Map<string, { drifted: boolean; at: number; driftedFeatures: string[] }> {
  const out = new Map<string, { drifted: boolean; at: number; driftedFeatures: string[] }>();
  for (const text of reports) {
    try {
      const r = JSON.parse(text) as {
        entity?: unknown;
        at?: unknown;
        drifted?: unknown;
        driftedFeatures?: unknown;
      };
      const at = typeof r.at === 'string' ? Date.parse(r.at) : NaN;
      if (typeof r.entity !== 'string' || typeof r.drifted !== 'boolean' || Number.isNaN(at)) continue;
      const features = Array.isArray(r.driftedFeatures)
        ? r.driftedFeatures.filter((f): f is string => typeof f === 'string')
        : [];
      out.set(r.entity, { drifted: r.drifted, at, driftedFeatures: features });
    } catch {
      continue;
    }
  }
  return out;
}

/** A lag in words: "45 s", "12 min", "3.5 h". */
export function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
