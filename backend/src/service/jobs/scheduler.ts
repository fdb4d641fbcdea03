import type { AlertEvent } from '../../io/alerts/index.js';
import type { DetectorSpec } from '../domain/spec.js';
import { ScoringInterrupted, type Runtimes } from '../application/runtimes.js';
import type { ScoredRow } from '../application/runtime.js';
import type { Health } from '../application/health.js';

/** Where scoring outcomes are recorded once (Health): readiness, health and metrics read the same. */
export type ScoringOutcomes = Pick<Health, 'recordScored' | 'recordFailure' | 'forget' | 'failing'>;

export interface SchedulerDeps {
  runtimes: Runtimes;
  /** Every detector with its spec (validated); a detector whose stored spec is broken is left out and logged. */
  detectors(): Promise<Array<{ id: string; spec: DetectorSpec }>>;
  /** Newest version's training time per detector (undefined: none yet), and whether a training job is open. */
  training(detectorId: string): Promise<{ newestAt?: number; running: boolean; failedAt?: number }>;
  /** Starts a bootstrap job (actor `scheduler`): the first one promotes, a retrain follows the policy. */
  startTraining(
    detectorId: string,
    options: { to: number; trigger: string; policy?: DetectorSpec['schedule']['promotion'] },
  ): Promise<void>;
  alerts(detectorId: string, spec: DetectorSpec, rows: ScoredRow[]): Promise<AlertEvent[]>;
  now(): number;
  log: {
    info(detail: object, message: string): void;
    warn(detail: object, message: string): void;
    error(detail: object, message: string): void;
  };
  /**
   * Queue mode (a PostgreSQL registry): hands a detector's intervals up to `to` to the workers
   * (one job per shard) instead of scoring them in this process.
   */
  dispatch?(detectorId: string, spec: DetectorSpec, to: number): Promise<void>;
  /** Runs a pass unless another replica is running one (then skips it): one scheduler at a time. */
  exclusive?(pass: () => Promise<void>): Promise<void>;
  /** A tick's duration and each detector's lag (metrics). */
  timeTick?(): () => void;
  lag?(detectorId: string, seconds: number): void;
  /** A pass finished (metrics: its time). */
  passed?(at: number): void;
  /** Each scoring pass's production rows or its failure, recorded once (detector health). */
  outcomes: ScoringOutcomes;
  /** A scoring pass's production rows (metrics: anomalies flagged). */
  scored?(detectorId: string, rows: ScoredRow[]): void;
}

/** What readiness reports about the scheduler (see Scheduler.health). */
export interface SchedulerHealth {
  /** Seconds since the last pass that went over every detector (undefined: none yet). */
  lastPassAgeSeconds?: number;
  /** The last pass is older than STALE_PASSES intervals (or none came within them of the start). */
  stale: boolean;
  everySeconds: number;
  /** Detectors whose last scoring failed: since when and why. */
  failing: Array<{ detector: string; since: number; error: string }>;
}

/** Readiness fails when the last whole pass is older than this many intervals. */
export const STALE_PASSES = 3;

/**
 * Scores every detector on its schedule: each tick, a detector whose `scoreEverySeconds` has
 * passed has its runtimes score the whole intervals since they stopped (a result is never
 * computed from a half-filled bucket). Where each runtime stands is in the registry with its
 * snapshot, so a restart continues exactly where the previous process stopped. A detector without
 * any version is bootstrapped from its history at once, and one with `retrainEveryHours` gets a
 * fresh bootstrap on that schedule, judged by its promotion policy. The stream retrains itself
 * (every `retrainEvery` rows, and on drift) inside each runtime: there is no second retrain loop.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private readonly lastTick = new Map<string, number>();
  private stopped = false;
  private everyMs = 10_000;
  private startedAt: number | undefined;
  private lastPassAt: number | undefined;
  /** A pass is running: the timer does not queue another behind it (see start). */
  private inPass = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Whether this process should be scoring (readiness fails if it should and is not). */
  enabled = false;

  /**
   * Ticks every `everyMs`. A pass that outlasts the interval (a slow or hanging InfluxDB) is not
   * queued behind: the timer skips while one runs, so passes never pile up, and readiness sees the
   * age of the last finished one grow (health) instead of a scheduler that only says "running".
   */
  start(everyMs = 10_000): void {
    this.enabled = true;
    this.everyMs = everyMs;
    this.startedAt = this.deps.now();
    this.timer = setInterval(() => {
      if (!this.inPass) void this.tick();
    }, everyMs);
    this.timer.unref();
  }

  /**
   * The age of the last whole pass, whether it is stale (older than STALE_PASSES intervals:
   * readiness fails), and the detectors that failed to score on their last try.
   */
  health(now = this.deps.now()): SchedulerHealth {
    const since = this.lastPassAt ?? this.startedAt;
    return {
      ...(this.lastPassAt !== undefined
        ? { lastPassAgeSeconds: Math.max(0, (now - this.lastPassAt) / 1000) }
        : {}),
      stale: this.running && since !== undefined && now - since > STALE_PASSES * this.everyMs,
      everySeconds: this.everyMs / 1000,
      failing: this.deps.outcomes.failing(),
    };
  }

  /** Stops the timer and waits for the tick in progress (graceful shutdown). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
    await this.ticking;
  }

  get running(): boolean {
    return this.timer !== undefined && !this.stopped;
  }

  /** One pass over the detectors; resolves when it is done. */
  tick(now = this.deps.now()): Promise<void> {
    this.ticking = this.ticking
      .then(async () => {
        const end = this.deps.timeTick?.();
        this.inPass = true;
        try {
          await (this.deps.exclusive ? this.deps.exclusive(() => this.pass(now)) : this.pass(now));
          this.lastPassAt = this.deps.now();
          this.deps.passed?.(this.lastPassAt);
        } finally {
          this.inPass = false;
          end?.();
        }
      })
      .catch((err: unknown) => this.deps.log.error({ err }, 'scoring tick failed'));
    return this.ticking;
  }

  private async pass(now: number): Promise<void> {
    const detectors = await this.deps.detectors();
    // A detector deleted (or left out as broken) no longer counts as failing.
    for (const { detector } of this.deps.outcomes.failing())
      if (!detectors.some((d) => d.id === detector)) this.deps.outcomes.forget(detector);
    for (const { id, spec } of detectors) {
      const step = spec.intervalSeconds * 1000;
      const to = Math.floor(now / step) * step;
      const last = this.lastTick.get(id);
      const due = last === undefined || now - last >= spec.schedule.scoreEverySeconds * 1000;
      if (due && this.deps.dispatch) {
        await this.dispatch(id, spec, to, now);
      } else if (due) {
        try {
          const r = await this.deps.runtimes.scoreUpTo(id, to);
          this.lastTick.set(id, now);
          if (r.scoredTo !== undefined) this.deps.lag?.(id, Math.max(0, (now - r.scoredTo) / 1000));
          this.deps.outcomes.recordScored(id, r.scored);
          this.deps.scored?.(id, r.scored);
          await this.deps.alerts(id, spec, r.scored);
          if (r.rows > 0)
            this.deps.log.info({ detector: id, rows: r.rows, anomalies: r.anomalies }, 'scored');
        } catch (err) {
          const error = (err as Error).message;
          // Interrupted by a write InfluxDB did not take: the entities saved before it still alert.
          if (err instanceof ScoringInterrupted && err.scored.length > 0)
            await this.deps
              .alerts(id, spec, err.scored)
              .catch((e: unknown) =>
                this.deps.log.warn({ detector: id, err: (e as Error).message }, 'alerting failed'),
              );
          this.deps.outcomes.recordFailure(id, error, now);
          this.deps.log.warn({ detector: id, err: error }, 'scoring failed; it is retried next tick');
        }
      }
      try {
        await this.maybeTrain(id, spec, now);
      } catch (err) {
        this.deps.log.warn({ detector: id, err: (err as Error).message }, 'retraining check failed');
      }
    }
  }

  /** Queue mode: the interval goes to the workers; a failed enqueue is retried next tick. */
  private async dispatch(id: string, spec: DetectorSpec, to: number, now: number): Promise<void> {
    try {
      await this.deps.dispatch!(id, spec, to);
      this.lastTick.set(id, now);
    } catch (err) {
      this.deps.log.warn(
        { detector: id, err: (err as Error).message },
        'enqueueing failed; it is retried next tick',
      );
    }
  }

  private async maybeTrain(id: string, spec: DetectorSpec, now: number): Promise<void> {
    const { newestAt, running, failedAt } = await this.deps.training(id);
    if (running) return;
    if (newestAt === undefined) {
      // A source with no data yet: try again in an hour, not every tick.
      if (failedAt !== undefined && now - failedAt < 3_600_000) return;
      this.deps.log.info({ detector: id }, 'bootstrapping a new detector from its history');
      await this.deps.startTraining(id, { to: now, trigger: 'first bootstrap' });
      return;
    }
    const every = spec.schedule.retrainEveryHours;
    if (every && now - newestAt >= every * 3_600_000) {
      const trigger = `scheduled retrain (every ${every} h)`;
      this.deps.log.info({ detector: id, trigger }, 'retraining');
      await this.deps.startTraining(id, { to: now, trigger, policy: spec.schedule.promotion });
    }
  }
}
