import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { EngineError, type EngineErrorCode } from '../../engine/index.js';
import { ReceiverError } from '../../io/alerts/index.js';
import { CsvError } from '../../io/csv/index.js';
import {
  InfluxQueryError,
  InfluxRequestError,
  InfluxUnavailableError,
  toLine,
} from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { ConfigError } from '../config.js';
import { JobCancelled } from '../jobs/runner.js';
import { ErrorResponse, ErrorResponses } from '../schemas/index.js';
import errors, { ERROR_STATUS, ServiceError, UnprocessableError, type ErrorCode } from './errors.js';

/**
 * Every error class the engine, io and service raise, thrown by a route and answered through the
 * error plugin as a client sees it: the status of its code, a body that names the problem, no stack
 * trace, no path of the service's files, no text of InfluxDB, SQLite or the configuration.
 */
const HUGE = 'x'.repeat(1_000_000);
const ENGINE_CODES: EngineErrorCode[] = [
  'EMPTY_DATA',
  'TOO_FEW_ROWS',
  'RAGGED_ROWS',
  'NON_FINITE',
  'FEATURE_MISMATCH',
  'BAD_OPTION',
  'FORMAT_MAGIC',
  'FORMAT_VERSION',
  'FORMAT_TRUNCATED',
  'FORMAT_CORRUPT',
];

function sqliteBusy(): Error {
  const E = (Database as unknown as { SqliteError: new (message: string, code: string) => Error })
    .SqliteError;
  return new E('database is locked', 'SQLITE_BUSY');
}

function lineProtocolError(): Error {
  try {
    toLine({ measurement: 'cpu', tags: { host: `a\n${HUGE}` }, fields: { v: 1 }, timeMs: 0 });
  } catch (err) {
    return err as Error;
  }
  throw new Error('toLine accepted a line break');
}

function typeError(): Error {
  try {
    return new Error(String((undefined as unknown as { x: { y: number } }).x.y));
  } catch (err) {
    return err as Error;
  }
  throw new Error('unreachable');
}

interface Case {
  name: string;
  error: () => unknown;
  code: ErrorCode;
  /** What the message must say (names the problem). */
  says: RegExp;
  /** Text of the error that must not reach the client. */
  hides?: string;
}

const CASES: Case[] = [
  ...ENGINE_CODES.map((code) => ({
    name: `EngineError ${code}`,
    error: () => new EngineError(code, `column 'cpu' is wrong (${code})`),
    code,
    says: new RegExp(`column 'cpu' is wrong \\(${code}\\)`),
  })),
  {
    name: 'RegistryError NOT_FOUND',
    error: () => new RegistryError('NOT_FOUND', "no detector 'cpu'"),
    code: 'NOT_FOUND',
    says: /no detector 'cpu'/,
  },
  {
    name: 'RegistryError CONFLICT',
    error: () => new RegistryError('CONFLICT', "detector 'cpu' exists"),
    code: 'CONFLICT',
    says: /exists/,
  },
  {
    name: 'RegistryError INVALID with a megabyte of input in its message',
    error: () => new RegistryError('INVALID', `name '${HUGE}' gives an empty id`),
    code: 'INVALID',
    says: /^name 'x{100,}.*more characters/,
  },
  {
    name: 'CsvError',
    error: () => new CsvError('upload.csv', `'${HUGE}' is not a number`, 3, 'cpu'),
    code: 'CSV_INVALID',
    says: /^upload\.csv, line 3, column 'cpu': 'x+… \(/,
  },
  {
    name: 'InfluxQueryError',
    error: () => new InfluxQueryError("tag filter 'host' has no values"),
    code: 'INFLUX_QUERY_INVALID',
    says: /tag filter 'host'/,
  },
  {
    name: 'InfluxQueryError SOURCE_NOT_ALLOWED',
    error: () =>
      new InfluxQueryError('database "secret" is not one this service may read', 'SOURCE_NOT_ALLOWED'),
    code: 'SOURCE_NOT_ALLOWED',
    says: /database "secret"/,
  },
  {
    name: 'LineProtocolError (a tag value with a line break and a megabyte)',
    error: lineProtocolError,
    code: 'LINE_PROTOCOL_INVALID',
    says: /tag value "a\\nx+"… \(.* more characters\) contains a line break/,
  },
  {
    name: "InfluxRequestError: InfluxDB's parser text stays in the log",
    error: () =>
      new InfluxRequestError(
        'InfluxDB: error parsing query: found 1677, expected identifier at line 1, char 40',
        400,
      ),
    code: 'INFLUX_REFUSED',
    says: /InfluxDB refused the query \(HTTP 400\).*log/,
    hides: 'error parsing query',
  },
  {
    name: 'InfluxUnavailableError (unreachable)',
    error: () => new InfluxUnavailableError('InfluxDB at http://10.0.0.7:8086 is unreachable (ECONNREFUSED)'),
    code: 'INFLUX_UNAVAILABLE',
    says: /InfluxDB is unreachable or failing; retry later/,
    hides: '10.0.0.7',
  },
  {
    name: 'InfluxUnavailableError (timeout)',
    error: () =>
      new InfluxUnavailableError(
        'InfluxDB at http://10.0.0.7:8086 did not answer within 30000 ms',
        'INFLUX_TIMEOUT',
      ),
    code: 'INFLUX_TIMEOUT',
    says: /did not answer in time/,
    hides: '10.0.0.7',
  },
  {
    name: 'InfluxUnavailableError (every query slot taken)',
    error: () =>
      new InfluxUnavailableError('8 InfluxDB queries were already running for 30000 ms', 'INFLUX_BUSY'),
    code: 'INFLUX_BUSY',
    says: /too many InfluxDB queries/,
  },
  {
    name: 'ReceiverError permanent',
    error: () => new ReceiverError('alertmanager refused the alerts (400)', true),
    code: 'RECEIVER_REFUSED',
    says: /refused the alerts/,
  },
  {
    name: 'ReceiverError transient',
    error: () => new ReceiverError('alertmanager is unreachable', false),
    code: 'RECEIVER_UNAVAILABLE',
    says: /unreachable/,
  },
  {
    name: 'ConfigError (its value may be a secret)',
    error: () => new ConfigError("ISOSCOPE_INFLUX_URL must be an http:// or https:// URL, got 'hunter2'"),
    code: 'CONFIG_INVALID',
    says: /configuration is invalid/,
    hides: 'hunter2',
  },
  {
    name: 'JobCancelled',
    error: () => new JobCancelled('the job was cancelled'),
    code: 'JOB_CANCELLED',
    says: /cancelled/,
  },
  {
    name: 'SqliteError SQLITE_BUSY',
    error: sqliteBusy,
    code: 'REGISTRY_BUSY',
    says: /registry is busy/,
    hides: 'database is locked',
  },
  {
    name: 'ServiceError BAD_RANGE',
    error: () => new ServiceError('BAD_RANGE', 'querystring/to must be after querystring/from'),
    code: 'BAD_RANGE',
    says: /querystring\/to/,
  },
  {
    name: 'ServiceError FEATURE_MISMATCH',
    error: () => new ServiceError('FEATURE_MISMATCH', 'retrain: fields mem changed'),
    code: 'FEATURE_MISMATCH',
    says: /retrain/,
  },
  {
    name: 'ServiceError OVERLOADED',
    error: () => new ServiceError('OVERLOADED', 'the service is overloaded'),
    code: 'OVERLOADED',
    says: /overloaded/,
  },
  {
    name: 'UnprocessableError',
    error: () => new UnprocessableError("measurement 'cpu' has no data"),
    code: 'NO_DATA',
    says: /has no data/,
  },
  {
    name: 'a plain Error naming a file of the service',
    error: () => new Error(`ENOENT: no such file or directory, open '${__filename}'`),
    code: 'INTERNAL',
    says: /the service failed; the log has the details/,
    hides: 'ENOENT',
  },
  {
    name: 'a TypeError (a bug)',
    error: typeError,
    code: 'INTERNAL',
    says: /the service failed/,
    hides: 'undefined',
  },
  {
    name: 'a thrown string',
    error: () => 'oops',
    code: 'INTERNAL',
    says: /the service failed/,
    hides: 'oops',
  },
];

describe('the error taxonomy: one status per code, in one place', () => {
  let app: FastifyInstance;
  const logged: string[] = [];
  beforeAll(async () => {
    app = Fastify({
      logger: { level: 'warn', stream: { write: (line: string) => void logged.push(line) } },
      bodyLimit: 1024,
    });
    await app.register(errors);
    app.addSchema(ErrorResponse);
    app.get<{ Params: { i: string } }>(
      '/throw/:i',
      { schema: { response: { 200: Type.Object({}), ...ErrorResponses, 500: ErrorResponse } } },
      async (request) => {
        throw CASES[Number(request.params.i)]!.error();
      },
    );
    app.post(
      '/validated',
      {
        schema: {
          querystring: Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: 60 }) }),
          body: Type.Object({ name: Type.String() }),
          response: { 200: Type.Object({}), ...ErrorResponses },
        },
      },
      async () => ({}),
    );
    await app.ready();
  });
  afterAll(() => app.close());

  const clean = (body: string): void => {
    expect(body).not.toMatch(/\n\s+at |\bat [\w.<>]+ \(/); // a stack frame
    expect(body).not.toContain(__dirname);
    expect(body).not.toMatch(/node_modules|\.ts:\d+|\.js:\d+/);
  };

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const res = await app.inject({ method: 'GET', url: `/throw/${i}` });
    const body = res.json<{ statusCode: number; error: string; code: string; message: string }>();
    expect({ status: res.statusCode, code: body.code }).toEqual({
      status: ERROR_STATUS[c.code],
      code: c.code,
    });
    expect(body.statusCode).toBe(res.statusCode);
    expect(body.error).toMatch(/^[A-Z][A-Za-z ]+$/);
    expect(body.message).toMatch(c.says);
    expect(body.message.length).toBeLessThan(600); // an excerpt, never the whole input
    expect(body.message).not.toContain('\n');
    if (c.hides) expect(res.body).not.toContain(c.hides);
    clean(res.body);
    if (res.statusCode === 503) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    else expect(res.headers['retry-after']).toBeUndefined();
  });

  it('every code of the table is exercised here, or by the route that raises it (auth, rate limit)', () => {
    const covered = new Set<string>(CASES.map((c) => c.code));
    const elsewhere = [
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      'BAD_REQUEST',
      'PAYLOAD_TOO_LARGE',
      'URI_TOO_LONG',
      'UNSUPPORTED_MEDIA_TYPE',
    ];
    const missing = Object.keys(ERROR_STATUS).filter(
      (code) => !covered.has(code) && !elsewhere.includes(code),
    );
    expect(missing).toEqual([]);
  });

  it('logs what the client is not shown: the unexpected error with its stack, InfluxDB text as a warning', () => {
    const text = logged.join('');
    expect(text).toContain('ENOENT');
    expect(text).toContain('error parsing query');
    expect(text).toContain('"stack"');
  });

  it.each([
    [
      'a number out of range',
      '/validated?minutes=1e309',
      '{"name":"a"}',
      'application/json',
      400,
      'BAD_REQUEST',
      /minutes/,
    ],
    [
      'Infinity',
      '/validated?minutes=Infinity',
      '{"name":"a"}',
      'application/json',
      400,
      'BAD_REQUEST',
      /minutes/,
    ],
    ['a missing field', '/validated?minutes=5', '{}', 'application/json', 400, 'BAD_REQUEST', /name/],
    ['malformed JSON', '/validated?minutes=5', '{"name":', 'application/json', 400, 'BAD_REQUEST', /JSON/],
    [
      'a body over the limit',
      '/validated?minutes=5',
      `{"name":"${'y'.repeat(2000)}"}`,
      'application/json',
      413,
      'PAYLOAD_TOO_LARGE',
      /too large/i,
    ],
    [
      'an unknown media type',
      '/validated?minutes=5',
      'name=a',
      'application/x-unknown',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /content-type/i,
    ],
  ] as const)(
    'fastify refuses %s with its status and our code',
    async (_n, url, payload, type, status, code, says) => {
      const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });
      expect({ status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({ status, code });
      expect(res.json<{ message: string }>().message).toMatch(says);
      clean(res.body);
    },
  );

  it('an unknown route is 404 NOT_FOUND naming it, the path cut to an excerpt', async () => {
    const res = await app.inject({ method: 'GET', url: `/nowhere/${'z'.repeat(5000)}` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^no route GET \/nowhere\/z+… \(/),
    });
  });
});
