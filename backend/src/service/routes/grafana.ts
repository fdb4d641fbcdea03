import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, GrafanaHealth } from '../schemas/index.js';
import { VERSION } from '../version.js';

/** The endpoints Grafana's Isoscope data source calls through its proxy (/api/v1/grafana). */
const grafana: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['grafana'],
        description:
          "The data source's test: the token works, the service and InfluxDB answer, and which version runs.",
        response: { 200: GrafanaHealth, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: VERSION,
      detectors: (await app.registry.listDetectors()).length,
      influx: await app.influx.ping(),
    }),
  );
};
export default grafana;
