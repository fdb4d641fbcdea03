import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry as PromRegistry } from 'prom-client';
import { Telemetry } from '../telemetry.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: PromRegistry;
    telemetry: Telemetry;
  }
}

/**
 * The Prometheus registry and the service's metrics as `app.metrics` / `app.telemetry`, first of
 * the infrastructure so every other part can count into it; HTTP durations by route and status.
 */
export default fp(
  async (app) => {
    const registry = new PromRegistry();
    collectDefaultMetrics({ register: registry });
    const telemetry = new Telemetry(registry);
    app.decorate('metrics', registry);
    app.decorate('telemetry', telemetry);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      telemetry.http.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'telemetry' },
);
