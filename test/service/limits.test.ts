import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { EventLoopLag } from '../../backend/src/service/plugins/overload.js';
import { as, testApp } from '../support/service.js';

/**
 * The rate limit (per token, probes exempt) and the overload answer (503 at once while the event
 * loop lags, probes exempt). InfluxDB is not needed: a closed port stands for it.
 */
describe('rate limit per token; /healthz, /readyz, /metrics never limited', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'telegraf', { rateLimit: 3 });
  });
  afterAll(() => app.close());

  it('a token over its budget gets 429 RATE_LIMITED with Retry-After; another token is not affected', async () => {
    const get = (headers: Record<string, string>) => app.inject({ url: '/api/v1/detectors', headers });
    for (let i = 0; i < 3; i++) expect((await get(as('viewer'))).statusCode).toBe(200);
    const over = await get(as('viewer'));
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(as('editor'))).statusCode).toBe(200);
  });

  it('made-up tokens share their address’s budget instead of getting a fresh one each', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (await app.inject({ url: '/api/v1/detectors', headers: { authorization: `Bearer made-up-${i}` } }))
          .statusCode,
      );
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });

  it('probes and metrics answer however often they are asked', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      expect((await app.inject('/metrics')).statusCode).toBe(200);
      expect((await app.inject('/readyz')).statusCode).toBe(503); // InfluxDB is down, not a limit
    }
  });
});

describe('overload: 503 OVERLOADED at once while the event loop lags', () => {
  let app: FastifyInstance;
  let lag = 0;
  beforeAll(async () => {
    const config = { maxEventLoopDelayMs: 500 };
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'telegraf', config, undefined, () => lag);
  });
  afterAll(() => app.close());

  it('refuses API requests with Retry-After while lagging, serves them again after; probes always answer', async () => {
    lag = 5000;
    const refused = await app.inject({ url: '/api/v1/detectors', headers: as('viewer') });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({
      code: 'OVERLOADED',
      message: expect.stringMatching(/5000 ms behind, limit 500 ms/),
    });
    expect(refused.headers['retry-after']).toBe('2');
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).json()).toMatchObject({ status: 'not ready' }); // its own answer
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^isoscope_http_overloaded_total 1$/m);
    lag = 10;
    expect((await app.inject({ url: '/api/v1/detectors', headers: as('viewer') })).statusCode).toBe(200);
  });

  it('EventLoopLag sees a stall of the loop', async () => {
    const monitor = new EventLoopLag(100);
    try {
      await new Promise((r) => setTimeout(r, 150));
      const until = performance.now() + 600;
      while (performance.now() < until) {
        // hold the loop, as a synchronous training would
      }
      // The overdue sample runs before this timer: it has seen the whole stall.
      await new Promise((r) => setTimeout(r, 0));
      expect(monitor.lagMs()).toBeGreaterThanOrEqual(500);
    } finally {
      monitor.stop();
    }
  });
});
