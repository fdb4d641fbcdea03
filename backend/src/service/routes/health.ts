import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Readiness } from '../schemas/index.js';

/**
 * Kubernetes probes: /healthz says the process is alive (never depends on anything else, so a
 * database outage does not get the pod killed); /readyz says it can serve: registry open and
 * InfluxDB reachable, the scoring scheduler running; else 503 with the reason.
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
      const checks = {
        registry: 'ok',
        influx: 'ok',
        scheduler: app.scheduler.running
          ? 'running'
          : app.scheduler.enabled
            ? 'stopped'
            : 'off (scoring disabled in this process)',
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
        checks.registry === 'ok' && checks.influx.startsWith('ok') && checks.scheduler !== 'stopped';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
};
export default health;
