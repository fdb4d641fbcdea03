import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { EngineError, type EngineErrorCode } from '../../engine/index.js';
import { ReceiverError } from '../../io/alerts/index.js';
import { CsvError } from '../../io/csv/index.js';
import { excerpt, oneLineMessage } from '../../io/excerpt.js';
import {
  InfluxQueryError,
  InfluxRequestError,
  InfluxUnavailableError,
  LineProtocolError,
} from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { ConfigError } from '../config.js';

/**
 * Every code an error answer can carry, and its one HTTP status: the service's whole error
 * taxonomy (docs/api.md has the same table for clients). 400: the request is wrong; 404: what it
 * names does not exist; 409: it conflicts with the state (a model whose features no longer fit);
 * 422: well formed, but the data it needs cannot be used; 503: a dependency is down or the service
 * is overloaded, retry after the Retry-After header; 500: the service failed (details in the log).
 */
export const ERROR_STATUS = {
  // The request itself
  BAD_REQUEST: 400, // schema violations, malformed JSON: the message names the field
  BAD_RANGE: 400, // a time range or window out of order, out of bounds or too long
  INVALID: 400, // a value the registry or a route refuses (RegistryError 'INVALID')
  BAD_OPTION: 400, // an engine option out of range (EngineError)
  INFLUX_QUERY_INVALID: 400, // a source that cannot become a query (InfluxQueryError)
  SOURCE_NOT_ALLOWED: 400, // source.database outside ISOSCOPE_INFLUX_ALLOWED_DATABASES
  CSV_INVALID: 400, // a CSV that cannot be read (CsvError)
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FEATURE_MISMATCH: 409, // the production model's features no longer fit the detector: retrain
  JOB_CANCELLED: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414, // a path parameter over 100 characters
  UNSUPPORTED_MEDIA_TYPE: 415,
  // The data
  NO_DATA: 422, // the source has no data in the window asked for
  EMPTY_DATA: 422,
  TOO_FEW_ROWS: 422,
  RAGGED_ROWS: 422,
  NON_FINITE: 422,
  FORMAT_MAGIC: 422, // a model bundle that is not one
  FORMAT_VERSION: 422,
  FORMAT_TRUNCATED: 422,
  FORMAT_CORRUPT: 422,
  LINE_PROTOCOL_INVALID: 422, // a name or value InfluxDB's line protocol cannot carry
  INFLUX_REFUSED: 422, // InfluxDB refused the query (its own text is in the log)
  RECEIVER_REFUSED: 422, // an alert receiver refused the payload (4xx)
  RATE_LIMITED: 429,
  // The service
  INTERNAL: 500,
  CONFIG_INVALID: 500,
  INFLUX_UNAVAILABLE: 503,
  INFLUX_TIMEOUT: 503,
  INFLUX_BUSY: 503, // every InfluxDB query slot stayed taken (ISOSCOPE_INFLUX_MAX_QUERIES)
  REGISTRY_BUSY: 503,
  RECEIVER_UNAVAILABLE: 503,
  OVERLOADED: 503,
} as const satisfies Record<EngineErrorCode, number> & Record<string, number>;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Seconds a client should wait before retrying, per 503 code (sent as Retry-After). */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  INFLUX_UNAVAILABLE: 10,
  INFLUX_TIMEOUT: 10,
  INFLUX_BUSY: 2,
  REGISTRY_BUSY: 1,
  RECEIVER_UNAVAILABLE: 30,
  OVERLOADED: 2,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error the service raises itself, with its code from ERROR_STATUS. */
export class ServiceError extends Error {
  override readonly name: string = 'ServiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A request the service understood but cannot serve from the data (an empty source range). */
export class UnprocessableError extends ServiceError {
  override readonly name = 'UnprocessableError';
  constructor(message: string) {
    super('NO_DATA', message);
  }
}

/** What the client is told: status, code, a one-line message; and whether the log needs the error. */
export interface ErrorAnswer {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  retryAfterSeconds?: number;
  /** Log the original error (its text is not the client's to see, or it is the service's fault). */
  log: 'warn' | 'error' | undefined;
}

/** Fastify's own 4xx codes (body parsing, routing) and the rate limiter's, as ours. */
const FASTIFY_CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

function answer(code: ErrorCode, message: string, log?: 'warn' | 'error'): ErrorAnswer {
  const statusCode = ERROR_STATUS[code];
  const retryAfterSeconds = RETRY_AFTER_SECONDS[code];
  return {
    statusCode,
    error: REASON[statusCode] ?? 'Error',
    code,
    message: oneLineMessage(message),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    log,
  };
}

/**
 * The one mapping from an error to its answer. Our messages name the field, detector or source
 * and quote input only as short excerpts; the texts of InfluxDB, SQLite and of unexpected errors
 * stay in the log and the client gets a sentence that says where to look.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  const e = err as Error & { validation?: unknown; statusCode?: number; code?: unknown };
  if (e && typeof e === 'object' && e.validation) return answer('BAD_REQUEST', e.message);
  if (err instanceof ServiceError) return answer(err.code, err.message);
  if (err instanceof EngineError) return answer(err.code, err.message);
  if (err instanceof RegistryError) return answer(err.code, err.message);
  if (err instanceof CsvError) return answer(err.code, err.message);
  if (err instanceof InfluxQueryError) return answer(err.code, err.message);
  if (err instanceof LineProtocolError) return answer(err.code, err.message);
  if (err instanceof InfluxUnavailableError) {
    return answer(
      err.code,
      err.code === 'INFLUX_TIMEOUT'
        ? 'InfluxDB did not answer in time; retry later'
        : err.code === 'INFLUX_BUSY'
          ? 'too many InfluxDB queries are running; retry shortly'
          : 'InfluxDB is unreachable or failing; retry later',
      'warn',
    );
  }
  if (err instanceof InfluxRequestError) {
    // The one InfluxDB text a user can act on, reworded: the database a source names is missing.
    const missing = /database not found: "?([^"]*)"?\s*$/.exec(err.message)?.[1];
    if (missing !== undefined)
      return answer(
        err.code,
        `database '${excerpt(missing)}' does not exist in InfluxDB (database not found)`,
        'warn',
      );
    return answer(
      err.code,
      `InfluxDB refused the query (HTTP ${err.status}): check the detector's source (measurement, fields, tags, database); the service log has InfluxDB's message`,
      'warn',
    );
  }
  if (err instanceof ReceiverError) return answer(err.code, err.message, 'warn');
  if (err instanceof ConfigError)
    return answer(err.code, "the service's configuration is invalid; the log has the details", 'error');
  if (e instanceof Error && e.name === 'JobCancelled') return answer('JOB_CANCELLED', e.message);
  // better-sqlite3's SqliteError: a busy or locked registry is worth retrying; anything else is ours.
  if (e instanceof Error && e.name === 'SqliteError' && /^SQLITE_(BUSY|LOCKED)/.test(String(e.code)))
    return answer('REGISTRY_BUSY', 'the registry is busy; retry shortly', 'warn');
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = FASTIFY_CODES[e.statusCode];
    if (code) return answer(code, e.message);
    return {
      statusCode: e.statusCode,
      error: REASON[e.statusCode] ?? 'Client Error',
      code: `HTTP_${e.statusCode}`,
      message: oneLineMessage(e.message),
      log: undefined,
    };
  }
  return answer('INTERNAL', 'the service failed; the log has the details', 'error');
}

/** Sends an answer (status, Retry-After, body); also for hooks that answer before a route runs. */
export function sendError(reply: FastifyReply, a: ErrorAnswer): FastifyReply {
  if (a.retryAfterSeconds !== undefined) reply.header('Retry-After', String(a.retryAfterSeconds));
  return reply
    .code(a.statusCode)
    .send({ statusCode: a.statusCode, error: a.error, code: a.code, message: a.message });
}

/**
 * Every error as { statusCode, error, code, message } through `errorAnswer`, the only place that
 * decides a status. Unknown routes are 404 NOT_FOUND naming the method and path.
 */
export default fp(
  async (app) => {
    app.setErrorHandler((err, request, reply) => {
      const a = errorAnswer(err);
      if (a.code === 'UNSUPPORTED_MEDIA_TYPE') {
        a.message = `content-type '${excerpt(String(request.headers['content-type'] ?? ''))}' is not accepted here; send application/json`;
      }
      if (a.log === 'error') request.log.error({ err }, 'request failed');
      else if (a.log === 'warn')
        request.log.warn({ err: (err as Error).message, code: a.code }, 'request failed');
      return sendError(reply, a);
    });
    // Ajv coerces a query string of 1e309 or Infinity to a number and lets it through every bound
    // (Infinity % 1 is NaN): refuse what is not finite before a route computes with it.
    app.addHook('preHandler', async (request) => {
      for (const [where, values] of [
        ['querystring', request.query],
        ['params', request.params],
      ] as const) {
        if (!values || typeof values !== 'object') continue;
        for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
          const list = Array.isArray(value) ? (value as unknown[]) : [value];
          if (list.some((v) => typeof v === 'number' && !Number.isFinite(v)))
            throw new ServiceError('BAD_REQUEST', `${where}/${excerpt(key)} must be a finite number`);
        }
      }
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(reply, answer('NOT_FOUND', `no route ${request.method} ${request.url}`)),
    );
  },
  { name: 'errors' },
);
