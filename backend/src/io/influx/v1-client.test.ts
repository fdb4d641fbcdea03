import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxQueryError } from './influxql.js';
import { InfluxRequestError, InfluxUnavailableError, InfluxV1Client } from './v1-client.js';

/**
 * The client's errors against a fake InfluxDB that misbehaves on purpose (the real one is in
 * test/influx): a timeout anywhere in the answer is INFLUX_TIMEOUT, an answer that is not
 * InfluxDB's JSON is INFLUX_UNAVAILABLE, never a plain error the service would turn into a 500.
 */
describe('InfluxV1Client errors (a misbehaving fake server)', () => {
  let server: Server;
  let url: string;
  let behave: (res: ServerResponse) => void = () => undefined;
  const open = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((_req, res) => {
      open.add(res);
      behave(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const res of open) res.destroy();
    open.clear();
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const client = (): InfluxV1Client => new InfluxV1Client({ url, database: 'telegraf', timeoutMs: 300 });
  const failure = async (p: Promise<unknown>): Promise<Error> => {
    try {
      await p;
    } catch (err) {
      return err as Error;
    }
    throw new Error('resolved');
  };

  it('no answer at all: INFLUX_TIMEOUT', async () => {
    behave = () => undefined;
    const err = await failure(client().query('SELECT 1'));
    expect(err).toBeInstanceOf(InfluxUnavailableError);
    expect((err as InfluxUnavailableError).code).toBe('INFLUX_TIMEOUT');
    expect(err.message).toMatch(/did not answer within 300 ms/);
  });

  it('headers, then the body stalls: INFLUX_TIMEOUT too (it was a plain error, a 500)', async () => {
    behave = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"results":[');
    };
    const err = await failure(client().query('SELECT 1'));
    expect(err).toBeInstanceOf(InfluxUnavailableError);
    expect((err as InfluxUnavailableError).code).toBe('INFLUX_TIMEOUT');
  });

  it("a proxy's HTML page instead of InfluxDB's JSON: INFLUX_UNAVAILABLE quoting an excerpt", async () => {
    behave = (res) => res.end(`<html>${'gateway '.repeat(10_000)}</html>`);
    const err = await failure(client().query('SELECT 1'));
    expect(err).toBeInstanceOf(InfluxUnavailableError);
    expect((err as InfluxUnavailableError).code).toBe('INFLUX_UNAVAILABLE');
    expect(err.message.length).toBeLessThan(400);
  });

  it('a 5xx: INFLUX_UNAVAILABLE; a 4xx: InfluxRequestError with its status', async () => {
    behave = (res) => {
      res.statusCode = 503;
      res.end('overloaded');
    };
    expect(await failure(client().query('SELECT 1'))).toBeInstanceOf(InfluxUnavailableError);
    behave = (res) => {
      res.statusCode = 401;
      res.end('{"error":"authorization failed"}');
    };
    const refused = await failure(client().write(['m v=1 1']));
    expect(refused).toBeInstanceOf(InfluxRequestError);
    expect((refused as InfluxRequestError).status).toBe(401);
  });

  it('bounds queries in flight: the rest wait their turn and all complete', async () => {
    let inFlight = 0;
    let most = 0;
    const held: ServerResponse[] = [];
    behave = (res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(res);
    };
    const c = new InfluxV1Client({ url, database: 'telegraf', maxConcurrentQueries: 2, timeoutMs: 10_000 });
    const all = Promise.all(Array.from({ length: 5 }, () => c.query('SELECT 1')));
    // Answer whatever is held until all five were served, one at a time.
    for (let served = 0; served < 5; served++) {
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      expect(c.queryLoad.active).toBeLessThanOrEqual(2);
      inFlight--;
      held.shift()!.end('{"results":[{"statement_id":0}]}');
    }
    await all;
    expect(most).toBe(2);
    expect(c.queryLoad).toEqual({ active: 0, waiting: 0 });
  });

  it('a query that waited too long for a slot fails as INFLUX_BUSY, and the slot is not lost', async () => {
    const held: ServerResponse[] = [];
    behave = (res) => held.push(res);
    const c = new InfluxV1Client({
      url,
      database: 'telegraf',
      maxConcurrentQueries: 1,
      timeoutMs: 10_000,
      queueTimeoutMs: 100,
    });
    const first = c.query('SELECT 1');
    const err = await failure(c.query('SELECT 2'));
    expect((err as InfluxUnavailableError).code).toBe('INFLUX_BUSY');
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    held.shift()!.end('{"results":[{"statement_id":0}]}');
    await first;
    behave = (res) => res.end('{"results":[{"statement_id":0}]}');
    await c.query('SELECT 3');
    expect(c.queryLoad).toEqual({ active: 0, waiting: 0 });
  });

  it('a database outside the allow-list is refused before anything is sent', async () => {
    let requests = 0;
    behave = (res) => {
      requests++;
      res.end('{"results":[{"statement_id":0}]}');
    };
    const c = new InfluxV1Client({ url, database: 'telegraf', allowedDatabases: ['prod'] });
    const err = await failure(c.query('SELECT 1', { database: 'secrets' }));
    expect(err).toBeInstanceOf(InfluxQueryError);
    expect((err as InfluxQueryError).code).toBe('SOURCE_NOT_ALLOWED');
    expect(requests).toBe(0);
    await c.query('SELECT 1', { database: 'prod' });
    await c.query('SELECT 1');
    expect(requests).toBe(2);
    const any = new InfluxV1Client({ url, database: 'telegraf', allowedDatabases: ['*'] });
    await any.query('SELECT 1', { database: 'anything' });
    expect(requests).toBe(3);
  });
});
