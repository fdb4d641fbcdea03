import fp from 'fastify-plugin';
import { readSpec } from '../domain/spec.js';
import { Scheduler } from '../jobs/scheduler.js';

declare module 'fastify' {
  interface FastifyInstance {
    scheduler: Scheduler;
  }
}

/** The scoring scheduler as `app.scheduler`; started unless `start: false` (tests tick it by hand). */
export default fp<{ start?: boolean }>(
  async (app, opts) => {
    const scheduler = new Scheduler({
      runtimes: app.runtimes,
      async detectors() {
        const out = [];
        for (const d of await app.registry.listDetectors()) {
          try {
            out.push({ id: d.id, spec: readSpec(d.id, d.spec) });
          } catch (err) {
            app.log.warn(
              { detector: d.id, err: (err as Error).message },
              'detector skipped: its spec is broken',
            );
          }
        }
        return out;
      },
      async training(detectorId) {
        const versions = await app.registry.listModelVersions(detectorId);
        const jobs = (await app.registry.listJobs(detectorId)).filter((j) => j.kind === 'training');
        const failed = jobs.filter((j) => j.state === 'failed').map((j) => j.finishedAt ?? j.createdAt);
        return {
          ...(versions.length > 0 ? { newestAt: Math.max(...versions.map((v) => v.trainedAt)) } : {}),
          running: jobs.some((j) => j.state === 'queued' || j.state === 'running'),
          ...(failed.length > 0 ? { failedAt: Math.max(...failed) } : {}),
        };
      },
      async startTraining(detectorId, { to, trigger, policy }) {
        await app.jobs.submit(detectorId, 'training', (ctx) =>
          app.runtimes.bootstrap(
            detectorId,
            { to, actor: 'scheduler', trigger, ...(policy ? { policy } : { promote: true }) },
            ctx,
          ),
        );
      },
      // Flagged rows inside a suppression rule are recorded (their incident says so) but do not page.
      alerts: async (detectorId, spec, rows) => {
        const inside = await app.suppression();
        return app.alerts.process(
          detectorId,
          spec,
          rows.map((r) =>
            r.anomaly && inside(detectorId, r.entity, r) ? { ...r, anomaly: false, severity: 'none' } : r,
          ),
        );
      },
      ...(app.shardQueue
        ? {
            dispatch: (detectorId: string, _spec: unknown, to: number) =>
              app.shardQueue!.enqueue(detectorId, to, app.config.shards),
            exclusive: (pass: () => Promise<void>) => app.shardQueue!.exclusive('pass', pass),
          }
        : {}),
      now: () => app.now(),
      log: app.log,
      timeTick: () => app.telemetry.scoringTick.startTimer(),
      lag: (detector, seconds) => app.telemetry.scoringLag.set({ detector }, seconds),
      passed: (at) => app.telemetry.schedulerLastPass.set(at / 1000),
      // One record of scoring outcomes: /readyz, the health answer and /metrics read it.
      outcomes: app.health,
      scored: (detector, rows) =>
        app.telemetry.scoringAnomalies.inc({ detector }, rows.filter((r) => r.anomaly).length),
    });
    app.decorate('scheduler', scheduler);
    if (opts.start !== false) app.addHook('onReady', async () => scheduler.start());
    // Finish the scoring tick in progress (and its writes) before the writer closes.
    app.addHook('preClose', async () => scheduler.stop());
  },
  { name: 'scheduler', dependencies: ['registry', 'influx', 'application', 'alerts', 'jobs', 'workers'] },
);
