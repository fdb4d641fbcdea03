import fp from 'fastify-plugin';
import { JOB_HEARTBEAT_MS, JOB_SILENCE_MS, JobRunner } from '../jobs/runner.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobRunner;
  }
}

/** The background job runner as `app.jobs`, at most ISOSCOPE_MAX_JOBS at once. */
export default fp(
  async (app) => {
    const runner = new JobRunner(
      app.registry,
      app.config.maxJobs,
      app.now,
      (message, detail) => app.log.warn(detail, message),
      (kind, outcome, seconds) => {
        app.telemetry.jobs.inc({ kind, outcome });
        app.telemetry.jobDuration.observe({ kind }, seconds);
      },
    );
    app.decorate('jobs', runner);
    // Replicas sharing a PostgreSQL registry: this one's heartbeat keeps its jobs from being taken
    // for interrupted, and its sweep fails the jobs of a replica that died (see the registry plugin).
    const timers: NodeJS.Timeout[] = [];
    if (app.registry.backend === 'postgres' && app.config.role !== 'worker') {
      const warn = (what: string) => (err: Error) => app.log.warn({ err: err.message }, what);
      timers.push(
        setInterval(() => void runner.heartbeat().catch(warn('job heartbeat failed')), JOB_HEARTBEAT_MS),
        setInterval(
          () =>
            void app.registry
              .failInterruptedJobs(app.now(), app.now() - JOB_SILENCE_MS)
              .then(
                (n) => n > 0 && app.log.warn({ interrupted: n }, 'jobs of a stopped replica marked failed'),
              )
              .catch(warn('job sweep failed')),
          JOB_SILENCE_MS / 2,
        ),
      );
      timers.forEach((t) => t.unref());
    }
    // On shutdown, this process's jobs stop at their next checkpoint and are recorded as cancelled.
    app.addHook('preClose', async () => {
      timers.forEach((t) => clearInterval(t));
      for (const id of runner.ownJobs) await runner.cancel(id);
      await runner.idle();
    });
  },
  { name: 'jobs', dependencies: ['registry', 'telemetry'] },
);
