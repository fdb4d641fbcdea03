import fc from 'fast-check';
import { startLocalInflux, freePort } from '../../backend/src/devtools/influxd.js';
import {
  BatchWriter,
  ident,
  InfluxRequestError,
  InfluxUnavailableError,
  InfluxV1Client,
  listEntities,
  listFields,
  rawQuery,
  readWindow,
  str,
  toLine,
  windowQuery,
  type Point,
} from '../../backend/src/io/influx/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

describe('InfluxDB v1 reader and writer (real influxd)', () => {
  let influx: TestInflux;
  beforeAll(async () => {
    influx = await startTestInflux();
  }, 60_000);
  afterAll(async () => {
    await influx?.server.stop();
  });

  it('reads a window aggregated per interval and per entity, with gaps as NaN or missing rows', async () => {
    const client = await influx.client();
    const lines: string[] = [];
    for (const host of ['web-1', 'web-2']) {
      for (let i = 0; i < 10; i++) {
        if (host === 'web-2' && i === 4) continue; // a gap: no data that minute
        for (const s of [0, 20, 40]) {
          const fields: Point['fields'] = { usage_user: (host === 'web-1' ? 10 : 50) + i + s / 100 };
          if (!(host === 'web-1' && i === 7)) fields.usage_system = 2; // a field missing that minute
          lines.push(
            toLine({
              measurement: 'cpu',
              tags: { host, cpu: 'cpu-total' },
              fields,
              timeMs: T0 + i * MIN + s * 1000,
            }),
          );
        }
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host, cpu: 'cpu0' },
            fields: { usage_user: 99 },
            timeMs: T0 + i * MIN,
          }),
        );
      }
    }
    await client.write(lines);
    const source = {
      measurement: 'cpu',
      entityTag: 'host',
      tags: { cpu: 'cpu-total' },
      fields: [
        { field: 'usage_user', aggregate: 'mean' as const },
        { field: 'usage_system', aggregate: 'max' as const },
      ],
      intervalSeconds: 60,
    };
    const series = await readWindow(client, source, T0, T0 + 10 * MIN);
    expect(series.map((s) => s.entity)).toEqual(['web-1', 'web-2']);
    const [web1, web2] = series;
    expect(web1!.timeMs).toHaveLength(10);
    expect(web1!.values[0]![3]).toBeCloseTo(13.2, 10); // mean of 13.0, 13.2, 13.4: cpu0's 99 filtered out
    expect(web1!.values[1]![7]).toBeNaN();
    expect(web2!.timeMs).toHaveLength(9);
    expect(Array.from(web2!.timeMs)).not.toContain(T0 + 4 * MIN);
    expect(await listEntities(client, source)).toEqual(['web-1', 'web-2']);
    expect(await listFields(client, 'cpu')).toEqual([
      { field: 'usage_system', type: 'float' },
      { field: 'usage_user', type: 'float' },
    ]);
  });

  it('writes results back so that a plain InfluxQL query reads them', async () => {
    const client = await influx.client();
    const writer = new BatchWriter((lines) => client.write(lines), { batchSize: 7 });
    const points = Array.from({ length: 20 }, (_, i) =>
      toLine({
        measurement: 'isoscope_anomaly',
        tags: { detector: 'cpu', entity: 'web-1', model_version: '3' },
        fields: {
          score: 0.4 + i / 100,
          anomaly: i % 5 === 0,
          severity: i % 5 === 0 ? 'high' : 'none',
          top_feature: 'cpu.usage_user',
        },
        timeMs: T0 + i * MIN,
      }),
    );
    writer.add(points);
    await writer.close();
    expect(writer.stats).toEqual({ written: 20, pending: 0, failedAttempts: 0, rejected: 0, dropped: 0 });
    const [series] = await client.query(
      'SELECT count("score") FROM "isoscope_anomaly" WHERE "anomaly" = true',
    );
    expect(series![0]!.values[0]![1]).toBe(4);
  });

  it('keeps and retries a batch while InfluxDB is down, and delivers it once it is up', async () => {
    const port = await freePort();
    const client = new InfluxV1Client({ url: `http://127.0.0.1:${port}`, database: 'late' });
    const retries: number[] = [];
    // The database is created by the first attempt that reaches a server: until then, every attempt
    // fails as unavailable and is retried (a write to a missing database would be refused, not retried).
    const send = async (lines: string[]): Promise<void> => {
      await client.createDatabase();
      await client.write(lines);
    };
    const writer = new BatchWriter(send, {
      baseDelayMs: 100,
      maxDelayMs: 400,
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    writer.add([toLine({ measurement: 'm', fields: { v: 1 }, timeMs: T0 })]);
    const flushed = writer.flush();
    await new Promise((r) => setTimeout(r, 600));
    expect(retries.length).toBeGreaterThan(0);
    const late = await startLocalInflux({ port });
    try {
      await flushed;
      expect(writer.stats.written).toBe(1);
      const [series] = await client.query('SELECT "v" FROM "m"');
      expect(series![0]!.values).toEqual([[T0, 1]]);
    } finally {
      await late.stop();
    }
  });

  it('tells a refused query from an unreachable server', async () => {
    const client = await influx.client();
    await expect(client.query('SELECT FROM WHERE')).rejects.toBeInstanceOf(InfluxRequestError);
    const down = new InfluxV1Client({
      url: `http://127.0.0.1:${await freePort()}`,
      database: 'x',
      timeoutMs: 2000,
    });
    await expect(down.ping()).rejects.toBeInstanceOf(InfluxUnavailableError);
  });

  it('escaping: any measurement, field, tag and value comes back as data and never changes the query', async () => {
    const client = await influx.client();
    // What line protocol can carry: no line breaks, not empty, no trailing backslash, no leading '#'.
    const name = fc
      .string({ minLength: 1, maxLength: 12, unit: 'binary' })
      .filter(
        (s) =>
          !s.includes('\n') &&
          !s.includes('\r') &&
          !s.includes(String.fromCharCode(0)) &&
          !s.endsWith('\\') &&
          !s.startsWith('#') &&
          s.trim() === s &&
          s !== 'time',
      );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(name, name, name, name, async (measurement, field, tagKey, tagValue) => {
        fc.pre(field !== tagKey);
        run++;
        const t = T0 + run * MIN;
        await client.write([
          toLine({ measurement, tags: { [tagKey]: tagValue }, fields: { [field]: run }, timeMs: t }),
          // A decoy with another tag value: a query whose WHERE was subverted would return it too.
          toLine({ measurement, tags: { [tagKey]: `${tagValue}x` }, fields: { [field]: -run }, timeMs: t }),
        ]);
        const [series = []] = await client.query(
          rawQuery(measurement, [field], t, t + 1, { [tagKey]: tagValue }),
        );
        expect(series.map((s) => s.name)).toEqual([measurement]);
        expect(series[0]!.columns).toEqual(['time', field]);
        expect(series[0]!.values).toEqual([[t, run]]);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('InfluxQL builder', () => {
  it('quotes identifiers and literals with escapes', () => {
    expect(ident('cpu "total"\\')).toBe('"cpu \\"total\\"\\\\"');
    expect(str("it's\nok")).toBe("'it\\'s\\nok'");
    expect(
      windowQuery({
        measurement: 'cpu',
        fields: [{ field: 'usage_user', aggregate: 'mean' }],
        from: T0,
        to: T0 + MIN,
        intervalSeconds: 60,
        entityTag: 'host',
        tags: { cpu: 'cpu-total', host: ['a', "b'; DROP DATABASE x"] },
      }),
    ).toBe(
      `SELECT mean("usage_user") AS "usage_user" FROM "cpu" WHERE time >= 1704067200000000000 AND time < 1704067260000000000 AND "cpu" = 'cpu-total' AND ("host" = 'a' OR "host" = 'b\\'; DROP DATABASE x') GROUP BY time(60s), "host" fill(none)`,
    );
  });

  it('refuses what it cannot express', () => {
    const base = {
      measurement: 'cpu',
      fields: [{ field: 'u', aggregate: 'mean' as const }],
      from: T0,
      to: T0 + MIN,
      intervalSeconds: 60,
    };
    expect(() => windowQuery({ ...base, fields: [] })).toThrow('at least one field');
    expect(() => windowQuery({ ...base, intervalSeconds: 0.5 })).toThrow('whole number of seconds');
    expect(() => windowQuery({ ...base, to: T0 })).toThrow('the range is empty');
    expect(() => windowQuery({ ...base, fields: [{ field: 'u', aggregate: 'drop' as never }] })).toThrow(
      "aggregate 'drop'",
    );
    expect(() => toLine({ measurement: '#comment', fields: { v: 1 }, timeMs: T0 })).toThrow(
      "starts with '#'",
    );
    expect(() => toLine({ measurement: 'm', fields: { v: Number.NaN }, timeMs: T0 })).toThrow(
      'finite numbers only',
    );
  });
});
