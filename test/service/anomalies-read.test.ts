import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { RESULTS_MEASUREMENT, type InfluxV1Client } from '../../backend/src/io/influx/index.js';
import { anomalyObject, type StoredResult } from '../../backend/src/service/application/results.js';
import { Anomaly } from '../../backend/src/service/schemas/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

/**
 * The anomalies read path writes its answers from the bytes of InfluxDB's (anomaly-rows.ts); these
 * tests hold it to what the object reader gave before: `ResultsReader.read` (unchanged, still used
 * by annotations and alerts) mapped and serialised as the routes did it, on messy results in a
 * real influxd: nulls and points written before results carried a threshold, text with quotes,
 * escapes, markup and emoji, values of other types in another shard, numbers in every notation,
 * ties of time, many series, and an answer of several chunks.
 */

const T0 = Date.UTC(2024, 0, 10);
const MIN = 60_000;
const DAY = 86_400_000;
/** Another week, another shard: there the fields hold values of other types. */
const OLD = T0 - 14 * DAY;
const RANGE = { from: OLD - DAY, to: T0 + DAY };
/** This week's shard only. */
const WEEK = { from: T0 - DAY, to: T0 + DAY };

const ENTITIES = ['web-1', 'Web-2', 'db 1', 'a,b=c', 'é-host', 'ä', 'z', '😀', 'a<b>&c', 'q"uote', ''];
for (let i = 0; i < 30; i++) ENTITIES.push(`host-${String(i).padStart(2, '0')}`);

/** Line protocol with the field text given as it is (types, notations), tags escaped. */
function line(
  detector: string,
  entity: string,
  version: string,
  fields: Record<string, string>,
  timeMs: number,
): string {
  const tag = (v: string): string => v.replace(/[,= ]/g, (c) => `\\${c}`);
  const tags = [`detector=${tag(detector)}`, ...(entity ? [`entity=${tag(entity)}`] : [])];
  tags.push(`model_version=${tag(version)}`, 'stage=production');
  const text = Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${RESULTS_MEASUREMENT},${tags.join(',')} ${text} ${timeMs}`;
}

const str = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** Scores in every notation InfluxDB answers: exponents, -0, whole numbers, 17 digits. */
const SCORES = [
  '0.5',
  String(0.1 + 0.2),
  '1e-7',
  '1.5e-7',
  '0.000001',
  '5',
  '123456789012345680000',
  '1e21',
  '-0.0',
  '0.75',
  '123456789.125',
  '0.6180339887498949',
];
const SEVERITIES = ['high', 'critical', 'low', 'medium', 'none', 'toString', 'wéird <b>&"\\ 😀', 'high'];
const TOPS = ['usage_user', 'a "quoted" \\ feature', '<script>&amp;', 'ünïcode 😀', 'line\\nbreak', ''];

function messyLines(detector: string): string[] {
  const lines: string[] = [];
  // Many series, one a minute for an hour, every entity at the same times (ties to order).
  ENTITIES.forEach((entity, e) => {
    for (let i = 0; i < 60; i++) {
      const k = e * 7 + i;
      const anomaly = k % 3 !== 0;
      const fields: Record<string, string> = { score: SCORES[k % SCORES.length]!, anomaly: String(anomaly) };
      if (k % 5 !== 0) fields.threshold = k % 2 ? '0.55' : '0.5000000000000001';
      if (k % 4 !== 0) fields.severity = str(SEVERITIES[k % SEVERITIES.length]!);
      if (anomaly && k % 6 !== 1) fields.top_feature = str(TOPS[k % TOPS.length]!);
      if (k % 4 === 2) fields.top_contribution = k % 8 === 2 ? '0.25' : '-3e-9';
      fields.retrain = '1';
      lines.push(line(detector, entity, String(1 + (i % 3 === 0 ? 1 : 0)), fields, T0 + i * MIN));
      // The same entity and time from a second version: one point per series, in tag order.
      if (i % 10 === 4)
        lines.push(line(detector, entity, '3', { score: '0.9', anomaly: 'true' }, T0 + i * MIN));
    }
  });
  // One entity with more anomalies than a chunk holds (InfluxDB answers in chunks of 10,000 rows).
  for (let i = 0; i < 12_500; i++)
    lines.push(
      line(
        detector,
        'bulk',
        '4',
        { score: String(0.5 + (i % 1000) / 2000.3), threshold: '0.5', anomaly: 'true', severity: '"high"' },
        T0 + 2 * 3_600_000 + i * 1000,
      ),
    );
  // Another shard, where the fields hold other types: a score as text, a severity as an integer,
  // a top feature as a number, a threshold as text; versions as text that is a number, or not.
  ['web-1', 'db 1', 'z'].forEach((entity, e) => {
    for (let i = 0; i < 6; i++) {
      lines.push(
        line(
          detector,
          entity,
          ['2.5', '-0', '1e3', '007', '12345678901234567', '6'][(i + e) % 6]!,
          {
            score: str(['0.875', ' 0.25 ', '1e-7', '', '5.0', '0x10'][(i + e) % 6]!),
            threshold: str('n/a'),
            severity: `${3 + i}i`,
            top_feature: '1.5',
            top_contribution: str('x'),
            anomaly: 'true',
          },
          OLD + (i * 7 + e) * MIN,
        ),
      );
    }
  });
  // Points written before results carried a threshold, a severity or a top feature.
  for (let i = 0; i < 5; i++)
    lines.push(line(detector, 'web-1', '1', { score: '0.8', anomaly: 'true' }, T0 - DAY + i * MIN));
  return lines;
}

/** A string's length, and its text around where it first differs from `other`. */
function where(text: string, other: string): { length: number; at: string } {
  let i = 0;
  while (i < text.length && text[i] === other[i]) i++;
  return {
    length: text.length,
    at: i === text.length && i === other.length ? '' : text.slice(Math.max(0, i - 80), i + 80),
  };
}

describe('anomalies read from bytes, as the object reader read them (real influxd)', () => {
  let influx: TestInflux;
  let client: InfluxV1Client;
  let app: FastifyInstance;
  /** The routes' old serialisation: objects through the schema's serializer (fast-json-stringify). */
  const reference = Fastify();
  let objects: unknown[] = [];
  reference.get('/', { schema: { response: { 200: Type.Array(Anomaly) } } }, async () => objects);

  beforeAll(async () => {
    influx = await startTestInflux();
    client = await influx.client();
    app = await testApp(influx.server.url, client.database);
    for (const name of ['cpu', 'mem', 'broken']) {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/detectors',
        headers: as('editor'),
        payload: { name, spec: { source: { preset: 'cpu' }, intervalSeconds: 60 } },
      });
      expect(created.statusCode).toBe(201);
    }
    // Versions 1 to 4 (ids) in the registry: web-1's v1 and v2, db 1's v1 and v2; the other ids
    // results name are not there.
    for (const entity of ['web-1', 'web-1', 'db 1', 'db 1'])
      await app.registry.addModelVersion(
        { detectorId: 'cpu', entity, bundle: '{}', metrics: {}, params: {} },
        'test',
        0,
      );
    const lines = [...messyLines('cpu'), ...messyLines('mem').filter((_, i) => i % 4 === 1)];
    for (let i = 0; i < lines.length; i += 5000) await client.write(lines.slice(i, i + 5000));
    // A version tag that is no number: the REST answer's integer cannot be written (a 500 before too).
    await client.write([
      line('broken', 'web-1', 'abc', { score: '0.9', anomaly: 'true' }, T0),
      line('broken', 'web-1', '2', { score: '0.9', anomaly: 'true' }, T0 + MIN),
    ]);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await reference.close();
    await influx?.server.stop();
  });

  /** GET /anomalies as the route answered before: read(), mapped, serialised from the schema. */
  async function before(
    id: string,
    q: { from: number; to: number; entity?: string; minSeverity?: string },
  ): Promise<{ status: number; body: string }> {
    let results: StoredResult[];
    try {
      results = await app.resultsReader.read(id, q.from, q.to, {
        anomaliesOnly: true,
        ...(q.entity !== undefined ? { entity: q.entity } : {}),
        ...(q.minSeverity ? { minSeverity: q.minSeverity } : {}),
      });
      objects = results.map(anomalyObject);
    } catch {
      return { status: 500, body: '' };
    }
    const answer = await reference.inject({ url: '/' });
    return { status: answer.statusCode, body: answer.statusCode === 200 ? answer.body : '' };
  }

  async function now(
    id: string,
    q: { from: number; to: number; entity?: string; minSeverity?: string },
  ): Promise<{ status: number; body: string; type: string }> {
    const params = new URLSearchParams({
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      ...(q.entity !== undefined ? { entity: q.entity } : {}),
      ...(q.minSeverity ? { minSeverity: q.minSeverity } : {}),
    });
    const r = await app.inject({ url: `/api/v1/detectors/${id}/anomalies?${params}`, headers: as('viewer') });
    return {
      status: r.statusCode,
      body: r.statusCode === 200 ? r.body : '',
      type: String(r.headers['content-type']),
    };
  }

  it('GET /anomalies answers the same bytes as the object reader and the schema serializer', async () => {
    // Across both shards InfluxDB answers one type per field (the text of this week's severities
    // and top features as null there); within one, each shard's own.
    const cases = [RANGE, WEEK, { from: OLD - DAY, to: OLD + DAY }, { from: T0, to: T0 + 30 * MIN }].flatMap(
      (range) => [
        range,
        { ...range, minSeverity: 'high' },
        { ...range, minSeverity: 'low' },
        ...['web-1', 'a,b=c', '😀', 'a<b>&c', 'q"uote', '', 'no-such-host'].map((entity) => ({
          ...range,
          entity,
        })),
        { ...range, entity: 'db 1', minSeverity: 'critical' },
      ],
    );
    cases.push({ ...WEEK, entity: 'bulk' });
    for (const q of cases) {
      const want = await before('cpu', q);
      const got = await now('cpu', q);
      expect({ q, status: got.status }).toEqual({ q, status: want.status });
      expect(got.type).toBe('application/json; charset=utf-8');
      // Byte for byte; where they part, if they do (the answers are long).
      expect(where(got.body, want.body)).toEqual(where(want.body, want.body));
    }
    // The data is as messy as it says: escapes, other notations, the other shard's types, chunks.
    const all = JSON.parse((await now('cpu', WEEK)).body) as Array<Record<string, unknown>>;
    expect(all.length).toBeGreaterThan(12_500);
    expect(new Set(all.map((a) => a.entity)).size).toBe(ENTITIES.length + 1);
    expect(all.some((a) => a.score === 0.9 && a.modelVersion === 3)).toBe(true);
    expect(all.some((a) => a.severity === 'wéird <b>&"\\ 😀')).toBe(true);
    expect(all.some((a) => a.score === 1e-7)).toBe(true);
    expect(all.some((a) => a.score === 1e21)).toBe(true);
    expect(all.some((a) => Object.is(a.score, 0))).toBe(true);
    expect(all.some((a) => a.threshold === undefined)).toBe(true);
    expect(all.some((a) => a.topFeature === '<script>&amp;')).toBe(true);
    const old = JSON.parse((await now('cpu', { from: OLD - DAY, to: OLD + DAY })).body) as Array<
      Record<string, unknown>
    >;
    expect(old.find((a) => a.time === new Date(OLD).toISOString())).toMatchObject({
      score: 0.875,
      severity: '3',
      topFeature: '1.5',
      modelVersion: 2,
    });
  }, 60_000);

  it('fails where the serializer failed: a version tag that is no number', async () => {
    const want = await before('broken', RANGE);
    expect(want.status).toBe(500);
    expect((await now('broken', RANGE)).status).toBe(500);
    expect((await now('broken', { ...RANGE, from: T0 + MIN })).status).toBe(200);
  });

  /** Grafana's anomalies frame as the route built it before, from read()'s objects. */
  async function frameBefore(detector: string, entity: string | undefined): Promise<unknown> {
    const wanted =
      entity === undefined || entity === '*'
        ? undefined
        : (/^\{(.*)\}$/
            .exec(entity)?.[1]!
            .split(',')
            .map((e) => e.trim()) ?? [entity]);
    const detectors = detector ? [detector] : (await app.registry.listDetectors()).map((d) => d.id);
    const rows: Array<StoredResult & { detector: string; number: number | null }> = [];
    for (const d of detectors) {
      // The version as its entity's own number (v1, v2, …), null for an id not in the registry.
      const numbers = new Map((await app.registry.models.list(d)).map((v) => [v.version, v.entityVersion]));
      for (const r of await app.resultsReader.read(d, RANGE.from, RANGE.to, { anomaliesOnly: true }))
        if (!wanted || wanted.includes(r.entity))
          rows.push({ ...r, detector: d, number: numbers.get(r.modelVersion) ?? null });
    }
    rows.sort((a, b) => a.timeMs - b.timeMs);
    const frame = {
      refId: 'A',
      name: 'anomalies',
      fields: [
        { name: 'time', type: 'time', values: rows.map((r) => r.timeMs) },
        { name: 'detector', type: 'string', values: rows.map((r) => r.detector) },
        { name: 'entity', type: 'string', values: rows.map((r) => r.entity) },
        {
          name: 'score',
          type: 'number',
          values: rows.map((r) => r.score),
          config: {
            min: 0,
            max: 1,
            links: [
              {
                title: 'Explain this moment',
                url: '/a/isoscope-anomaly-app/explain?detector=${__data.fields.detector}&entity=${__data.fields.entity}&time=${__data.fields.time}',
              },
            ],
          },
        },
        { name: 'severity', type: 'string', values: rows.map((r) => r.severity) },
        { name: 'top_feature', type: 'string', values: rows.map((r) => r.topFeature ?? '') },
        { name: 'model_version', type: 'number', values: rows.map((r) => r.number) },
        { name: 'threshold', type: 'number', values: rows.map((r) => r.threshold ?? null) },
      ],
    };
    // Through JSON, as the answer went: NaN as null.
    return JSON.parse(JSON.stringify({ frames: [frame] }));
  }

  it("Grafana's anomalies target gives the same frame as the object reader", async () => {
    for (const [detector, entity] of [
      ['cpu', undefined],
      ['', undefined],
      ['', '{web-1, 😀,}'],
      ['mem', 'a<b>&c'],
      ['cpu', '*'],
      ['broken', undefined],
      ['', 'no-such-host'],
    ] as const) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/grafana/query',
        headers: as('viewer'),
        payload: {
          range: { from: new Date(RANGE.from).toISOString(), to: new Date(RANGE.to).toISOString() },
          targets: [
            { refId: 'A', detector, return: 'anomalies', ...(entity !== undefined ? { entity } : {}) },
          ],
        },
      });
      expect({ detector, entity, status: r.statusCode }).toEqual({ detector, entity, status: 200 });
      let got: unknown;
      try {
        got = JSON.parse(r.body);
      } catch (err) {
        const at = Number(/position (\d+)/.exec(String(err))?.[1] ?? 0);
        throw new Error(`${String(err)}: ${r.body.slice(at - 120, at + 40)}`);
      }
      if (detector === 'cpu' && entity === undefined) {
        const versions = (got as { frames: Array<{ fields: Array<{ values: unknown[] }> }> }).frames[0]!
          .fields[6]!.values;
        expect(new Set(versions)).toEqual(new Set([1, 2, null]));
      }
      expect({ detector, entity, got }).toEqual({
        detector,
        entity,
        got: await frameBefore(detector, entity),
      });
    }
  }, 60_000);
});
