import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { STAGES } from '../../io/registry/index.js';

/**
 * GET /metrics in Prometheus' text format: the process's own metrics, HTTP durations, scoring,
 * jobs, drift, alert deliveries, InfluxDB requests, results waiting for InfluxDB, and model
 * versions per stage and detector health (both from the registry at scrape time).
 */
export default fp(
  async (app) => {
    new Gauge({
      name: 'isoscope_models',
      help: 'Model versions per stage',
      labelNames: ['stage'],
      registers: [app.metrics],
      async collect() {
        const counts = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<string, number>;
        for (const d of await app.registry.listDetectors())
          for (const v of await app.registry.listModelVersions(d.id)) counts[v.stage]!++;
        for (const stage of STAGES) this.set({ stage }, counts[stage]!);
      },
    });
    app.get(
      '/metrics',
      { config: { probe: true, rateLimit: false }, schema: { hide: true } },
      async (_request, reply) => {
        app.telemetry.resultsPending.set(app.results.stats.pending);
        app.telemetry.updateHealth(await app.health.all());
        app.telemetry.updateScoringFailures(app.health.failureStates());
        reply.type(app.metrics.contentType);
        return app.metrics.metrics();
      },
    );
  },
  { name: 'metrics', dependencies: ['telemetry', 'registry', 'influx'] },
);
