/**
 * `bench:load`'s `anomalies-cpu` step: what the service spends on one GET /anomalies answer and one
 * Grafana anomalies frame, in this process, on InfluxDB's answer captured once and replayed (so
 * InfluxDB's own time, which dominates the route under load, is left out): the object reader
 * (`ResultsReader.read`, its objects mapped and serialised from the route's schema, as the route
 * answered before the byte reader) against the byte reader the routes use (anomaly-rows.ts). Both
 * are served by one Fastify instance and called through `inject`, so both carry the same routing.
 * Rounds before, this, this, before; printed: ms per answer, and this over the before next to it.
 */
import Fastify from 'fastify';
import { Type } from 'typebox';
import { scanChunk, type SeriesHandler } from '../io/influx/index.js';
import { anomaliesJson, anomalyFrameValues } from '../service/application/anomaly-rows.js';
import { anomalyObject, ResultsReader } from '../service/application/results.js';
import { framesJson } from '../service/routes/grafana.js';
import { Anomaly } from '../service/schemas/index.js';

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** InfluxDB's answer to one query, replayed: `query` parses it as the client does, `scan` walks it. */
function replaying(lines: Buffer[]): ConstructorParameters<typeof ResultsReader>[0] {
  return {
    async query() {
      const series: Series[] = [];
      for (const line of lines) {
        const chunk = JSON.parse(line.toString('utf8')) as { results?: Array<{ series?: Series[] }> };
        for (const s of chunk.results?.[0]?.series ?? []) {
          const last = series.at(-1);
          if (last && last.name === s.name && JSON.stringify(last.tags) === JSON.stringify(s.tags))
            for (const row of s.values) last.values.push(row);
          else series.push({ ...s, values: [...s.values] });
        }
      }
      return [series];
    },
    async scan(_q: string, onSeries: SeriesHandler) {
      for (const line of lines) scanChunk(line, onSeries);
    },
  } as unknown as ConstructorParameters<typeof ResultsReader>[0];
}

/**
 * Measures on the answer InfluxDB gives (at `influxUrl`, database `db`) to the anomalies of
 * detector `detector` in [from, to); returns the lines to print.
 */
export async function anomaliesCpu(
  influxUrl: string,
  db: string,
  detector: string,
  from: number,
  to: number,
  rounds = 200,
): Promise<string[]> {
  // The query the routes send, captured through the reader itself.
  let query = '';
  await new ResultsReader({
    query: async (q: string) => {
      query = q;
      return [[]];
    },
  } as never).read(detector, from, to, { anomaliesOnly: true });
  const params = new URLSearchParams({ db, epoch: 'ms', chunked: 'true', chunk_size: '10000', q: query });
  const body = Buffer.from(await (await fetch(`${influxUrl}/query?${params.toString()}`)).arrayBuffer());
  const lines: Buffer[] = [];
  for (let at = 0; at < body.length;) {
    const cut = body.indexOf(0x0a, at);
    const end = cut < 0 ? body.length : cut;
    if (end > at) lines.push(body.subarray(at, end));
    at = end + 1;
  }
  const reader = new ResultsReader(replaying(lines));
  const app = Fastify();
  app.get('/before', { schema: { response: { 200: Type.Array(Anomaly) } } }, async () =>
    (await reader.read(detector, from, to, { anomaliesOnly: true })).map(anomalyObject),
  );
  app.get('/this', async (_request, reply) =>
    reply
      .type('application/json; charset=utf-8')
      .send(anomaliesJson(await reader.anomalies(detector, from, to))),
  );
  // The anomalies frame as framesFor built it from objects, and as it builds it from bytes.
  app.get('/frame-before', async (_request, reply) => {
    const rows = (await reader.read(detector, from, to, { anomaliesOnly: true })).map((r) => ({
      ...r,
      detector,
    }));
    rows.sort((a, b) => a.timeMs - b.timeMs);
    const values = {
      time: rows.map((r) => r.timeMs),
      detector: rows.map((r) => r.detector),
      entity: rows.map((r) => r.entity),
      score: rows.map((r) => r.score),
      severity: rows.map((r) => r.severity),
      top_feature: rows.map((r) => r.topFeature ?? ''),
      model_version: rows.map((r) => r.modelVersion),
      threshold: rows.map((r) => r.threshold ?? null),
    };
    return reply.type('application/json; charset=utf-8').send(frame(values) as never);
  });
  app.get('/frame-this', async (_request, reply) => {
    const v = anomalyFrameValues([
      { detector, rows: await reader.anomalies(detector, from, to), number: (id) => id },
    ]);
    const values = {
      time: v.time,
      detector: v.detector,
      entity: v.entity,
      score: v.score,
      severity: v.severity,
      top_feature: v.topFeature,
      model_version: v.modelVersion,
      threshold: v.threshold,
    };
    return reply.type('application/json; charset=utf-8').send(frame(values) as never);
  });
  const get = async (url: string): Promise<string> => {
    const r = await app.inject({ url });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
    return r.body;
  };
  if ((await get('/before')) !== (await get('/this')))
    throw new Error('GET /anomalies: the byte reader answered other bytes than the object reader');
  const anomalies = (JSON.parse(await get('/this')) as unknown[]).length;
  const perAnswer = async (url: string): Promise<number> => {
    const started = performance.now();
    for (let i = 0; i < rounds; i++) await app.inject({ url });
    return (performance.now() - started) / rounds;
  };
  const out = [
    '',
    `In-process cost of one anomalies answer (${anomalies} anomalies, InfluxDB's answer of ${(body.length / 1e6).toFixed(2)} MB captured once and replayed; ${rounds} answers a round, rounds before, this, this, before):`,
    '',
  ];
  for (const [what, before, after] of [
    ['GET /anomalies', '/before', '/this'],
    ['Grafana anomalies frame', '/frame-before', '/frame-this'],
  ] as const) {
    for (let i = 0; i < 20; i++) await Promise.all([get(before), get(after)]);
    const ms: number[] = [];
    for (const url of [before, after, after, before]) ms.push(await perAnswer(url));
    const [b1, t1, t2, b2] = ms as [number, number, number, number];
    out.push(
      `- ${what}: ms per answer ${b1.toFixed(2)}, ${t1.toFixed(2)}, ${t2.toFixed(2)}, ${b2.toFixed(2)}; this/before ${(t1 / b1).toFixed(2)} and ${(t2 / b2).toFixed(2)}.`,
    );
  }
  await app.close();
  return out;
}

/** `{"frames":[…]}` of the anomalies frame with these values, as framesFor's frame. */
function frame(values: Record<string, unknown>): ReturnType<typeof framesJson> {
  const types: Record<string, 'time' | 'string' | 'number'> = {
    time: 'time',
    detector: 'string',
    entity: 'string',
    score: 'number',
    severity: 'string',
    top_feature: 'string',
    model_version: 'number',
    threshold: 'number',
  };
  return framesJson([
    {
      refId: 'A',
      name: 'anomalies',
      fields: Object.entries(values).map(([name, v]) => ({ name, type: types[name]!, values: v as never })),
    },
  ]);
}
