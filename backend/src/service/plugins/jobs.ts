import fp from 'fastify-plugin';
import { JobRunner } from '../jobs/runner.js';

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
    // On shutdown, running jobs stop at their next checkpoint and are recorded as cancelled.
    app.addHook('preClose', async () => {
      for (const job of await app.registry.listJobs()) {
        if (job.state === 'queued' || job.state === 'running') await runner.cancel(job.id);
      }
      await runner.idle();
    });
  },
  { name: 'jobs', dependencies: ['registry', 'telemetry'] },
);
