import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { as, testApp } from '../support/service.js';

/**
 * Hostile and clumsy requests through the real routes, refused before anything reaches InfluxDB:
 * times and ranges that are not finite, not ordered, outside the years InfluxDB can store, or longer
 * than the documented limits, answer 400 BAD_RANGE or BAD_REQUEST naming the parameter. InfluxDB is
 * not running here (a closed port), so a request that did reach it answers 503 with Retry-After.
 */
const NOW = Date.UTC(2024, 0, 10);
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

describe('hostile ranges and numbers (app.inject, InfluxDB unreachable)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'telegraf', {}, () => NOW);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'cpu', spec: { source: { preset: 'cpu' } } },
    });
    expect(created.statusCode).toBe(201);
  });
  afterAll(() => app.close());

  const call = async (
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
  ): Promise<{ status: number; code: string; message: string; retryAfter?: string }> => {
    const res = await app.inject({
      method,
      url,
      headers: as('editor'),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    const body = res.json<{ code: string; message: string }>();
    expect(res.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    return {
      status: res.statusCode,
      code: body.code,
      message: body.message,
      ...(res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}),
    };
  };
  const range = (from: string, to: string): string =>
    `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

  it.each([
    [
      'from equal to to',
      range(iso(NOW - DAY), iso(NOW - DAY)),
      /querystring\/to must be after querystring\/from/,
    ],
    [
      'from after to, in year 9999',
      range('9999-01-01T00:00:00Z', iso(NOW)),
      /querystring\/from 9999-01-01T00:00:00\.000Z is outside/,
    ],
    [
      'from in year 0001',
      range('0001-01-01T00:00:00Z', iso(NOW)),
      /querystring\/from 0001-01-01T00:00:00\.000Z is outside/,
    ],
    ['a span over 31 days', range(iso(NOW - 40 * DAY), iso(NOW)), /at most 31 days/],
  ])('GET /validation with %s: 400 BAD_RANGE naming the parameter', async (_n, query, says) => {
    const r = await call('GET', `/api/v1/detectors/cpu/validation?${query}`);
    expect(r).toMatchObject({ status: 400, code: 'BAD_RANGE' });
    expect(r.message).toMatch(says);
  });

  it.each(['1e309', 'Infinity', '-Infinity', 'NaN', '1e3000', '0', '10081', '1.5', ''])(
    '/preview?minutes=%s: 400 naming minutes',
    async (minutes) => {
      const get = await call('GET', `/api/v1/detectors/cpu/preview?minutes=${minutes}`);
      expect(get).toMatchObject({
        status: 400,
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/minutes/),
      });
      const post = await call('POST', `/api/v1/detectors/preview?minutes=${minutes}`, {
        spec: { source: { preset: 'cpu' } },
      });
      expect(post).toMatchObject({
        status: 400,
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/minutes/),
      });
    },
  );

  it('backfill: years 1 to 9999 and spans over 366 days are refused; the limit is in the message', async () => {
    const wide = await call('POST', '/api/v1/detectors/cpu/backfill', {
      from: '0001-01-01T00:00:00Z',
      to: '9999-12-31T00:00:00Z',
    });
    expect(wide).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
      message: expect.stringMatching(/body\/from 0001/),
    });
    const long = await call('POST', '/api/v1/detectors/cpu/backfill', {
      from: iso(NOW - 400 * DAY),
      to: iso(NOW),
    });
    expect(long).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
      message: expect.stringMatching(/spans 400\.0 days; at most 366 days/),
    });
  });

  it('anomalies, Grafana queries and annotations: ordered ranges within 366 days', async () => {
    expect(
      await call('GET', `/api/v1/detectors/cpu/anomalies?${range(iso(NOW), iso(NOW - DAY))}`),
    ).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
    });
    const target = { refId: 'A', detector: 'cpu', return: 'score' };
    const same = await call('POST', '/api/v1/grafana/query', {
      range: { from: iso(NOW), to: iso(NOW) },
      targets: [target],
    });
    expect(same).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
      message: expect.stringMatching(/body\/range\/to must be after body\/range\/from/),
    });
    const years = await call('POST', '/api/v1/grafana/query', {
      range: { from: iso(NOW - 800 * DAY), to: iso(NOW) },
      targets: [target],
    });
    expect(years).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
      message: expect.stringMatching(/at most 366 days/),
    });
    const reversed = await call('POST', '/api/v1/grafana/annotations', {
      range: { from: iso(NOW), to: iso(NOW - DAY) },
    });
    expect(reversed).toMatchObject({ status: 400, code: 'BAD_RANGE' });
  });

  it('explain and train: a time in year 9999 or 0001 is refused naming it', async () => {
    expect(await call('GET', '/api/v1/detectors/cpu/explain?time=9999-01-01T00:00:00Z')).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
      message: expect.stringMatching(/querystring\/time 9999/),
    });
    expect(await call('POST', '/api/v1/detectors/cpu/train', { to: '0001-01-01T00:00:00Z' })).toMatchObject({
      status: 400,
      code: 'BAD_RANGE',
      message: expect.stringMatching(/body\/to 0001/),
    });
  });

  it('a path parameter over 100 characters: 414 URI_TOO_LONG in the same shape, the path cut short', async () => {
    const r = await call('GET', `/api/v1/detectors/${'x'.repeat(5000)}`);
    expect(r).toMatchObject({ status: 414, code: 'URI_TOO_LONG' });
    expect(r.message.length).toBeLessThan(600);
  });

  it('a valid request that needs InfluxDB while it is down: 503 INFLUX_UNAVAILABLE with Retry-After, no address', async () => {
    const r = await call('GET', `/api/v1/detectors/cpu/validation?${range(iso(NOW - DAY), iso(NOW))}`);
    expect(r).toEqual({
      status: 503,
      code: 'INFLUX_UNAVAILABLE',
      message: 'InfluxDB is unreachable or failing; retry later',
      retryAfter: '10',
    });
  });
});
