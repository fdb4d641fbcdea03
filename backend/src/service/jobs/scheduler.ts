import type { FastifyInstance } from 'fastify';
import type { DetectorSpec } from '../schemas/index.js';
import { runDrift } from '../drift.js';
import { scoreAndWrite } from './scoring.js';
import { trainDetector } from './training.js';

/**
 * Scores every detector on its schedule: each tick, a detector whose `scoreEverySeconds` has
 * passed gets the intervals since it was last scored (at most a day, so a long outage does not
 * turn into one huge read; a backfill covers more). Only whole intervals are scored, so a result
 * is never computed from a half-filled bucket. The last scored time is kept in the registry, so a
 * restart continues where the previous process stopped.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private readonly lastScored = new Map<string, number>();

  constructor(private readonly app: FastifyInstance) {}

  /** Whether this process should be scoring (readiness fails if it should and is not). */
  enabled = false;

  start(everyMs = 10_000): void {
    this.enabled = true;
    this.timer = setInterval(() => void this.tick(), everyMs);
    this.timer.unref();
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

  private stopped = false;

  /** One pass over the detectors; resolves when it is done. */
  tick(now = this.app.now()): Promise<void> {
    this.ticking = this.ticking
      .then(() => this.pass(now))
      .catch((err: unknown) => {
        this.app.log.error({ err }, 'scoring tick failed');
      });
    return this.ticking;
  }

  private async pass(now: number): Promise<void> {
    const endTimer = this.app.telemetry.scoringTick.startTimer();
    try {
      await this.scoreDue(now);
    } finally {
      endTimer();
    }
  }

  private async scoreDue(now: number): Promise<void> {
    for (const detector of await this.app.registry.listDetectors()) {
      const spec = detector.spec as DetectorSpec;
      const step = spec.intervalSeconds * 1000;
      const to = Math.floor(now / step) * step;
      const last = this.lastScored.get(detector.id) ?? (await this.stored(detector.id)) ?? to - step;
      if (now - last < spec.schedule.scoreEverySeconds * 1000 || to <= last) continue;
      const from = Math.max(last, to - 86_400_000);
      try {
        const { rows, anomalies, scored } = await scoreAndWrite(this.app, detector.id, from, to);
        await this.app.alerts.process(detector.id, spec, scored);
        this.lastScored.set(detector.id, to);
        this.app.telemetry.scoringLag.set({ detector: detector.id }, Math.max(0, (now - to) / 1000));
        await this.app.registry.setStreamState(detector.id, '', JSON.stringify({ lastScoredTo: to }), now);
        if (rows > 0) this.app.log.info({ detector: detector.id, rows, anomalies }, 'scored');
      } catch (err) {
        this.app.log.warn(
          { detector: detector.id, err: (err as Error).message },
          'scoring failed; it is retried next tick',
        );
      }
      try {
        await this.maybeRetrain(detector.id, spec, now);
      } catch (err) {
        this.app.log.warn({ detector: detector.id, err: (err as Error).message }, 'retraining check failed');
      }
    }
  }

  /**
   * Starts a retrain when one is due: every `retrainEveryHours` since the newest model, or when the
   * drift consensus (checked every `driftCheckEveryHours`) finds a drifted feature. The job trains
   * candidates on the recent window without the flagged rows and promotes by the detector's
   * policy. Never two trainings of one detector at once.
   */
  private async maybeRetrain(detectorId: string, spec: DetectorSpec, now: number): Promise<void> {
    const versions = await this.app.registry.listModelVersions(detectorId);
    if (versions.length === 0) return; // the first model is trained on request
    const jobs = await this.app.registry.listJobs(detectorId);
    if (jobs.some((j) => j.kind === 'training' && (j.state === 'queued' || j.state === 'running'))) return;
    let trigger: string | undefined;
    const newest = Math.max(...versions.map((v) => v.trainedAt));
    if (spec.schedule.retrainEveryHours && now - newest >= spec.schedule.retrainEveryHours * 3_600_000) {
      trigger = `scheduled retrain (every ${spec.schedule.retrainEveryHours} h)`;
    }
    if (!trigger && spec.schedule.retrainOnDrift) {
      const state = await this.app.registry.getStreamState(detectorId, 'drift');
      const last = state ? (JSON.parse(state) as { checkedAt: number }).checkedAt : newest;
      if (now - last >= spec.schedule.driftCheckEveryHours * 3_600_000) {
        const reports = await runDrift(this.app, detectorId, spec.schedule.driftCheckEveryHours);
        await this.app.registry.setStreamState(detectorId, 'drift', JSON.stringify({ checkedAt: now }), now);
        const drifted = reports.filter((r) => r.drifted);
        if (drifted.length > 0) {
          trigger = `drift on ${drifted.map((r) => `${r.entity || 'all'} (${r.driftedFeatures.join(', ')})`).join('; ')}`;
        }
      }
    }
    if (!trigger) return;
    this.app.log.info({ detector: detectorId, trigger }, 'retraining');
    const why = trigger;
    await this.app.jobs.submit(detectorId, 'training', (ctx) =>
      trainDetector(
        this.app,
        detectorId,
        {
          to: now,
          actor: 'scheduler',
          policy: spec.schedule.promotion,
          excludeAnomalies: true,
          trigger: why,
        },
        ctx,
      ),
    );
  }

  private async stored(detectorId: string): Promise<number | undefined> {
    const state = await this.app.registry.getStreamState(detectorId, '');
    return state ? (JSON.parse(state) as { lastScoredTo?: number }).lastScoredTo : undefined;
  }
}
