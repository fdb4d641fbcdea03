import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { EventLoopLag } from '../../backend/src/service/plugins/overload.js';
import { as, testApp } from '../support/service.js';

/**
 * The rate limit (per token, probes exempt), the overload answer (503 at once while the event
 * loop lags or InfluxDB's query pool is saturated, probes exempt) and abandoned queries (cancelled
 * when their client leaves). A closed port stands for InfluxDB, or a stand-in that holds queries.
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

  it('EventLoopLag: an overload starts with the loop stalled window after window, not one stall alone, and goes on while it stalls', async () => {
    const monitor = new EventLoopLag(100);
    const stall = async (): Promise<void> => {
      const until = performance.now() + 600;
      while (performance.now() < until) {
        // hold the loop, as a service behind on its requests does
      }
      // The overdue sample runs before this timer: it has seen the whole stall.
      await new Promise((r) => setTimeout(r, 0));
    };
    const quiet = (): Promise<unknown> => new Promise((r) => setTimeout(r, 250));
    try {
      await quiet();
      await stall();
      // One stall (a registry transaction) is over: nothing to refuse for.
      expect(monitor.lagMs(500)).toBeLessThan(500);
      await stall();
      expect(monitor.lagMs(500)).toBeGreaterThanOrEqual(500);
      // A quiet window: answered again. Within the overload one stall is enough to refuse again.
      await quiet();
      expect(monitor.lagMs(500)).toBeLessThan(500);
      await stall();
      expect(monitor.lagMs(500)).toBeGreaterThanOrEqual(500);
    } finally {
      monitor.stop();
    }
  });
});

/**
 * A stand-in for InfluxDB that holds every query open until told to answer, and records the ones
 * whose connection closed first: a real influxd answers these reads in milliseconds, so it cannot
 * show a query still running when its client leaves, nor a pool kept full on purpose.
 */
async function holdingInflux(): Promise<{
  url: string;
  held: ServerResponse[];
  abandoned: () => number;
  close: () => Promise<void>;
}> {
  const held: ServerResponse[] = [];
  let abandoned = 0;
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/query')) {
      res.writeHead(204, { 'x-influxdb-version': 'stand-in' }).end();
      return;
    }
    req.resume();
    held.push(res);
    res.once('close', () => {
      if (!res.writableFinished) abandoned++;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    abandoned: () => abandoned,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const until = async (ok: () => boolean): Promise<void> => {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
};

const RANGE = { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' };
const SCORE_QUERY = {
  range: RANGE,
  targets: [{ refId: 'A', detector: 'cpu', entity: '*', return: 'score' }],
};

describe('abandoned queries and a saturated query pool (InfluxDB stand-in that holds queries)', () => {
  let app: FastifyInstance;
  let influx: Awaited<ReturnType<typeof holdingInflux>>;
  let base: string;
  beforeAll(async () => {
    influx = await holdingInflux();
    app = await testApp(
      influx.url,
      'telegraf',
      { maxEventLoopDelayMs: 60_000, influxMaxQueries: 1 },
      undefined,
      () => 0,
    );
    await app.registry.createDetector({ id: 'cpu', name: 'cpu', spec: { source: { preset: 'cpu' } } }, 0);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await influx.close();
  });

  const post = (signal: AbortSignal): Promise<Response> =>
    fetch(`${base}/api/v1/grafana/query`, {
      method: 'POST',
      headers: { ...as('viewer'), 'content-type': 'application/json' },
      body: JSON.stringify(SCORE_QUERY),
      signal,
    });

  it.each([
    ['POST /grafana/query', (signal: AbortSignal) => post(signal)],
    [
      'GET /anomalies',
      (signal: AbortSignal) =>
        fetch(`${base}/api/v1/detectors/cpu/anomalies?from=${RANGE.from}&to=${RANGE.to}`, {
          headers: as('viewer'),
          signal,
        }),
    ],
  ])('%s: a client that goes away cancels its InfluxDB query, and frees the slot', async (_name, send) => {
    const before = influx.abandoned();
    const held = influx.held.length;
    const client = new AbortController();
    const pending = send(client.signal).catch((err: unknown) => err);
    await until(() => influx.held.length === held + 1);
    client.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    await until(() => influx.abandoned() === before + 1);
    await until(() => app.influx.queryLoad.active === 0);
    expect(app.influx.queryLoad).toEqual({ active: 0, waiting: 0 });
  });

  it('with the pool full and 4 per slot waiting, API requests are refused 503 at once; probes answer', async () => {
    const clients = Array.from({ length: 5 }, () => new AbortController());
    const pending = clients.map((c) => post(c.signal).catch((err: Error) => err));
    await until(() => app.influx.queryLoad.active === 1 && app.influx.queryLoad.waiting === 4);
    const refused = await app.inject({
      method: 'POST',
      url: '/api/v1/grafana/query',
      headers: as('viewer'),
      payload: SCORE_QUERY,
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json()).toMatchObject({
      code: 'OVERLOADED',
      message: expect.stringMatching(/4 InfluxDB queries waiting for 1 slots/),
    });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    // The queue drains: the held query is answered, the waiting ones cancelled by their clients.
    influx.held.at(-1)!.end('{"results":[{"statement_id":0}]}');
    for (const c of clients) c.abort();
    await Promise.all(pending);
    await until(() => app.influx.queryLoad.active === 0 && app.influx.queryLoad.waiting === 0);
    // …and serves again: the next query reaches InfluxDB and its (empty) answer comes back.
    let served = false;
    const next = app
      .inject({ method: 'POST', url: '/api/v1/grafana/query', headers: as('viewer'), payload: SCORE_QUERY })
      .finally(() => (served = true));
    while (!served) {
      for (const res of influx.held)
        if (!res.writableEnded && !res.destroyed) res.end('{"results":[{"statement_id":0}]}');
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await next).json()).toEqual({ frames: [] });
  });
});
