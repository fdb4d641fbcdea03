import fp from 'fastify-plugin';
import { collectDefaultMetrics, Histogram, Registry as PromRegistry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: PromRegistry;
  }
}

/**
 * Prometheus metrics at /metrics (prom-client): the process's own (memory, event-loop lag, GC) and
 * HTTP request durations by route and status. One registry per app, so tests can build many.
 */
export default fp(
  async (app) => {
    const registry = new PromRegistry();
    collectDefaultMetrics({ register: registry });
    const http = new Histogram({
      name: 'isoscope_http_request_duration_seconds',
      help: 'HTTP request duration by route and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    app.decorate('metrics', registry);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown';
      http.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'metrics' },
);
