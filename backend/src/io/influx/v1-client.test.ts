import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  let behave: (res: ServerResponse, req: IncomingMessage) => void = () => undefined;
  const open = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      open.add(res);
      behave(res, req);
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

  /** A fake InfluxDB that holds every query open and records which ones their client abandoned. */
  const holding = (): { held: ServerResponse[]; aborted: () => number } => {
    const held: ServerResponse[] = [];
    let aborted = 0;
    behave = (res, req) => {
      held.push(res);
      // The socket closing before the answer was sent is what InfluxDB sees of a cancelled query.
      res.once('close', () => {
        if (!res.writableFinished) aborted++;
      });
      req.resume();
    };
    return { held, aborted: () => aborted };
  };
  const until = async (ok: () => boolean): Promise<void> => {
    while (!ok()) await new Promise((r) => setTimeout(r, 5));
  };

  it('a cancelled query aborts its request to InfluxDB, rejects with the reason, and frees its slot', async () => {
    const server = holding();
    const c = new InfluxV1Client({ url, database: 'telegraf', maxConcurrentQueries: 1, timeoutMs: 10_000 });
    const controller = new AbortController();
    const pending = failure(c.query('SELECT 1', { signal: controller.signal }));
    await until(() => server.held.length === 1);
    const reason = new Error('the client went away');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await until(() => server.aborted() === 1);
    expect(c.queryLoad).toEqual({ active: 0, waiting: 0 });
    behave = (res) => res.end('{"results":[{"statement_id":0}]}');
    await c.query('SELECT 2');
  });

  it('a query cancelled while it waits for a slot leaves the line and sends nothing', async () => {
    const server = holding();
    const c = new InfluxV1Client({ url, database: 'telegraf', maxConcurrentQueries: 1, timeoutMs: 10_000 });
    const first = c.query('SELECT 1');
    await until(() => server.held.length === 1);
    const controller = new AbortController();
    const waiting = failure(c.query('SELECT 2', { signal: controller.signal }));
    expect(c.queryLoad).toEqual({ active: 1, waiting: 1 });
    controller.abort(new Error('gone'));
    expect((await waiting).message).toBe('gone');
    expect(c.queryLoad).toEqual({ active: 1, waiting: 0 });
    server.held[0]!.end('{"results":[{"statement_id":0}]}');
    await first;
    expect(server.held).toHaveLength(1);
    expect(c.queryLoad).toEqual({ active: 0, waiting: 0 });
  });

  it('each() hands over every chunk as it arrives, before the answer is complete', async () => {
    const server = holding();
    const c = new InfluxV1Client({ url, database: 'telegraf', timeoutMs: 10_000 });
    const seen: Array<{ id: number; tags: unknown; rows: number }> = [];
    const done = c.each('SELECT score FROM m GROUP BY entity', (id, s) =>
      seen.push({ id, tags: s.tags, rows: s.values.length }),
    );
    await until(() => server.held.length === 1);
    const res = server.held[0]!;
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = (entity: string, rows: number, partial: boolean): string =>
      `${JSON.stringify({
        results: [
          {
            statement_id: 0,
            series: [
              {
                name: 'm',
                tags: { entity },
                columns: ['time', 'score'],
                values: Array.from({ length: rows }, (_, i) => [i, 0.5]),
                ...(partial ? { partial: true } : {}),
              },
            ],
            ...(partial ? { partial: true } : {}),
          },
        ],
      })}\n`;
    // The first line arrives in two pieces (a TCP segment can end anywhere, even inside a character).
    const first = Buffer.from(chunk('wéb-1', 3, true));
    const cut = first.indexOf(Buffer.from('é')) + 1;
    res.write(first.subarray(0, cut));
    res.write(first.subarray(cut));
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual({ id: 0, tags: { entity: 'wéb-1' }, rows: 3 });
    res.write(chunk('wéb-1', 2, false));
    res.end(chunk('web-2', 4, false));
    await done;
    expect(seen.map((s) => s.rows)).toEqual([3, 2, 4]);
    // query() joins the pieces of one series back together, as before.
    behave = (r) => r.end(chunk('a', 2, true) + chunk('a', 1, false) + chunk('b', 1, false));
    const [series] = await c.query('SELECT 1');
    expect(series!.map((s) => [s.tags, s.values.length])).toEqual([
      [{ entity: 'a' }, 3],
      [{ entity: 'b' }, 1],
    ]);
  });

  it('scan() hands over rows as byte ranges as chunks arrive, and maps what InfluxDB reports', async () => {
    const c = new InfluxV1Client({ url, database: 'telegraf', timeoutMs: 10_000 });
    const line = (entity: string, rows: Array<[number, string]>): string =>
      `${JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'm', tags: { entity }, columns: ['time', 'top'], values: rows }] }] })}\n`;
    const body = Buffer.from(
      line('wéb-1', [
        [1, 'ü'],
        [2, null as never],
      ]) + line('b', [[3, 'x']]),
    );
    // Written a few bytes at a time: lines and characters cut anywhere between TCP segments.
    behave = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let at = 0;
      const next = (): void => {
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, (at += 7)));
        setImmediate(next);
      };
      next();
    };
    const seen: Array<[string, string]> = [];
    await c.scan('SELECT', (h) => (bytes, cells) => {
      const text = (k: number): string =>
        Buffer.from(bytes.subarray(cells[2 * k]!, cells[2 * k + 1]!)).toString();
      seen.push([h.tags!.entity!, `${text(0)} ${text(1)}`]);
    });
    expect(seen).toEqual([
      ['wéb-1', '1 "ü"'],
      ['wéb-1', '2 null'],
      ['b', '3 "x"'],
    ]);
    behave = (res) => res.end('{"results":[{"statement_id":0,"error":"field not found"}]}\n');
    const refused = await failure(c.scan('SELECT', () => undefined));
    expect(refused).toBeInstanceOf(InfluxRequestError);
    expect(refused.message).toContain('field not found');
    behave = (res) => res.end('<html>bad gateway</html>');
    const page = await failure(c.scan('SELECT', () => undefined));
    expect((page as InfluxUnavailableError).code).toBe('INFLUX_UNAVAILABLE');
    expect(c.queryLoad).toEqual({ active: 0, waiting: 0 });
  });

  it('keeps connections open between requests, and retries once on one that was closed under it', async () => {
    const sockets = new Set<unknown>();
    let hangUp = false;
    behave = (res, req) => {
      sockets.add(req.socket);
      // A kept-alive connection the server (or a proxy) had dropped: the request dies on it unanswered.
      if (hangUp) {
        hangUp = false;
        req.socket.destroy();
        return;
      }
      res.end('{"results":[{"statement_id":0}]}');
    };
    const c = new InfluxV1Client({ url, database: 'telegraf', timeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) await c.query('SELECT 1');
    expect(sockets.size).toBe(1);
    hangUp = true;
    // Sent again on a new connection: the caller sees no error.
    await c.query('SELECT 2');
    expect(sockets.size).toBe(2);
    hangUp = true;
    await c.write(['m v=1 1']);
    expect(sockets.size).toBe(3);
    // Only once: a server that drops every request is unavailable.
    behave = (_res, req) => req.socket.destroy();
    expect((await failure(c.query('SELECT 3'))).message).toMatch(/unreachable \(ECONNRESET\)/);
    c.close();
  });
});
