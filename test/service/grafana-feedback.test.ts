import type { FastifyInstance } from 'fastify';
import { startGrafanaStandIn, type GrafanaStandIn } from '../../backend/src/devtools/grafana-standin.js';
import type { IncidentRecord } from '../../backend/src/io/registry/index.js';
import { repoRoot } from '../support/repo.js';
import { as, testApp, TOKENS } from '../support/service.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 1, 12);
const SA_TOKEN = 'glsa_standin_0123456789abcdef';
/** Nothing listens there: these tests never read InfluxDB. */
const NO_INFLUX = 'http://127.0.0.1:9';

function incident(id: string, entity: string, startAt: number, endAt: number): IncidentRecord {
  return {
    id,
    detectorId: 'cpu',
    entity,
    state: 'resolved',
    startAt,
    endAt,
    peakAt: startAt,
    peakScore: 0.72,
    severity: 'high',
    flagged: 4,
    spanRows: 6,
    topMetrics: { usage_user: 4 },
    quietRows: 10,
    recent: [],
    suppressed: false,
    createdAt: NOW - 30 * MIN,
    updatedAt: NOW - 30 * MIN,
  };
}

describe('verdicts from tagged annotations, polled from the Grafana stand-in', () => {
  let grafana: GrafanaStandIn;
  let app: FastifyInstance;

  beforeAll(async () => {
    grafana = await startGrafanaStandIn({
      repoRoot,
      serviceUrl: NO_INFLUX,
      token: TOKENS.admin,
      serviceAccountToken: SA_TOKEN,
    });
    app = await testApp(
      NO_INFLUX,
      'telegraf',
      { grafanaUrl: grafana.url, grafanaToken: SA_TOKEN },
      () => NOW,
    );
    await app.registry.createDetector(
      { id: 'cpu', name: 'cpu', spec: { source: { preset: 'cpu' }, intervalSeconds: 60 } },
      0,
    );
    await app.registry.incidents.put(incident('web1-load', 'web-1', NOW - 60 * MIN, NOW - 40 * MIN));
    await app.registry.incidents.put(incident('web2-blip', 'web-2', NOW - 55 * MIN, NOW - 50 * MIN));
  });

  afterAll(async () => {
    await app?.close();
    await grafana?.close();
  });

  /** An operator's annotation, added in Grafana (Ctrl+click on a panel, tags typed in). */
  const annotate = async (body: object, user = 'ann'): Promise<number> => {
    const r = await fetch(`${grafana.url}/api/annotations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-grafana-user': user },
      body: JSON.stringify({ dashboardUID: 'isoscope-host', panelId: 2, ...body }),
    });
    expect(r.status).toBe(200);
    return ((await r.json()) as { id: number }).id;
  };
  const incidentOf = async (id: string) => {
    const r = await app.inject({ url: `/api/v1/incidents/${id}`, headers: as('viewer') });
    expect(r.statusCode).toBe(200);
    return r.json() as {
      feedback?: { verdict: string; note: string; actor: string };
      history: Array<{ verdict: string; actor: string; withdrawn?: string }>;
    };
  };

  it('records the tag as the verdict of the incident the annotation marks, once, and again when edited', async () => {
    expect(app.annotationFeedback).toBeDefined();
    const id = await annotate({
      time: NOW - 45 * MIN,
      text: 'runaway cron job, ticket OPS-12',
      tags: ['isoscope:real', 'host:web-1'],
    });
    expect(await app.annotationFeedback!.poll()).toMatchObject({ seen: 1, applied: 1, verdicts: 1 });
    expect((await incidentOf('web1-load')).feedback).toEqual({
      verdict: 'real',
      note: 'runaway cron job, ticket OPS-12',
      actor: 'grafana:ann',
      at: new Date(NOW).toISOString(),
    });
    expect((await incidentOf('web2-blip')).feedback).toBeUndefined();

    // Polled again (the next minute, a restart, another replica): nothing added.
    expect(await app.annotationFeedback!.poll()).toMatchObject({ seen: 1, applied: 0 });
    expect((await incidentOf('web1-load')).history).toHaveLength(1);

    // Ann edits the tag in Grafana: the edit is the incident's verdict now; the first is withdrawn,
    // and its history says so.
    const patched = await fetch(`${grafana.url}/api/annotations/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-grafana-user': 'ann' },
      body: JSON.stringify({ tags: ['isoscope:not-anomaly', 'host:web-1'], text: 'the nightly batch' }),
    });
    expect(patched.status).toBe(200);
    expect(await app.annotationFeedback!.poll()).toMatchObject({ applied: 1 });
    const after = await incidentOf('web1-load');
    expect(after.feedback).toMatchObject({ verdict: 'not_anomaly', note: 'the nightly batch' });
    expect(after.history.map((h) => [h.verdict, h.withdrawn])).toEqual([
      ['real', new Date(NOW).toISOString()],
      ['not_anomaly', undefined],
    ]);
  });

  it('marks every incident a region overlaps without scope tags, and lists the verdicts with the incidents', async () => {
    await annotate(
      { time: NOW - 56 * MIN, timeEnd: NOW - 49 * MIN, text: 'failover drill', tags: ['isoscope:expected'] },
      'bob',
    );
    expect(await app.annotationFeedback!.poll()).toMatchObject({ applied: 1, verdicts: 2 });
    expect((await incidentOf('web2-blip')).feedback).toMatchObject({
      verdict: 'expected',
      actor: 'grafana:bob',
    });
    // Written after Ann's edit, Bob's verdict is web-1's latest too.
    expect((await incidentOf('web1-load')).feedback).toMatchObject({ verdict: 'expected' });
    const listed = await app.inject({ url: '/api/v1/incidents?detector=cpu', headers: as('viewer') });
    expect(
      (listed.json() as Array<{ id: string; feedback?: { verdict: string } }>).map((i) => [
        i.id,
        i.feedback?.verdict,
      ]),
    ).toEqual([
      ['web2-blip', 'expected'],
      ['web1-load', 'expected'],
    ]);
  });

  it('leaves an annotation over no incident for a later poll, and ignores annotations without a verdict tag', async () => {
    await annotate({ time: NOW - 5 * MIN, tags: ['isoscope:real', 'host:db-1'] });
    await annotate({ time: NOW - 45 * MIN, tags: ['deploy'] });
    expect(await app.annotationFeedback!.poll()).toMatchObject({ applied: 0, unmatched: 1 });
    await app.registry.incidents.put(incident('db1-late', 'db-1', NOW - 6 * MIN, NOW - 4 * MIN));
    expect(await app.annotationFeedback!.poll()).toMatchObject({ applied: 1, unmatched: 0 });
    expect((await incidentOf('db1-late')).feedback).toMatchObject({ verdict: 'real' });
  });

  it("withdraws an annotation's verdicts when it is deleted or loses its verdict tag in Grafana, never the UI's", async () => {
    await app.registry.incidents.put(incident('web3-spike', 'web-3', NOW - 20 * MIN, NOW - 15 * MIN));
    await app.registry.incidents.put(incident('web4-spike', 'web-4', NOW - 20 * MIN, NOW - 15 * MIN));
    const give = (incidentId: string, verdict: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/incidents/${incidentId}/feedback`,
        headers: as('editor'),
        payload: { verdict, note: 'checked by hand' },
      });
    // web-3: a verdict in the UI, then an annotation's. web-4: an annotation's only.
    expect((await give('web3-spike', 'expected')).statusCode).toBe(201);
    const on3 = await annotate({ time: NOW - 17 * MIN, tags: ['isoscope:real', 'host:web-3'] });
    const on4 = await annotate({ time: NOW - 17 * MIN, tags: ['isoscope:not-anomaly', 'host:web-4'] });
    expect(await app.annotationFeedback!.poll()).toMatchObject({ applied: 2, withdrawn: 0 });
    expect((await incidentOf('web3-spike')).feedback).toMatchObject({ verdict: 'real' });
    expect((await incidentOf('web4-spike')).feedback).toMatchObject({ verdict: 'not_anomaly' });

    // Deleted in Grafana: web-3's verdict is the UI's again.
    const deleted = await fetch(`${grafana.url}/api/annotations/${on3}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    // The verdict tag removed, another tag kept: web-4 has no verdict any more.
    const untagged = await fetch(`${grafana.url}/api/annotations/${on4}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-grafana-user': 'ann' },
      body: JSON.stringify({ tags: ['host:web-4'] }),
    });
    expect(untagged.status).toBe(200);
    expect(await app.annotationFeedback!.poll()).toMatchObject({ applied: 0, withdrawn: 2 });
    const three = await incidentOf('web3-spike');
    expect(three.feedback).toMatchObject({
      verdict: 'expected',
      actor: 'test editor',
      note: 'checked by hand',
    });
    expect(three.history.map((h) => [h.verdict, h.withdrawn !== undefined])).toEqual([
      ['expected', false],
      ['real', true],
    ]);
    expect((await incidentOf('web4-spike')).feedback).toBeUndefined();
    // Nothing more to withdraw on the next poll; the UI's verdict is untouched throughout.
    expect(await app.annotationFeedback!.poll()).toMatchObject({ withdrawn: 0 });
    expect((await incidentOf('web3-spike')).feedback).toMatchObject({ verdict: 'expected' });
  });

  it("names Grafana's refusal of a wrong token, and is off without Grafana's URL and token", async () => {
    const wrong = await testApp(NO_INFLUX, 'telegraf', {
      grafanaUrl: grafana.url,
      grafanaToken: 'not-the-token',
    });
    try {
      await expect(wrong.annotationFeedback!.poll()).rejects.toThrow(
        /Grafana answered 401 to GET \/api\/annotations \(check ISOSCOPE_GRAFANA_TOKEN/,
      );
    } finally {
      await wrong.close();
    }
    const off = await testApp(NO_INFLUX, 'telegraf', { grafanaUrl: grafana.url });
    try {
      expect(off.annotationFeedback).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});
