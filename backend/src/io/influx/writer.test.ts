import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxRequestError, InfluxUnavailableError, InfluxV1Client } from './v1-client.js';
import { BatchWriter, WriteStalledError } from './writer.js';

/**
 * BatchWriter against a fake InfluxDB (a send function; the real one is in test/influx): whatever a
 * write throws, nothing is lost and later flushes still write. Sleeps are recorded, not waited.
 */
interface Fake {
  send: (lines: string[]) => Promise<void>;
  stored: string[];
  calls: number;
  sleeps: number[];
}

/** A server that fails the first `failures` calls with `error()`, then stores what it gets. */
function flaky(failures: number, error: () => unknown): Fake {
  const fake: Fake = {
    stored: [],
    calls: 0,
    sleeps: [],
    send: async (lines) => {
      fake.calls++;
      if (fake.calls <= failures) throw error();
      fake.stored.push(...lines);
    },
  };
  return fake;
}

const lines = (n: number, prefix = 'm v='): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i} ${i}`);

function writer(fake: Fake, batchSize = 4): BatchWriter {
  return new BatchWriter(fake.send, {
    batchSize,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 1,
    sleep: async (ms) => void fake.sleeps.push(ms),
  });
}

describe('BatchWriter never wedges', () => {
  it.each([
    ['InfluxDB unreachable', () => new InfluxUnavailableError('InfluxDB is unreachable (ECONNREFUSED)')],
    ['a timeout', () => new InfluxUnavailableError('did not answer within 30000 ms', 'INFLUX_TIMEOUT')],
    ['a 5xx', () => new InfluxUnavailableError('InfluxDB answered 503')],
    ['401 (credentials changed)', () => new InfluxRequestError('authorization failed', 401)],
    ['403', () => new InfluxRequestError('forbidden', 403)],
    ['404 (database not created yet)', () => new InfluxRequestError('database not found: "x"', 404)],
    ['429 (slow down)', () => new InfluxRequestError('too many requests', 429)],
    ['a plain Error nobody foresaw', () => new Error('socket hang up')],
    [
      'a TypeError (a bug in a client)',
      () => new TypeError("Cannot read properties of undefined (reading 'x')"),
    ],
    ['a thrown string', () => 'boom'],
    ['a rejection with undefined', () => undefined],
  ])(
    'after %s: keeps the batch, retries with backoff, writes everything, and later flushes work',
    async (_n, error) => {
      const fake = flaky(3, error);
      const w = writer(fake);
      w.add(lines(6));
      await w.flush();
      expect(fake.stored).toEqual(lines(6));
      expect(fake.sleeps).toEqual([100, 200, 400]); // doubling, jitter at its top (random = 1)
      expect(w.stats).toEqual({ written: 6, pending: 0, failedAttempts: 3, rejected: 0, dropped: 0 });
      // The chain is not left rejected: the next lines go out at once.
      w.add(lines(2, 'n v='));
      await w.flush();
      expect(fake.stored.slice(6)).toEqual(lines(2, 'n v='));
      expect(w.stats.pending).toBe(0);
    },
  );

  it('concurrent flushes while failing: none rejects, every batch arrives once and in order', async () => {
    const fake = flaky(2, () => new Error('reset'));
    const w = writer(fake, 3);
    w.add(lines(5));
    const a = w.flush();
    w.add(lines(4, 'k v='));
    const b = w.flush();
    await expect(Promise.all([a, b])).resolves.toBeDefined();
    expect(fake.stored).toEqual([...lines(5), ...lines(4, 'k v=')]);
  });

  it('bad data (400): halves the batch until the bad lines are alone, writes every good line', async () => {
    const stored: string[] = [];
    const rejected: number[] = [];
    const w = new BatchWriter(
      async (batch) => {
        if (batch.some((l) => l.includes('bad'))) throw new InfluxRequestError('unable to parse', 400);
        stored.push(...batch);
      },
      { batchSize: 8, onRejected: (_e, n) => rejected.push(n) },
    );
    const input = lines(8);
    input[2] = 'bad line 1';
    input[7] = 'bad line 2';
    w.add(input);
    await w.flush();
    expect(stored).toEqual(input.filter((l) => !l.includes('bad')));
    expect(w.stats).toMatchObject({ written: 6, rejected: 2, pending: 0 });
    expect(rejected).toEqual([1, 1]);
  });

  it('413 (too large for the server): halves until the parts fit', async () => {
    const stored: string[][] = [];
    const w = new BatchWriter(
      async (batch) => {
        if (batch.length > 2) throw new InfluxRequestError('request entity too large', 413);
        stored.push(batch);
      },
      { batchSize: 8 },
    );
    w.add(lines(7));
    await w.flush();
    expect(stored.flat()).toEqual(lines(7));
    expect(Math.max(...stored.map((b) => b.length))).toBe(2);
    expect(w.stats).toMatchObject({ written: 7, rejected: 0 });
  });

  it('a logger that throws in onRetry does not stop the writing', async () => {
    const fake = flaky(1, () => new InfluxUnavailableError('down'));
    const w = new BatchWriter(fake.send, {
      sleep: async () => undefined,
      onRetry: () => {
        throw new Error('logger broken');
      },
    });
    w.add(lines(3));
    await w.flush();
    expect(fake.stored).toEqual(lines(3));
  });

  it('bounded memory in a long outage: the oldest lines beyond maxPending are dropped and counted, the batch in flight is kept', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stored: string[] = [];
    let first = true;
    const dropped: number[] = [];
    const w = new BatchWriter(
      async (batch) => {
        if (first) {
          first = false;
          await gate; // InfluxDB hangs while more lines arrive
          throw new InfluxUnavailableError('down');
        }
        stored.push(...batch);
      },
      { batchSize: 2, maxPending: 4, sleep: async () => undefined, onDropped: (n) => dropped.push(n) },
    );
    w.add(['a', 'b']); // a full batch: starts writing
    w.add(['c', 'd', 'e', 'f']); // 6 pending > 4: c and d (the oldest behind the batch) go
    expect(w.stats).toMatchObject({ pending: 4, dropped: 2 });
    release();
    await w.flush();
    expect(stored).toEqual(['a', 'b', 'e', 'f']);
    expect(dropped).toEqual([2]);
  });
});

describe('BatchWriter waits for InfluxDB a bounded time (an HTTP fake that refuses writes)', () => {
  /** An InfluxDB stand-in: /write answers 500 while `down`, else 204 and keeps the lines. */
  async function refusingInflux() {
    const state = { down: true, stored: [] as string[], writes: 0 };
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        state.writes++;
        if (state.down) {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"engine: disk full"}');
          return;
        }
        state.stored.push(...Buffer.concat(chunks).toString('utf8').split('\n'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new InfluxV1Client({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      database: 'telegraf',
    });
    return { state, client, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const quick = { baseDelayMs: 5, maxDelayMs: 20, now: () => 42 };
  const until = async (ok: () => boolean): Promise<void> => {
    while (!ok()) await new Promise((r) => setTimeout(r, 5));
  };

  it('a flush waited for at most a bound fails naming the error, keeps the lines, and writes them once InfluxDB takes them', async () => {
    const influx = await refusingInflux();
    try {
      const w = new BatchWriter((l) => influx.client.write(l), quick);
      w.add(lines(3));
      void w.flush();
      await until(() => influx.state.writes >= 2);
      const stalled = await w.flushWithin(50).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(stalled).toBeInstanceOf(WriteStalledError);
      expect(stalled).toBeInstanceOf(InfluxUnavailableError);
      expect((stalled as WriteStalledError).message).toMatch(
        /^InfluxDB has not taken the results within 0 s \(3 lines kept and retried: .*500.*disk full/,
      );
      expect(w.stalled()).toMatchObject({ since: 42, pending: 3, error: expect.stringMatching(/disk full/) });
      influx.state.down = false;
      await w.flushWithin(5_000);
      expect(influx.state.stored).toEqual(lines(3));
      expect(w.stalled()).toBeUndefined();
      expect(w.stats).toMatchObject({ written: 3, pending: 0 });
    } finally {
      await influx.close();
    }
  });

  it('a shutdown gives up after its grace period and says how many lines were not written', async () => {
    const influx = await refusingInflux();
    try {
      const w = new BatchWriter((l) => influx.client.write(l), quick);
      w.add(lines(5));
      void w.flush();
      await until(() => influx.state.writes >= 2);
      const closed = await w.close(50);
      expect(closed).toEqual({ unwritten: 5, error: expect.stringMatching(/disk full/) });
      // The retries stopped: no write is sent after the give-up.
      const writes = influx.state.writes;
      await new Promise((r) => setTimeout(r, 60));
      expect(influx.state.writes).toBe(writes);
      expect(() => w.add(lines(1))).toThrow('the writer is closed');
      // While InfluxDB takes them, a shutdown writes everything.
      influx.state.down = false;
      const ok = new BatchWriter((l) => influx.client.write(l), quick);
      ok.add(lines(2));
      expect(await ok.close(5_000)).toEqual({ unwritten: 0 });
      expect(influx.state.stored).toEqual(lines(2));
    } finally {
      await influx.close();
    }
  });
});
