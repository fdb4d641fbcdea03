import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { startLocalAlertmanager, type LocalAlertmanager } from '../../backend/src/devtools/alertmanager.js';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { signature } from '../../backend/src/io/alerts/index.js';
import type { ScoredRow } from '../../backend/src/service/application/runtime.js';
import { testApp } from '../support/service.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const spec = {
  source: { preset: 'cpu' },
  intervalSeconds: 60,
  features: {},
  model: {},
  trainingWindowHours: 168,
  schedule: { scoreEverySeconds: 60, retrainOnDrift: true },
  alerting: { window: 5, minAnomalous: 3, cooldownMinutes: 30 },
};

function rows(entity: string, flags: number[], start = T0): ScoredRow[] {
  return flags.map((f, i) => ({
    entity,
    timeMs: start + i * MIN,
    score: f ? 0.7 + i / 1000 : 0.4,
    anomaly: f === 1,
    severity: f ? (i === 3 ? 'critical' : 'medium') : 'none',
    threshold: 0.6,
    modelVersion: 1,
    retrain: 1,
    stage: 'production' as const,
    extra: {},
    ...(f
      ? {
          top: [
            { feature: 'usage_user', share: 0.6 },
            { feature: 'usage_idle', share: 0.3 },
          ],
        }
      : {}),
  }));
}

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  endsAt: string;
  status: { state: string };
}

describe('alerting to a real Alertmanager and a signed webhook', () => {
  let am: LocalAlertmanager;
  let hook: Server;
  let hookPort: number;
  const received: Array<{ body: string; signature: string | undefined }> = [];
  let app: FastifyInstance;

  const startHook = (port: number): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ body, signature: req.headers['x-isoscope-signature'] as string | undefined });
          res.writeHead(204).end();
        });
      });
      server.listen(port, '127.0.0.1', () => resolve(server));
    });

  beforeAll(async () => {
    am = await startLocalAlertmanager();
    hookPort = await freePort();
    hook = await startHook(hookPort);
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'x', {
      alertmanagerUrl: am.url,
      webhookUrl: `http://127.0.0.1:${hookPort}/isoscope`,
      webhookSecret: 'shared-secret',
      // With the user and password the service would read verdicts with, which no link may show.
      grafanaUrl: 'https://ops:s3cret@grafana.example.com/grafana/',
    });
    await app.registry.createDetector({ id: 'cpu', name: 'cpu', spec }, 0);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await am?.stop();
    await new Promise((r) => hook?.close(r));
  });

  const active = async (): Promise<AmAlert[]> =>
    ((await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AmAlert[]).filter(
      (a) => a.status.state === 'active',
    );

  it('fires on 3 anomalous points of 5, once, with labels Alertmanager groups by, and the top contributions', async () => {
    const events = await app.alerts.process('cpu', spec as never, rows('web-1', [0, 1, 0, 1, 1, 1, 1]));
    expect(events.map((e) => e.status)).toEqual(['firing']);
    await app.alerts.queue.settled();
    const alerts = await active();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.labels).toEqual({
      alertname: 'IsoscopeAnomaly',
      detector: 'cpu',
      entity: 'web-1',
      severity: 'medium',
    });
    expect(alerts[0]!.annotations.description).toBe('usage_user 60%, usage_idle 30%');
    // An absolute link to the Explanation page in Grafana (ISOSCOPE_GRAFANA_URL), without its
    // password, at the row that made it fire (epoch ms, which the page reads).
    expect(alerts[0]!.annotations.drilldown).toBe(
      `https://grafana.example.com/grafana/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=${T0 + 4 * MIN}`,
    );
    expect(alerts[0]!.generatorURL).toBe(alerts[0]!.annotations.drilldown);
    // The webhook got the same event, signed with the shared secret, with the same absolute link.
    const last = received.at(-1)!;
    expect(last.signature).toBe(signature('shared-secret', last.body));
    expect(JSON.parse(last.body).alerts[0]).toMatchObject({
      status: 'firing',
      detector: 'cpu',
      entity: 'web-1',
      link: alerts[0]!.annotations.drilldown,
    });
  });

  it('keeps state across calls (no second page while firing) and resolves when the window is clean', async () => {
    const more = await app.alerts.process('cpu', spec as never, rows('web-1', [1, 1], T0 + 7 * MIN));
    expect(more).toEqual([]);
    const resolved = await app.alerts.process(
      'cpu',
      spec as never,
      rows('web-1', [0, 0, 0, 0, 0], T0 + 9 * MIN),
    );
    expect(resolved.map((e) => [e.status, e.endsAt])).toEqual([['resolved', T0 + 13 * MIN]]);
    await app.alerts.queue.settled();
    expect(await active()).toEqual([]); // endsAt in the past: Alertmanager no longer counts it active
    expect(JSON.parse(received.at(-1)!.body).alerts[0]).toMatchObject({
      status: 'resolved',
      endsAt: new Date(T0 + 13 * MIN).toISOString(),
    });
  });

  it('waits out the cooldown before paging the same entity again; other entities are separate', async () => {
    const soon = await app.alerts.process('cpu', spec as never, rows('web-1', [1, 1, 1], T0 + 20 * MIN));
    expect(soon).toEqual([]);
    const other = await app.alerts.process('cpu', spec as never, rows('web-2', [1, 1, 1], T0 + 20 * MIN));
    expect(other.map((e) => e.entity)).toEqual(['web-2']);
    await app.alerts.queue.settled();
  });

  it('sends a detector its alerts only to the receivers it names', async () => {
    const hookOnly = { ...spec, alerting: { ...spec.alerting, receivers: ['webhook'] } };
    const before = received.length;
    const events = await app.alerts.process(
      'cpu',
      hookOnly as never,
      rows('web-7', [1, 1, 1], T0 + 50 * MIN),
    );
    expect(events.map((e) => e.entity)).toEqual(['web-7']);
    await app.alerts.queue.settled();
    expect(received.slice(before).map((r) => JSON.parse(r.body).alerts[0].entity)).toEqual(['web-7']);
    expect((await active()).map((a) => a.labels.entity)).not.toContain('web-7');
  });

  it('counts only points at least as severe as the rule asks', async () => {
    const strict = { ...spec, alerting: { ...spec.alerting, minSeverity: 'critical' } };
    // Three anomalous points, only one of them (the fourth, i = 3) critical: no alert.
    expect(
      await app.alerts.process('cpu', strict as never, rows('web-3', [1, 1, 1, 1, 0], T0 + 60 * MIN)),
    ).toEqual([]);
  });

  it('keeps alerts while the webhook is down and delivers them when it is back', async () => {
    await new Promise((r) => hook.close(r));
    const before = received.length;
    await app.alerts.process('cpu', spec as never, rows('db-1', [1, 1, 1], T0 + 40 * MIN));
    await new Promise((r) => setTimeout(r, 1500));
    expect(app.alerts.queue.stats.get('webhook')!.failedAttempts).toBeGreaterThan(0);
    hook = await startHook(hookPort);
    await app.alerts.queue.settled();
    expect(received.length).toBe(before + 1);
    expect(JSON.parse(received.at(-1)!.body).alerts[0]).toMatchObject({ entity: 'db-1', status: 'firing' });
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(
      /^isoscope_alert_deliveries_total\{receiver="webhook",outcome="failed"\} [1-9]\d*$/m,
    );
    expect(metrics).toMatch(
      /^isoscope_alert_deliveries_total\{receiver="alertmanager",outcome="delivered"\} [1-9]\d*$/m,
    );
  }, 30_000);

  it('keeps undelivered alerts across a restart and sends them when the service is back', async () => {
    const { buildApp } = await import('../../backend/src/service/app.js');
    await new Promise((r) => hook.close(r));
    await app.alerts.process('cpu', spec as never, rows('db-2', [1, 1, 1], T0 + 90 * MIN));
    await new Promise((r) => setTimeout(r, 300));
    const waiting = await app.registry.listOutbox('webhook');
    expect(waiting.map((w) => (JSON.parse(w.event) as { entity: string }).entity)).toContain('db-2');
    // The service stops with the webhook still down, and starts again once it is back.
    const config = app.config;
    await app.close();
    const before = received.length;
    hook = await startHook(hookPort);
    app = await buildApp({ config, scheduler: false });
    await new Promise((r) => setTimeout(r, 200));
    await app.alerts.queue.settled();
    const entities = received
      .slice(before)
      .flatMap((r) =>
        (JSON.parse(r.body) as { alerts: Array<{ entity: string }> }).alerts.map((a) => a.entity),
      );
    expect(entities).toContain('db-2');
    expect(await app.registry.listOutbox('webhook')).toEqual([]);
  }, 30_000);
});
