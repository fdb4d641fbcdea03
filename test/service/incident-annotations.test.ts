import type { FastifyInstance } from 'fastify';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { cpuFleetLines, trainedCpuDetector } from '../support/cpu-fleet.js';
import { readText } from '../support/repo.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
const STEP = 300_000;
/** web-1's cpu pinned for 40 minutes, three hours ago. */
const INCIDENT = { from: NOW - 3 * HOUR, to: NOW - 3 * HOUR + 40 * 60_000 };

/**
 * The InfluxQL annotation query of docs/grafana.md ("Incidents from InfluxDB") with Grafana's
 * variables filled in as Grafana fills them: ${__from} and ${__to} epoch milliseconds, $host the
 * selected host.
 */
function influxAnnotationQuery(from: number, to: number, host: string): string {
  const docs = readText('docs/grafana.md');
  const section = docs.slice(docs.indexOf('### Incidents from InfluxDB'));
  const sql = /```sql\n([\s\S]*?)```/.exec(section)![1]!;
  return sql
    .replace(/\$\{__from\}/g, String(from))
    .replace(/\$\{__to\}/g, String(to))
    .replace(/\$host/g, host)
    .replace(/\s+/g, ' ')
    .trim();
}

interface Annotation {
  time: number;
  timeEnd: number;
  title: string;
  text: string;
  tags: string[];
}

describe('incidents written to InfluxDB and shown as Grafana annotations (real influxd)', () => {
  let influx: TestInflux;
  let client: Awaited<ReturnType<TestInflux['client']>>;
  let app: FastifyInstance;
  let clock = NOW;

  beforeAll(async () => {
    influx = await startTestInflux();
    client = await influx.client();
    await client.write(cpuFleetLines(NOW, INCIDENT));
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    // Train on the two days before the last one, and promote.
    await trainedCpuDetector(app, NOW - 24 * HOUR);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  /** web-1's points in isoscope_incidents, as InfluxDB holds them. */
  const points = async (): Promise<Array<Record<string, unknown>>> => {
    const [series = []] = await client.query(
      `SELECT * FROM "isoscope_incidents" WHERE "detector" = 'cpu' AND "entity" = 'web-1'`,
    );
    return series.flatMap((s) =>
      s.values.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, row[i]]))),
    );
  };

  const annotations = async (payload: Record<string, unknown>): Promise<Annotation[]> => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/grafana/annotations',
      headers: as('viewer'),
      payload,
    });
    expect(r.statusCode).toBe(200);
    return r.json();
  };

  const range = { from: new Date(NOW - 6 * HOUR).toISOString(), to: new Date(NOW).toISOString() };

  it('writes the incident while it fires and rewrites the same point when it resolves', async () => {
    // Live scoring up to 20 minutes into the incident: it fires.
    for (let t = NOW - 23 * HOUR; t <= INCIDENT.from + 20 * 60_000; t += HOUR / 2) {
      clock = t + 60_000;
      await app.scheduler.tick(clock);
    }
    clock = INCIDENT.from + 20 * 60_000 + 60_000;
    await app.scheduler.tick(clock);
    const firing = (await app.registry.incidents.list({ detectorId: 'cpu', entity: 'web-1' })).find(
      (i) => i.startAt >= INCIDENT.from - STEP && i.startAt <= INCIDENT.from + 10 * 60_000,
    );
    expect(firing).toMatchObject({ state: 'firing' });
    const atFiring = (await points()).filter((p) => p.id === firing!.id);
    expect(atFiring).toEqual([
      expect.objectContaining({
        time: firing!.startAt,
        state: 'firing',
        severity: firing!.severity,
        start_ms: firing!.startAt,
        end_ms: firing!.endAt,
        peak_score: firing!.peakScore,
        title: `cpu: ${firing!.severity} incident on web-1`,
      }),
    ]);
    // While it fires its region reaches to now, not to its last flag.
    const live = (await annotations({ range, detector: 'cpu', kind: 'incidents' })).find(
      (a) => a.time === firing!.startAt && a.tags.includes('web-1'),
    );
    expect(live).toMatchObject({
      timeEnd: clock,
      tags: expect.arrayContaining(['firing', 'cpu', 'incident']),
    });

    // The rest of the day: the incident resolves and its point is overwritten, not added to.
    for (let t = clock; t <= NOW; t += HOUR / 2) {
      clock = t + 60_000;
      await app.scheduler.tick(clock);
    }
    const resolved = await app.registry.incidents.get(firing!.id);
    expect(resolved).toMatchObject({ state: 'resolved', startAt: firing!.startAt });
    expect(resolved!.endAt).toBeGreaterThan(firing!.endAt);
    const after = await points();
    expect(after.filter((p) => p.id === firing!.id)).toEqual([
      expect.objectContaining({
        time: firing!.startAt,
        state: 'resolved',
        end_ms: resolved!.endAt,
        flagged: resolved!.flagged,
        peak_score: resolved!.peakScore,
      }),
    ]);
    // One point per incident of web-1, and every point's id an incident of the registry.
    const stored = await app.registry.incidents.list({ detectorId: 'cpu', entity: 'web-1' });
    expect(after.map((p) => p.id).sort()).toEqual(stored.map((i) => i.id).sort());
    expect(String(after.find((p) => p.id === firing!.id)!.top_metrics)).toMatch(
      /^usage_(user|idle|system) ×\d+/,
    );
  }, 120_000);

  it('returns incidents as regions with their text and tags, anomalies staying the default', async () => {
    const stored = await app.registry.incidents.list({ detectorId: 'cpu', from: NOW - 6 * HOUR, to: NOW });
    const regions = await annotations({ range, kind: 'incidents' });
    expect(regions.map((a) => a.time)).toEqual(stored.map((i) => i.startAt).sort((a, b) => a - b));
    const injected = stored.find(
      (i) => i.entity === 'web-1' && i.startAt <= INCIDENT.from + 10 * 60_000 && i.endAt >= INCIDENT.from,
    )!;
    const region = regions.find((a) => a.time === injected.startAt && a.tags.includes('web-1'))!;
    expect(region).toEqual({
      time: injected.startAt,
      timeEnd: injected.endAt,
      title: `cpu: ${injected.severity} incident on web-1`,
      text: expect.stringMatching(
        /^resolved; peak score 0\.\d{3} at .*; \d+ flagged of \d+ rows; top metrics usage_/,
      ),
      tags: ['isoscope', 'incident', 'cpu', 'web-1', injected.severity, 'resolved'],
    });
    expect(region.timeEnd).toBeGreaterThan(region.time);
    // The InfluxQL annotation query docs/grafana.md gives, its variables filled in as Grafana does.
    const docsQuery = async (from: number, to: number, host: string) => {
      const [found = []] = await client.query(influxAnnotationQuery(from, to, host));
      return found.flatMap((d) => d.values.map(([time, title, , endMs]) => [time, title, endMs]));
    };
    const web1 = stored.filter((i) => i.entity === 'web-1');
    expect(await docsQuery(NOW - 6 * HOUR, NOW, 'web-1')).toEqual(
      web1
        .map((i) => [i.startAt, `cpu: ${i.severity} incident on web-1`, i.endAt])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
    );
    // A range that starts inside the incident: its point (at its start) is before the range, and
    // still the incident shows, as the Isoscope data source shows it; a range after its end does not.
    expect(injected.endAt - injected.startAt).toBeGreaterThanOrEqual(2 * STEP);
    const inside = injected.startAt + STEP;
    expect(await docsQuery(inside, inside + HOUR, 'web-1')).toContainEqual([
      injected.startAt,
      `cpu: ${injected.severity} incident on web-1`,
      injected.endAt,
    ]);
    expect(
      (
        await annotations({
          range: { from: new Date(inside).toISOString(), to: new Date(inside + HOUR).toISOString() },
          kind: 'incidents',
          entity: 'web-1',
        })
      ).map((a) => a.time),
    ).toContain(injected.startAt);
    // $timeFilter alone (the query docs/grafana.md gave before) missed it.
    const [old = []] = await client.query(
      `SELECT "title" FROM "isoscope_incidents" WHERE time >= ${inside}ms and time <= ${inside + HOUR}ms AND "entity" =~ /^web-1$/`,
    );
    expect(old.flatMap((d) => d.values.map(([time]) => time))).not.toContain(injected.startAt);
    const after = injected.endAt + STEP;
    expect((await docsQuery(after, after + HOUR, 'web-1')).map(([time]) => time)).not.toContain(
      injected.startAt,
    );
    // Entity filter: only web-2's.
    const web2 = await annotations({ range, kind: 'incidents', entity: 'web-2' });
    expect(web2.every((a) => a.tags.includes('web-2'))).toBe(true);
    expect(web2).toHaveLength(stored.filter((i) => i.entity === 'web-2').length);
    // Without a kind the route answers as before: runs of flagged rows, tagged without "incident".
    const runs = await annotations({ range, detector: 'cpu' });
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((a) => !a.tags.includes('incident') && /anomaly on/.test(a.title))).toBe(true);
    expect(await annotations({ range, detector: 'cpu', kind: 'anomalies' })).toEqual(runs);
    // A bad kind and an unknown detector are named.
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/grafana/annotations',
      headers: as('viewer'),
      payload: { range, kind: 'alerts' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/kind/);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/grafana/annotations',
      headers: as('viewer'),
      payload: { range, detector: 'nope', kind: 'incidents' },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it("a backfill that moves an incident's start leaves one point, at the new start", async () => {
    const [injected] = (await app.registry.incidents.list({ detectorId: 'cpu', entity: 'web-1' })).filter(
      (i) => i.startAt <= INCIDENT.from + 10 * 60_000 && i.endAt >= INCIDENT.from,
    );
    // Flags two intervals before it, as a backfill scored with another model might find.
    const row = (timeMs: number, anomaly: boolean) => ({
      entity: 'web-1',
      timeMs,
      score: anomaly ? 0.7 : 0.4,
      threshold: 0.6,
      anomaly,
      severity: anomaly ? 'high' : 'none',
      topFeature: 'usage_user',
      modelVersion: 1,
      retrain: 0,
      stage: 'production' as const,
      extra: {},
    });
    const earlier = injected!.startAt - 2 * STEP;
    await app.incidents.record('cpu', [row(earlier, true), row(earlier + STEP, true)], {
      live: false,
      stepMs: STEP,
    });
    const moved = await app.registry.incidents.get(injected!.id);
    expect(moved!.startAt).toBe(earlier);
    expect((await points()).filter((p) => p.id === injected!.id)).toEqual([
      expect.objectContaining({ time: earlier, start_ms: earlier, end_ms: moved!.endAt, state: 'resolved' }),
    ]);
    const regions = await annotations({ range, detector: 'cpu', entity: 'web-1', kind: 'incidents' });
    expect(
      regions.filter((a) => a.time <= INCIDENT.from + 10 * 60_000 && a.timeEnd >= INCIDENT.from),
    ).toEqual([expect.objectContaining({ time: earlier, timeEnd: moved!.endAt })]);
  });
});
