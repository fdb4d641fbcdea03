import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { HEALTH_STATES } from '../../backend/src/service/schemas/index.js';
import { readText, readYaml } from '../support/repo.js';
import { as, testApp } from '../support/service.js';

interface Query {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: { from: number; to: number };
  model: { refId: string; type?: string; expression?: string; query?: string; rawQuery?: boolean };
}
interface Rule {
  uid: string;
  title: string;
  condition: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: Query[];
}

const groups = readYaml<{ groups: { name: string; folder: string; rules: Rule[] }[] }>(
  'provisioning/alerting/rules.yaml',
).groups;
const rules = groups.flatMap((g) => g.rules);
const health = groups.find((g) => g.name === 'isoscope-health');

/** Measurements Grafana's rules may read: Telegraf's copy of /metrics, and Isoscope's results. */
const METRICS_MEASUREMENT = 'prometheus';
const RESULTS_MEASUREMENT = 'isoscope_anomaly';

/** What an InfluxQL query reads: measurements after FROM, fields in functions, tags compared or grouped by. */
function parts(query: string): { measurements: string[]; fields: string[]; tags: string[] } {
  const grouped = query.replace(/time\([^)]*\)/g, '');
  const measurements = [...query.matchAll(/FROM "([^"]+)"/g)].map((m) => m[1]!);
  const fields = [...query.matchAll(/\w+\("([^"]+)"\)/g)].map((m) => m[1]!);
  const tags = [
    ...[...query.matchAll(/"([^"]+)" (?:=|=~) /g)].map((m) => m[1]!),
    ...[...grouped.matchAll(/GROUP BY ([^)]*?)(?:\)|$| WHERE)/g)].flatMap((m) =>
      [...m[1]!.matchAll(/"([^"]+)"/g)].map((t) => t[1]!),
    ),
  ];
  return { measurements, fields, tags };
}

describe('provisioned alert rules on Isoscope', () => {
  let app: FastifyInstance;
  /** Metric families the service exports, with their label names. */
  let exported: Map<string, { type: string; labels: string[] }>;

  beforeAll(async () => {
    // InfluxDB is not running here: /metrics reads the registry only.
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'telegraf');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'cpu', spec: { source: { preset: 'cpu' } } },
    });
    expect(created.statusCode).toBe(201);
    const text = (await app.inject({ url: '/metrics' })).body;
    exported = new Map();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const metric = app.metrics.getSingleMetric(m[1]!) as unknown as { labelNames?: string[] } | undefined;
      exported.set(m[1]!, { type: m[2]!, labels: metric?.labelNames ?? [] });
    }
  });
  afterAll(() => app?.close());

  it('have unique uids, and every expression refers to a query of its rule', () => {
    expect(new Set(rules.map((r) => r.uid)).size).toBe(rules.length);
    for (const r of rules) {
      const refs = r.data.map((d) => d.refId);
      expect({ uid: r.uid, condition: refs.includes(r.condition) }).toEqual({ uid: r.uid, condition: true });
      for (const d of r.data) {
        expect(d.model.refId).toBe(d.refId);
        if (d.datasourceUid !== '__expr__') continue;
        const named = [...(d.model.expression ?? '').matchAll(/\$?\b([A-Z])\b/g)].map((m) => m[1]!);
        expect(named.length).toBeGreaterThan(0);
        for (const n of named)
          expect({ uid: r.uid, ref: n, known: refs.includes(n) }).toMatchObject({ known: true });
      }
    }
  });

  it('watch stalled, lagging and failing scoring, failing training and storms of anomalies', () => {
    expect(health?.rules.map((r) => r.uid).sort()).toEqual(
      [
        'isoscope-anomaly-storm',
        'isoscope-scoring-failing',
        'isoscope-scoring-lagging',
        'isoscope-scoring-stalled',
        'isoscope-training-failed',
      ].sort(),
    );
    for (const r of health!.rules) expect(r.labels).toMatchObject({ source: 'isoscope' });
  });

  it.each(rules.map((r) => [r.uid, r] as const))(
    "%s reads only metrics the service exports, with their labels, from Telegraf's measurement",
    (_uid, rule) => {
      const queries = rule.data.filter((d) => d.datasourceUid !== '__expr__');
      expect(queries.length).toBeGreaterThan(0);
      for (const q of queries) {
        expect(q.datasourceUid).toBe('influxdb');
        expect(q.model.rawQuery).toBe(true);
        expect(q.model.query).toContain('$timeFilter');
        const { measurements, fields, tags } = parts(q.model.query!);
        expect(measurements.length).toBeGreaterThan(0);
        if (measurements.every((m) => m === RESULTS_MEASUREMENT)) continue; // the results rule
        expect([...new Set(measurements)]).toEqual([METRICS_MEASUREMENT]);
        const metricFields = fields.filter((f) => f.startsWith('isoscope_'));
        expect(metricFields.length).toBeGreaterThan(0);
        for (const f of metricFields) {
          const family = exported.get(f) ?? exported.get(f.replace(/_(sum|count|bucket)$/, ''));
          expect({ rule: rule.uid, field: f, exported: family !== undefined }).toEqual({
            rule: rule.uid,
            field: f,
            exported: true,
          });
          // Telegraf adds `url`; every other tag must be one of the metric's labels.
          for (const t of tags.filter((t) => t !== 'url'))
            expect({ rule: rule.uid, field: f, tag: t, label: family!.labels.includes(t) }).toMatchObject({
              label: true,
            });
        }
        const state = /"state" = '([^']+)'/.exec(q.model.query!)?.[1];
        if (state !== undefined) expect(HEALTH_STATES).toContain(state);
      }
    },
  );

  it('the detector-state rules name states the service reports for a detector', async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    for (const state of HEALTH_STATES)
      expect(text).toContain(`isoscope_detector_state{detector="cpu",state="${state}"}`);
    const h = await app.inject({ url: '/api/v1/detectors/cpu/health', headers: as('viewer') });
    expect(text).toContain(`isoscope_detector_state{detector="cpu",state="${h.json().state}"} 1`);
  });

  it('Telegraf scrapes the service for them', () => {
    expect(readText('docker/telegraf.conf')).toMatch(
      /\[\[inputs\.prometheus\]\]\s+urls = \["http:\/\/isoscope:8787\/metrics"\]\s+metric_version = 2/,
    );
  });
});
