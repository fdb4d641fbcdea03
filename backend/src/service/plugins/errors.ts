import fp from 'fastify-plugin';
import { InfluxRequestError, InfluxUnavailableError } from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';

/** A request the service understood but cannot serve from the data (an empty source range). */
export class UnprocessableError extends Error {
  override readonly name = 'UnprocessableError';
}

/**
 * Every error as { statusCode, error, message }: schema violations 400 naming the field, unknown
 * resources 404, conflicts 409, data that cannot be used 422, InfluxDB down 503. Anything else is
 * a 500 whose details go to the log, not to the client.
 */
export default fp(
  async (app) => {
    app.setErrorHandler((err, request, reply) => {
      const send = (statusCode: number, error: string, message: string): unknown =>
        reply.code(statusCode).send({ statusCode, error, message });
      const e = err as Error & { validation?: unknown; statusCode?: number; code?: string };
      if (e.validation) return send(400, 'Bad Request', e.message);
      if (e instanceof RegistryError) {
        if (e.code === 'NOT_FOUND') return send(404, 'Not Found', e.message);
        if (e.code === 'CONFLICT') return send(409, 'Conflict', e.message);
        return send(400, 'Bad Request', e.message);
      }
      if (e instanceof UnprocessableError) return send(422, 'Unprocessable Entity', e.message);
      if (e instanceof InfluxUnavailableError) return send(503, 'Service Unavailable', e.message);
      if (e instanceof InfluxRequestError) return send(422, 'Unprocessable Entity', e.message);
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
        return send(e.statusCode, e.name, e.message);
      request.log.error({ err }, 'request failed');
      return send(500, 'Internal Server Error', 'the service failed; the log has the details');
    });
    app.setNotFoundHandler((request, reply) =>
      reply
        .code(404)
        .send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
    );
  },
  { name: 'errors' },
);
