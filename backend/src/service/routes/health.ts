import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Readiness } from '../schemas/index.js';

/**
 * Kubernetes probes: /healthz says the process is alive (never depends on anything else, so a
 * database outage does not get the pod killed); /readyz says it can serve: registry open and
 * InfluxDB reachable, the scoring scheduler running and its last whole pass younger than
 * STALE_PASSES intervals; else 503 with the reason. Detectors that fail to score are listed in
 * `details` without failing readiness: one broken detector must not take the replica out.
 */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      config: { probe: true, rateLimit: false },
      schema: { tags: ['health'], security: [], response: { 200: Health } },
    },
    async () => ({
      status: 'ok' as const,
    }),
  );

  app.get(
    '/readyz',
    {
      config: { probe: true, rateLimit: false },
      schema: { tags: ['health'], security: [], response: { 200: Readiness, 503: Readiness } },
    },
    async (_request, reply) => {
      const health = app.scheduler.health();
      const age = health.lastPassAgeSeconds;
      const checks = {
        registry: 'ok',
        influx: 'ok',
        scheduler: app.scheduler.running
          ? health.stale
            ? `stalled: ${age === undefined ? 'no pass finished' : `last pass ${Math.round(age)} s ago`}, one is due every ${health.everySeconds} s`
            : `running${age === undefined ? '' : ` (last pass ${Math.round(age)} s ago)`}`
          : app.scheduler.enabled
            ? 'stopped'
            : 'off (scoring disabled in this process)',
      };
      const details = {
        ...(age !== undefined ? { lastPassAgeSeconds: age } : {}),
        failingDetectors: health.failing.map((f) => ({
          detector: f.detector,
          since: new Date(f.since).toISOString(),
          error: f.error,
        })),
      };
      try {
        if (!(await app.registry.ping())) checks.registry = 'not open';
      } catch (err) {
        checks.registry = (err as Error).message;
      }
      try {
        checks.influx = `ok (${await app.influx.ping()})`;
      } catch (err) {
        checks.influx = (err as Error).message;
      }
      const ready =
        checks.registry === 'ok' &&
        checks.influx.startsWith('ok') &&
        checks.scheduler !== 'stopped' &&
        !health.stale;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks, details });
    },
  );
};
export default health;
