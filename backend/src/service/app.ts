import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from '../io/registry/index.js';
import type { Config } from './config.js';
import alerts from './plugins/alerts.js';
import application from './plugins/application.js';
import auth, { tokenOf } from './plugins/auth.js';
import configPlugin from './plugins/config.js';
import errors, { errorAnswer, sendError } from './plugins/errors.js';
import feedback from './plugins/feedback.js';
import overload from './plugins/overload.js';
import influx from './plugins/influx.js';
import jobsPlugin from './plugins/jobs.js';
import schedulerPlugin from './plugins/scheduler.js';
import workers from './workers/plugin.js';
import metrics from './plugins/metrics.js';
import telemetry from './plugins/telemetry.js';
import registryPlugin from './plugins/registry.js';
import anomalies from './routes/anomalies.js';
import checks from './routes/checks.js';
import admin from './routes/admin.js';
import detectors from './routes/detectors.js';
import grafana from './routes/grafana.js';
import health from './routes/health.js';
import incidents from './routes/incidents.js';
import suppressions from './routes/suppressions.js';
import { detectorModels, jobs } from './routes/models.js';
import presets from './routes/presets.js';
import { ErrorResponse } from './schemas/index.js';
import './types.js';
import { VERSION } from './version.js';

export interface AppOptions {
  config: Config;
  /** A registry to use instead of SQLite in the data directory (tests). */
  registry?: Registry;
  now?: () => number;
  /** Pino JSON logging (off in tests); a stream to send the lines to instead of stdout. */
  logger?: boolean | { stream: NodeJS.WritableStream };
  /** Start the scoring scheduler (default true; tests call app.scheduler.tick themselves). */
  scheduler?: boolean;
  /** The event loop's lag in ms, instead of measuring it (tests of the overload answer). */
  eventLoopLag?: () => number;
}

/**
 * Builds the service without listening (server.ts listens; tests use app.inject). Shared
 * infrastructure is registered as fastify-plugin decorators, route groups as encapsulated plugins
 * under their prefix.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger
      ? {
          level: options.config.logLevel,
          ...(typeof options.logger === 'object' ? { stream: options.logger.stream } : {}),
          // Requests are logged with their headers (user agent, Grafana's forwarded ones), never
          // with the token: Authorization and cookies are replaced before the line is written.
          serializers: {
            req: (req: { id: string; method: string; url: string; headers: Record<string, unknown> }) => ({
              id: req.id,
              method: req.method,
              url: req.url,
              headers: req.headers,
            }),
          },
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
        }
      : false,
    bodyLimit: 1 << 20,
    // Errors the router raises before a route is found (a malformed URL, a path parameter over
    // 100 characters) get the same shape and codes as every other error.
    frameworkErrors: (err, _request, reply) => sendError(reply, errorAnswer(err)),
    ajv: {
      customOptions: { removeAdditional: false, useDefaults: true, coerceTypes: 'array', allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(configPlugin, { config: options.config, ...(options.now ? { now: options.now } : {}) });
  await app.register(errors);
  await app.register(telemetry);
  await app.register(helmet, { contentSecurityPolicy: false });
  if (options.config.rateLimit > 0) {
    // Per token, so that Grafana's proxy (one address for every user) is not one client, and one
    // noisy script does not starve the others. Probe routes opt out (config.rateLimit false).
    await app.register(rateLimit, {
      max: options.config.rateLimit,
      timeWindow: '1 minute',
      // Unknown tokens count against their address: made-up tokens cannot each get a fresh budget.
      keyGenerator: async (request) => {
        // The same lookup auth then uses (one per request).
        const known = await tokenOf(app, request);
        return known ? `token:${known.id}` : `address:${request.ip}`;
      },
    });
  }
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Isoscope',
        version: VERSION,
        description:
          'Anomaly detection for infrastructure metrics: detectors, models, scores and explanations.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addSchema(ErrorResponse);
  await app.register(registryPlugin, options.registry ? { registry: options.registry } : {});
  await app.register(influx);
  // After the InfluxDB client it watches; its hook still runs before any route's work.
  await app.register(overload, options.eventLoopLag ? { lag: options.eventLoopLag } : {});
  await app.register(auth);
  await app.register(metrics);
  await app.register(application);
  await app.register(alerts);
  await app.register(jobsPlugin);
  // Scoring off (tests tick by hand) means no queue either: the scheduler scores in-process.
  await app.register(workers, { enabled: options.scheduler !== false });
  await app.register(schedulerPlugin, {
    start: options.scheduler !== false && options.config.role !== 'worker',
  });
  // Verdicts from tagged Grafana annotations, read where the scheduler runs (not on workers).
  await app.register(feedback, { start: options.scheduler !== false && options.config.role !== 'worker' });

  await app.register(health);
  // A worker answers the probes and /metrics only: the API is the api replicas'.
  if (options.config.role === 'worker') {
    await app.ready();
    return app;
  }
  await app.register(detectors, { prefix: '/api/v1/detectors' });
  await app.register(detectorModels, { prefix: '/api/v1/detectors' });
  await app.register(anomalies, { prefix: '/api/v1/detectors' });
  await app.register(checks, { prefix: '/api/v1/detectors' });
  await app.register(admin, { prefix: '/api/v1/admin/detectors' });
  await app.register(jobs, { prefix: '/api/v1/jobs' });
  await app.register(presets, { prefix: '/api/v1/presets' });
  await app.register(grafana, { prefix: '/api/v1/grafana' });
  await app.register(incidents, { prefix: '/api/v1/incidents' });
  await app.register(suppressions, { prefix: '/api/v1/suppressions' });
  await app.ready();
  return app;
}
