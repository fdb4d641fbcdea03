import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { toLine } from '../../backend/src/io/influx/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

/**
 * Hostile input, as a property: every operation of the OpenAPI document gets generated malformed
 * path parameters, query strings, bodies and headers (wrong types, huge strings, deep nesting,
 * unicode, NaN-like numbers, years 0001 and 9999) with an admin token, against a real influxd.
 * No answer may be a 500; a 503 may only say a dependency is unavailable; every error body is our
 * one-line shape with a code and no stack trace.
 */
const NOW = Date.UTC(2024, 0, 10);
const RUNS = 25;

interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: 'path' | 'query' }>;
  bodyKeys: string[] | undefined;
}

const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e309',
    '-1e309',
    '1e-400',
    '0x10',
    '-0',
    '9007199254740993',
    'null',
    'undefined',
    'true',
    '[]',
    '{}',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-02-30T00:00:00Z',
    '2016-12-31T23:59:60Z',
    '../../etc/passwd',
    '%00',
    '\u0000',
    "'; DROP MEASUREMENT cpu; --",
    '" OR 1=1 --',
    '\\',
    '\n\r',
    '🦄'.repeat(50),
    '\u202e\u0301\ufeff',
    'cpu',
    '2024-01-09T00:00:00Z',
    '2024-01-10T00:00:00Z',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => 'x'.repeat(n)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 5 }),
  fc.integer({ min: 50, max: 2000 }).map((depth) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  }),
  fc.integer({ min: 50, max: 2000 }).map((depth) => {
    let v: unknown = [];
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
  fc.jsonValue({ maxDepth: 4 }),
);

function operations(app: FastifyInstance): Operation[] {
  const doc = (
    app as unknown as { swagger: () => { paths: Record<string, Record<string, unknown>> } }
  ).swagger();
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const op = raw as {
        parameters?: Array<{ name: string; in: string }>;
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
      };
      const params = (op.parameters ?? [])
        .filter((p) => p.in === 'path' || p.in === 'query')
        .map((p) => ({ name: p.name, in: p.in as 'path' | 'query' }));
      const schema = op.requestBody?.content?.['application/json']?.schema;
      out.push({
        method: method.toUpperCase(),
        path,
        params,
        bodyKeys: op.requestBody ? Object.keys(schema?.properties ?? {}) : undefined,
      });
    }
  }
  return out;
}

describe('hostile requests to every operation of the OpenAPI document (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  const seen = new Map<number, number>();

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    await client.write(
      Array.from({ length: 60 }, (_, i) =>
        toLine({
          measurement: 'cpu',
          tags: { host: 'web-1', cpu: 'cpu-total' },
          fields: { usage_user: 20 + (i % 7), usage_system: 5, usage_iowait: 1, usage_idle: 70 },
          timeMs: NOW - (60 - i) * 60_000,
        }),
      ),
    );
    app = await testApp(influx.server.url, client.database, { rateLimit: 0 }, () => NOW);
    await ensureDetector();
  }, 60_000);

  /** The detector the requests name (again, when a generated DELETE removed it). */
  const ensureDetector = async (): Promise<void> => {
    await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'cpu', spec: { source: { preset: 'cpu' } } },
    });
  };

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  it('finds the operations to probe', () => {
    expect(operations(app).length).toBeGreaterThan(25);
  });

  it('never answers 500, and a 503 only for an unavailable dependency; error bodies are clean', async () => {
    for (const op of operations(app)) {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            // Mostly a detector and version that exist, so requests get past the 404s.
            path: fc.array(
              fc.oneof(
                { weight: 3, arbitrary: fc.constantFrom('cpu', '1') },
                { weight: 1, arbitrary: hostileString },
              ),
              { minLength: 4, maxLength: 4 },
            ),
            query: fc.dictionary(
              fc.constantFrom(...op.params.filter((p) => p.in === 'query').map((p) => p.name), 'x'),
              hostileValue,
              {
                maxKeys: 4,
              },
            ),
            body: fc.oneof(
              fc.dictionary(fc.constantFrom(...(op.bodyKeys ?? []), 'extra'), hostileValue, { maxKeys: 4 }),
              hostileValue,
              fc.constantFrom('{"a":', 'not json', '[]'.repeat(10_000)),
            ),
            contentType: fc.oneof(
              { weight: 4, arbitrary: fc.constant('application/json') },
              {
                weight: 1,
                arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', undefined),
              },
            ),
          }),
          async ({ path, query, body, contentType }) => {
            await ensureDetector();
            let i = 0;
            const url =
              op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(path[i++ % path.length]!)) +
              (Object.keys(query).length
                ? `?${Object.entries(query)
                    .map(
                      ([k, v]) =>
                        `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`,
                    )
                    .join('&')}`
                : '');
            const payload =
              op.method === 'GET' || op.method === 'DELETE'
                ? undefined
                : typeof body === 'string'
                  ? body
                  : JSON.stringify(body);
            const res = await app.inject({
              method: op.method as 'GET',
              url,
              headers: {
                ...as('admin'),
                ...(contentType && payload !== undefined ? { 'content-type': contentType } : {}),
              },
              ...(payload !== undefined ? { payload } : {}),
            });
            seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
            const what = `${op.method} ${url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
            expect([what, res.statusCode === 500]).toEqual([what, false]);
            if (res.statusCode >= 400 && !url.startsWith('/docs')) {
              const b = res.json<{ code?: string; message?: string }>();
              expect([what, typeof b.code, typeof b.message]).toEqual([what, 'string', 'string']);
              expect([what, b.message!.length < 600]).toEqual([what, true]);
              expect(res.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
              if (res.statusCode >= 500)
                expect([
                  what,
                  ['INFLUX_UNAVAILABLE', 'INFLUX_TIMEOUT', 'REGISTRY_BUSY'].includes(b.code!),
                ]).toEqual([what, true]);
            }
          },
        ),
        { numRuns: RUNS, seed: 22 },
      );
    }
    // The generator reaches past validation too, not only 400s.
    expect([...seen.keys()].some((s) => s < 300 || s === 404 || s === 422)).toBe(true);
  }, 600_000);
});
