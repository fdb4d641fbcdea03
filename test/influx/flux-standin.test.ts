import { createServer, type Server } from 'node:http';
import { testApp } from '../support/service.js';
import type { AddressInfo } from 'node:net';
import {
  fluxString,
  fluxWindowQuery,
  InfluxRequestError,
  InfluxV2Client,
  toLine,
} from '../../backend/src/io/influx/index.js';

/**
 * No InfluxDB 2.x server can run here (Debian ships 1.x), so these tests talk to a STAND-IN: a
 * small HTTP server that checks the request as 2.x would (path, org, token, JSON body) and
 * replays an annotated-CSV answer recorded from InfluxDB 2.x for a pivoted cpu query.
 */
const RECORDED_ANSWER = [
  '#group,false,false,true,true,false,true,true,false,false',
  '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,double,double',
  '#default,_result,,,,,,,,',
  ',result,table,_start,_stop,_time,_measurement,host,usage_system,usage_user',
  ',,0,2024-01-01T00:00:00Z,2024-01-01T00:03:00Z,2024-01-01T00:01:00Z,cpu,web-1,5,20.5',
  ',,0,2024-01-01T00:00:00Z,2024-01-01T00:03:00Z,2024-01-01T00:02:00Z,cpu,web-1,5.5,21',
  ',,1,2024-01-01T00:00:00Z,2024-01-01T00:03:00Z,2024-01-01T00:01:00Z,cpu,web-2,7,40',
  '',
].join('\r\n');

describe('InfluxDB 2.x through Flux and the v2 write API (against a stand-in server)', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ path: string; auth: string | undefined; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
        if (req.headers.authorization !== 'Token t0ken') {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end(JSON.stringify({ code: 'unauthorized', message: 'unauthorized access' }));
        } else if (req.url?.startsWith('/api/v2/query?org=acme')) {
          res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(RECORDED_ANSWER);
        } else if (req.url?.startsWith('/api/v2/write?org=acme&bucket=telegraf&precision=ms')) {
          res.writeHead(204).end();
        } else {
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const source = {
    measurement: 'cpu',
    entityTag: 'host',
    tags: { cpu: 'cpu-total' },
    fields: [
      { field: 'usage_user', aggregate: 'mean' as const },
      { field: 'usage_system', aggregate: 'mean' as const },
    ],
    intervalSeconds: 60,
  };

  it('sends a Flux query with the token and org, and turns the answer into series per host', async () => {
    const client = new InfluxV2Client({ url, token: 't0ken', org: 'acme', bucket: 'telegraf' });
    const series = await client.readWindow(source, Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 0, 3));
    const request = seen.at(-1)!;
    expect(request.auth).toBe('Token t0ken');
    expect((JSON.parse(request.body) as { query: string }).query).toBe(
      fluxWindowQuery('telegraf', source, Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 0, 3)),
    );
    expect(series.map((s) => s.entity)).toEqual(['web-1', 'web-2']);
    expect(Array.from(series[0]!.timeMs)).toEqual([Date.UTC(2024, 0, 1, 0, 1), Date.UTC(2024, 0, 1, 0, 2)]);
    expect(Array.from(series[0]!.values[0]!)).toEqual([20.5, 21]); // usage_user, in the source's field order
    expect(Array.from(series[1]!.values[1]!)).toEqual([7]);
  });

  it("reads the source's own bucket when it names one", async () => {
    const client = new InfluxV2Client({ url, token: 't0ken', org: 'acme', bucket: 'telegraf' });
    await client.readWindow(
      { ...source, database: 'telegraf_eu' },
      Date.UTC(2024, 0, 1),
      Date.UTC(2024, 0, 1, 0, 3),
    );
    expect((JSON.parse(seen.at(-1)!.body) as { query: string }).query).toContain(
      'from(bucket: "telegraf_eu")',
    );
    await client.close();
  });

  it('writes line protocol through the v2 write API', async () => {
    const client = new InfluxV2Client({ url, token: 't0ken', org: 'acme', bucket: 'telegraf' });
    const line = toLine({
      measurement: 'isoscope_anomaly',
      tags: { detector: 'cpu', entity: 'web-1' },
      fields: { score: 0.7 },
      timeMs: 1,
    });
    await client.write([line]);
    await client.close();
    expect(seen.at(-1)!.body).toBe(line);
  });

  it("sends a Flux detector's results through the v2 write API", async () => {
    const app = await testApp(url, 'unused', {
      influxToken: 't0ken',
      influxOrg: 'acme',
      influxBucket: 'telegraf',
    });
    try {
      const writer = app.sources.writer({ source: { preset: 'cpu', language: 'flux' } } as never);
      expect(writer).not.toBe(app.results);
      const line = toLine({
        measurement: 'isoscope_anomaly',
        tags: { detector: 'cpu', entity: 'web-9' },
        fields: { score: 0.9 },
        timeMs: 2,
      });
      writer.add([line]);
      await writer.flush();
      expect(seen.at(-1)!.path).toBe('/api/v2/write?org=acme&bucket=telegraf&precision=ms');
      expect(seen.at(-1)!.body).toBe(line);
      expect(app.sources.writer({ source: { preset: 'cpu' } } as never)).toBe(app.results);
    } finally {
      await app.close();
    }
  });

  it('maps a refused token to InfluxRequestError', async () => {
    const client = new InfluxV2Client({ url, token: 'wrong', org: 'acme', bucket: 'telegraf' });
    await expect(client.readWindow(source, 0, 60_000)).rejects.toBeInstanceOf(InfluxRequestError);
  });
});

describe('Flux builder', () => {
  it('escapes every name and value as a Flux string', () => {
    expect(fluxString('a"b\\c${x}')).toBe('"a\\"b\\\\c\\${x}"');
    const q = fluxWindowQuery(
      'tele"graf',
      {
        measurement: 'cpu") |> drop(',
        entityTag: 'host',
        tags: { host: ['a', 'b" or true or "'] },
        fields: [
          { field: 'usage_user', aggregate: 'mean' },
          { field: 'bytes_recv', aggregate: 'increase' },
        ],
        intervalSeconds: 300,
      },
      Date.UTC(2024, 0, 1),
      Date.UTC(2024, 0, 2),
    );
    expect(q).toBe(
      [
        'data = from(bucket: "tele\\"graf")',
        '  |> range(start: time(v: "2024-01-01T00:00:00.000Z"), stop: time(v: "2024-01-02T00:00:00.000Z"))',
        '  |> filter(fn: (r) => r._measurement == "cpu\\") |> drop(")',
        '  |> filter(fn: (r) => r["host"] == "a" or r["host"] == "b\\" or true or \\"")',
        's_mean = data |> filter(fn: (r) => r._field == "usage_user") |> aggregateWindow(every: 300s, fn: mean, createEmpty: false)',
        's_increase = data |> filter(fn: (r) => r._field == "bytes_recv") |> aggregateWindow(every: 300s, fn: last, createEmpty: false) |> difference(nonNegative: true)',
        'union(tables: [s_mean, s_increase])',
        '  |> pivot(rowKey: ["_time", "host"], columnKey: ["_field"], valueColumn: "_value")',
        '  |> group(columns: ["host"])',
        '  |> sort(columns: ["_time"])',
      ].join('\n'),
    );
  });
});
