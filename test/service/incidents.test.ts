import type { FastifyInstance } from 'fastify';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';
import { cpuFleetLines, trainedCpuDetector } from '../support/cpu-fleet.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
const STEP = 300_000;
/** The incident: web-1's cpu pinned for 40 minutes, three hours ago. */
const INCIDENT = { from: NOW - 3 * HOUR, to: NOW - 3 * HOUR + 40 * 60_000 };

interface IncidentBody {
  id: string;
  detector: string;
  entity: string;
  state: string;
  start: string;
  end: string;
  peak: string;
  peakScore: number;
  severity: string;
  flagged: number;
  rows: number;
  topMetrics: Array<{ metric: string; count: number }>;
  suppressed: boolean;
  suppressedBy?: { rule: string; reason: string };
  feedback?: { verdict: string; note: string; actor: string; at: string };
}

describe('incidents from live scoring, read, filtered, explained and labelled through the API (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = NOW;
  let ruleId = '';

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    await client.write(cpuFleetLines(NOW, INCIDENT));
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    // Train on the two days before the last one, and promote.
    await trainedCpuDetector(app, NOW - 24 * HOUR);
    // Maintenance on web-1 around the incident: it is recorded, but suppressed.
    const rule = await app.inject({
      method: 'POST',
      url: '/api/v1/suppressions',
      headers: as('editor'),
      payload: {
        detector: 'cpu',
        entity: 'web-1',
        kind: 'period',
        from: new Date(INCIDENT.from - HOUR).toISOString(),
        to: new Date(INCIDENT.to + HOUR).toISOString(),
        reason: 'planned load test',
      },
    });
    expect(rule.statusCode).toBe(201);
    ruleId = rule.json().id;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  const list = async (query = ''): Promise<IncidentBody[]> => {
    const r = await app.inject({ url: `/api/v1/incidents${query}`, headers: as('viewer') });
    expect(r.statusCode).toBe(200);
    return r.json();
  };

  it('groups the live scoring of the last day into incidents, the injected one resolved with its peak inside it', async () => {
    expect(await list()).toEqual([]);
    // Live scoring catches up a day, interval by interval, as the scheduler does.
    for (let t = NOW - 23 * HOUR; t <= NOW; t += HOUR) {
      clock = t + 60_000;
      await app.scheduler.tick(clock);
    }
    const all = await list();
    const injected = all.find(
      (i) =>
        i.entity === 'web-1' &&
        Date.parse(i.start) <= INCIDENT.from + 10 * 60_000 &&
        Date.parse(i.end) >= INCIDENT.from,
    );
    expect(injected).toMatchObject({ detector: 'cpu', state: 'resolved', suppressed: true });
    // The incident names the rule that kept it quiet, and its reason.
    expect(injected!.suppressedBy).toEqual({ rule: ruleId, reason: 'planned load test' });
    for (const i of all) expect(i.suppressedBy !== undefined).toBe(i.suppressed);
    // Only incidents inside the rule are suppressed.
    for (const i of all)
      if (
        i.entity !== 'web-1' ||
        Date.parse(i.start) >= INCIDENT.to + HOUR ||
        Date.parse(i.end) < INCIDENT.from - HOUR
      )
        expect(i.suppressed).toBe(false);
    expect(Date.parse(injected!.peak)).toBeGreaterThanOrEqual(INCIDENT.from);
    expect(Date.parse(injected!.peak)).toBeLessThan(INCIDENT.to + 2 * STEP);
    expect(injected!.flagged).toBeGreaterThanOrEqual(5);
    expect(injected!.rows).toBeGreaterThanOrEqual(injected!.flagged);
    expect(injected!.peakScore).toBeGreaterThan(0.5);
    expect(injected!.topMetrics[0]!.metric).toMatch(/^usage_(user|idle|system)/);
    expect(injected!.topMetrics.reduce((n, m) => n + m.count, 0)).toBe(injected!.flagged);
    // Every incident is one stretch of one entity's flags, newest first.
    const starts = all.map((i) => Date.parse(i.start));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));

    // Explaining the incident is explaining its peak.
    const explained = await app.inject({
      url: `/api/v1/detectors/cpu/explain?entity=web-1&time=${injected!.peak}`,
      headers: as('viewer'),
    });
    expect(explained.statusCode).toBe(200);
    expect(explained.json()).toMatchObject({ entity: 'web-1', anomaly: true });

    const detail = await app.inject({ url: `/api/v1/incidents/${injected!.id}`, headers: as('viewer') });
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toEqual({ ...injected, history: [] });
  }, 120_000);

  it('filters by detector, entity, severity, state and time', async () => {
    const all = await list();
    const web1 = all.filter((i) => i.entity === 'web-1');
    expect(await list('?entity=web-1')).toEqual(web1);
    expect(await list('?detector=cpu&entity=web-2')).toEqual(all.filter((i) => i.entity === 'web-2'));
    expect(await list('?state=firing')).toEqual(all.filter((i) => i.state === 'firing'));
    expect(await list('?severity=critical')).toEqual(all.filter((i) => i.severity === 'critical'));
    const rank = ['low', 'medium', 'high', 'critical'];
    expect(await list('?severity=medium')).toEqual(all.filter((i) => rank.indexOf(i.severity) >= 1));
    const from = new Date(INCIDENT.from).toISOString();
    const to = new Date(INCIDENT.to).toISOString();
    expect(await list(`?from=${from}&to=${to}`)).toEqual(
      all.filter((i) => Date.parse(i.end) >= INCIDENT.from && Date.parse(i.start) < INCIDENT.to),
    );
    expect(await list('?limit=1')).toEqual(all.slice(0, 1));
    // Bad filters are named; an unknown detector is a 404.
    const bad = await app.inject({ url: '/api/v1/incidents?state=open', headers: as('viewer') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/state/);
    const backwards = await app.inject({
      url: `/api/v1/incidents?from=${to}&to=${from}`,
      headers: as('viewer'),
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().message).toContain('querystring/to must be after querystring/from');
    const unknown = await app.inject({ url: '/api/v1/incidents?detector=nope', headers: as('viewer') });
    expect(unknown.statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/incidents/nope', headers: as('viewer') })).statusCode).toBe(404);
  });

  it('a backfill over the same day finds the same incidents instead of adding copies', async () => {
    const before = await list();
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/backfill',
      headers: as('editor'),
      payload: { from: new Date(NOW - 24 * HOUR).toISOString(), to: new Date(NOW).toISOString() },
    });
    expect(started.statusCode).toBe(202);
    await app.jobs.finished(started.json().id);
    const job = await app.inject({ url: `/api/v1/jobs/${started.json().id}`, headers: as('viewer') });
    expect(job.json()).toMatchObject({ state: 'succeeded' });
    const after = await list();
    expect(after.map((i) => [i.id, i.entity, i.start, i.end, i.flagged])).toEqual(
      before.map((i) => [i.id, i.entity, i.start, i.end, i.flagged]),
    );
  }, 120_000);

  it('records verdicts with their actor and note; the latest is the incident’s', async () => {
    const [first] = await list('?entity=web-1');
    const post = (verdict: string, note?: string, role: 'viewer' | 'editor' = 'editor') =>
      app.inject({
        method: 'POST',
        url: `/api/v1/incidents/${first!.id}/feedback`,
        headers: as(role),
        payload: { verdict, ...(note !== undefined ? { note } : {}) },
      });
    expect((await post('real', 'runaway cron', 'viewer')).statusCode).toBe(403);
    expect((await post('maybe')).statusCode).toBe(400);
    const given = await post('expected', 'load test');
    expect(given.statusCode).toBe(201);
    expect(given.json()).toMatchObject({ verdict: 'expected', note: 'load test', actor: 'test editor' });
    await post('real');
    const detail = (
      await app.inject({ url: `/api/v1/incidents/${first!.id}`, headers: as('viewer') })
    ).json();
    expect(detail.feedback).toMatchObject({ verdict: 'real', note: '' });
    expect(detail.history.map((f: { verdict: string }) => f.verdict)).toEqual(['expected', 'real']);
    expect((await list('?entity=web-1'))[0]!.feedback).toMatchObject({ verdict: 'real' });
    const missing = await app.inject({
      method: 'POST',
      url: '/api/v1/incidents/nope/feedback',
      headers: as('editor'),
      payload: { verdict: 'real' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe("no incident 'nope'");
  });

  it('exports the verdicts as labels that isoscope evaluate reads', async () => {
    const all = await list();
    const injected = all.find(
      (i) =>
        i.entity === 'web-1' &&
        Date.parse(i.start) <= INCIDENT.from + 10 * 60_000 &&
        Date.parse(i.end) >= INCIDENT.from,
    )!;
    for (const i of all)
      await app.inject({
        method: 'POST',
        url: `/api/v1/incidents/${i.id}/feedback`,
        headers: as('editor'),
        payload: { verdict: i.id === injected.id ? 'real' : 'not_anomaly' },
      });
    const range = `from=${new Date(NOW - 24 * HOUR).toISOString()}&to=${new Date(NOW).toISOString()}`;
    const r = await app.inject({
      url: `/api/v1/incidents/labels?detector=cpu&${range}`,
      headers: as('viewer'),
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...lines] = r.body.trim().split('\n');
    expect(header).toBe('time,entity,score,threshold,is_anomaly,label');
    // Every production row of the day, both hosts; 1 exactly inside the incident judged real.
    expect(lines).toHaveLength(2 * 288);
    const positives = lines.filter((l) => l.endsWith(',1'));
    expect(positives.length).toBe(injected.rows);
    for (const l of positives) {
      const [time, entity] = l.split(',');
      expect(entity).toBe('web-1');
      expect(Date.parse(time!)).toBeGreaterThanOrEqual(Date.parse(injected.start));
      expect(Date.parse(time!)).toBeLessThanOrEqual(Date.parse(injected.end));
    }
    const file = join(scratchDir('labels'), 'labels.csv');
    writeFileSync(file, r.body);
    const evaluated = isoscope([
      'evaluate',
      '--scores',
      file,
      '--labels',
      file,
      '--series-column',
      'entity',
      '--json',
    ]);
    expect(evaluated.stderr).toBe('');
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.stdout);
    // The one labelled incident is found, at its first row.
    expect(report.operator).toMatchObject({ incidents: 1, found: 1 });

    const bad = await app.inject({ url: `/api/v1/incidents/labels?detector=cpu`, headers: as('viewer') });
    expect(bad.statusCode).toBe(400);
  });

  it('keeps suppression rules: listed as written, refused with the field named, deleted', async () => {
    const add = (payload: object) =>
      app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as('editor'), payload });
    const nightly = await add({
      metric: 'usage_iowait',
      kind: 'daily',
      from: '23:30',
      to: '01:00',
      reason: 'backups',
    });
    expect(nightly.statusCode).toBe(201);
    expect(nightly.json()).toMatchObject({
      metric: 'usage_iowait',
      kind: 'daily',
      from: '23:30',
      to: '01:00',
      actor: 'test editor',
    });
    const weekly = await add({
      entity: 'db-1',
      kind: 'weekly',
      from: 'sat 22:00',
      to: 'Sun 06:00',
      reason: 'vacuum',
    });
    expect(weekly.json()).toMatchObject({ from: 'Sat 22:00', to: 'Sun 06:00' });
    const listed = (await app.inject({ url: '/api/v1/suppressions', headers: as('viewer') })).json();
    // The test's clock stands still, so the three share a creation time and come back in id order.
    expect(listed.map((r: { reason: string }) => r.reason).sort()).toEqual([
      'backups',
      'planned load test',
      'vacuum',
    ]);
    for (const [payload, message] of [
      [{ kind: 'daily', from: '25:00', to: '01:00', reason: 'x' }, "body/from '25:00' is not a time of day"],
      [{ kind: 'weekly', from: 'Someday 01:00', to: 'Sun 01:00', reason: 'x' }, 'body/from'],
      [
        { kind: 'period', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z', reason: 'x' },
        'body/to must be after body/from',
      ],
      [{ kind: 'daily', from: '01:00', to: '01:00', reason: 'x' }, 'empty window'],
    ] as const) {
      const r = await add(payload);
      expect(r.statusCode).toBe(400);
      expect(r.json().message).toContain(message);
    }
    expect(
      (await add({ detector: 'nope', kind: 'daily', from: '01:00', to: '02:00', reason: 'x' })).statusCode,
    ).toBe(404);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/suppressions/${weekly.json().id}`,
      headers: as('editor'),
    });
    expect(del.statusCode).toBe(204);
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/suppressions/${weekly.json().id}`,
          headers: as('editor'),
        })
      ).statusCode,
    ).toBe(404);
  });
});
