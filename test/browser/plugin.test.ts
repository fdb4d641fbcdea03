import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateWorkload } from '../../backend/src/demo/workload.js';
import { telegrafLines } from '../../backend/src/demo/telegraf.js';
import type { InfluxV1Client } from '../../backend/src/io/influx/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { TOKENS, testApp } from '../support/service.js';
import {
  buildPreview,
  startGrafanaStandIn,
  type GrafanaStandIn,
} from '../../backend/src/devtools/grafana-standin.js';
import { repoRoot } from '../support/repo.js';

const OUT = 'test/browser/out';
const MINUTE = 60_000;

/**
 * The Grafana plugin in a real browser (Debian's Chromium), against the real service and a real
 * influxd holding three hosts' Telegraf metrics with incidents. Grafana's server cannot run here:
 * the preview page (plugin/preview/) mounts the plugin with the real @grafana/* packages, and a
 * stand-in server plays Grafana's data source proxy (the routes of the plugin.json, the token added
 * server-side).
 */
describe('the plugin in Chromium, with a stand-in for Grafana’s server', () => {
  let influx: TestInflux;
  let db: InfluxV1Client;
  let app: FastifyInstance;
  let grafana: GrafanaStandIn;
  let browser: Browser;
  let page: Page;
  // The service's clock: at the end of the training week while training, then the present.
  let now = 0;
  // Uncaught errors in the page: a crash leaves a blank page, so each is reported with its stack.
  const pageErrors: string[] = [];
  const w = generateWorkload({ hosts: 3, seed: 7 });
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  w.startMs = end - w.minutes * w.stepMs;
  const trainEnd = w.startMs + w.trainMinutes * w.stepMs;

  const shot = (name: string) => page.screenshot({ path: `${OUT}/plugin-${name}.png`, fullPage: true });
  const api = async <T>(path: string): Promise<T> => {
    const response = await app.inject({
      method: 'GET',
      url: path,
      headers: { authorization: `Bearer ${TOKENS.admin}` },
    });
    return response.json() as T;
  };

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    buildPreview(repoRoot);
    influx = await startTestInflux();
    db = await influx.client();
    for (const batch of telegrafLines(w)) {
      await db.write(batch);
    }
    now = trainEnd;
    app = await testApp(influx.server.url, db.database, {}, () => now);
    const serviceUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    grafana = await startGrafanaStandIn({ repoRoot, serviceUrl, token: TOKENS.admin });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
  }, 240_000);

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await grafana?.close();
    await app?.close();
    await influx?.server.stop();
  });

  it('creates a detector from a Telegraf preset with a live preview', async () => {
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/detectors/new`);
    await page.getByLabel(/^Name/).fill('cpu hosts');
    await page.getByRole('button', { name: 'Preview data' }).click();
    await page.getByRole('img', { name: 'web-1 usage_user' }).waitFor();
    await shot('detector-editor');
    await page.getByRole('button', { name: 'Create detector' }).click();
    await page.waitForURL(/\/detectors\/cpu-hosts$/);
    await page.waitForTimeout(3000);
    await shot('detector');
    await page.getByRole('heading', { name: 'cpu hosts' }).waitFor();
  });

  it('trains with progress, says which hosts are not scored, and promotes them all with one reason', async () => {
    await page.getByRole('button', { name: 'Train' }).click();
    await page.getByRole('cell', { name: 'succeeded' }).waitFor({ timeout: 120_000 });
    await shot('training');
    // Training makes candidates: the page says nothing scores the hosts yet, and offers the fix.
    await page.getByText('3 of 3 entities are not scored yet: db-1, web-1, web-2').waitFor();
    await page.getByRole('tab', { name: 'Model versions' }).click();
    await shot('not-scored');
    await page.getByRole('button', { name: 'Promote the newest version of each (3)' }).click();
    await page.getByLabel(/^Reason/).fill('first models');
    await page.getByRole('button', { name: 'Move to production' }).click();
    for (const host of ['db-1', 'web-1', 'web-2']) {
      await page
        .getByRole('rowgroup', { name: `Models of ${host}` })
        .getByText('production')
        .waitFor();
    }
    expect(await page.getByText(/not scored yet/).count()).toBe(0);
    // One table, grouped by host, not one table per host.
    expect(await page.getByRole('table', { name: 'Model versions' }).count()).toBe(1);
    await shot('models');
    const versions = await api<Array<{ entity: string; stage: string }>>(
      '/api/v1/detectors/cpu-hosts/models',
    );
    expect(versions.map((v) => `${v.entity} ${v.stage}`).sort()).toEqual([
      'db-1 production',
      'web-1 production',
      'web-2 production',
    ]);
    // Health: every host scored by its own v1, on the detector page and in the list's Health column.
    const health = page.getByRole('region', { name: 'Health' });
    await health.getByText('3 of 3 entities scored').waitFor();
    // Every host is fine, so the per-entity table waits behind one click.
    await health.getByRole('button', { name: 'Each entity (3)' }).click();
    await health.getByRole('cell', { name: 'v1', exact: true }).nth(2).waitFor();
    expect(await health.getByRole('cell', { name: 'v1', exact: true }).count()).toBe(3);
    await shot('health');
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/detectors`);
    await page
      .getByRole('row', { name: /cpu hosts/ })
      .getByText('scoring')
      .waitFor();
    await shot('detectors');
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/detectors/cpu-hosts`);
    await page.getByRole('heading', { name: 'cpu hosts' }).waitFor();
  });

  it('promotes a second version and rolls it back', async () => {
    await page.getByRole('button', { name: 'Train' }).click();
    await page.getByRole('tab', { name: 'Training runs' }).click();
    await page.getByRole('cell', { name: 'succeeded' }).nth(1).waitFor({ timeout: 120_000 });
    await page.getByRole('tab', { name: 'Model versions' }).click();
    // Versions are numbered per detector: web-1 has its first and its newest, newest on top.
    const web1 = page.getByRole('rowgroup', { name: 'Models of web-1' });
    const [newest, first] = [web1.getByRole('row').nth(0), web1.getByRole('row').nth(1)];
    await newest.getByRole('button', { name: 'Promote' }).click();
    await page.getByLabel(/^Reason/).fill('try the retrained model');
    await page.getByRole('button', { name: 'Move to production' }).click();
    await newest.getByText('production').waitFor();
    await web1.getByRole('button', { name: 'Roll back' }).click();
    await page.getByLabel(/^Reason/).fill('v2 pages too often');
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
    await first.getByText('production').waitFor();
    expect(await newest.getByText('production').count()).toBe(0);
    await page.getByRole('tab', { name: 'Stage history' }).click();
    const rollback = page.getByRole('row', { name: /v2 pages too often/ });
    await rollback.waitFor();
    // The history names the host of each change.
    expect(await rollback.getByRole('cell').nth(1).innerText()).toBe('web-1');
    await shot('history');
  });

  it('backfills the incident days and shows anomalies on the panel; a click explains one', async () => {
    now = Date.now();
    await page.getByRole('tab', { name: 'Training runs' }).click();
    await page.getByRole('radio', { name: '2 d' }).click();
    await page.getByRole('button', { name: 'Backfill' }).click();
    await page.getByRole('row', { name: /backfill succeeded/ }).waitFor({ timeout: 120_000 });
    // The detector page starts with its results: a timeline per host.
    await page.getByRole('tab', { name: 'Results' }).click();
    await page.getByRole('radio', { name: '7 days' }).click();
    await page.getByTestId('isoscope-timeline-web-1').locator('canvas').first().waitFor();
    await page.getByLabel('Legend of web-1').waitFor();
    await shot('results');

    const anomalies = await api<Array<{ entity: string }>>(
      `/api/v1/detectors/cpu-hosts/anomalies?from=${new Date(trainEnd).toISOString()}&to=${new Date(end).toISOString()}`,
    );
    expect(anomalies.length).toBeGreaterThan(0);
    const counts = new Map<string, number>();
    for (const a of anomalies) counts.set(a.entity, (counts.get(a.entity) ?? 0) + 1);
    const host = [...counts].sort((a, b) => b[1] - a[1])[0]![0];

    await page.goto(
      `${grafana.url}/preview/panel?detector=cpu-hosts&entity=${host}&from=${trainEnd}&to=${end}`,
    );
    const chips = page.getByRole('button', { name: /low|medium|high|critical/ });
    await chips.first().waitFor();
    expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(2);
    // The hover line: score and severity under the cursor.
    const box = (await page.locator('.u-over').first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.getByTestId('isoscope-hover-score').first().waitFor();
    await shot('panel');

    await chips.last().click();
    await page.waitForURL(/\/a\/isoscope-anomaly-app\/explain\?detector=cpu-hosts/);
    await page.getByRole('list', { name: 'Feature contributions' }).waitFor();
    const bars = await page
      .getByRole('list', { name: 'Feature contributions' })
      .getByRole('listitem')
      .count();
    expect(bars).toBeGreaterThan(0);
    await page
      .getByRole('img', { name: /around the anomaly/ })
      .first()
      .waitFor();
    // Every host is scored by its own first version (web-1's second was rolled back): v1, not the registry id.
    await page.getByTestId('model-version').filter({ hasText: /^v1$/ }).waitFor();
    await shot('explain');
  });

  it('shows the overview and the explorer swimlane with the day’s anomalies', async () => {
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/overview`);
    await page
      .getByRole('region', { name: 'Most anomalous entities' })
      .getByRole('link', { name: 'Explain the peak' })
      .first()
      .waitFor();
    // Led by incidents: what fires now, then the day's.
    await page.getByRole('region', { name: 'Firing now' }).waitFor();
    await page.getByRole('region', { name: 'Incidents in the last 24 hours' }).waitFor();
    await shot('overview');
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/explorer`);
    await page.getByRole('radio', { name: '7 days' }).click();
    const anomalous = page.getByRole('gridcell', { name: /anomalous$/ });
    await anomalous.first().waitFor();
    expect(await page.getByLabel('Time axis').innerText()).toMatch(/\d\d\/\d\d/);
    await page.getByLabel('Legend').waitFor();
    // Refresh reads the scores again; its icon is drawn (it was a blank square).
    const refresh = page.getByRole('button', { name: 'Refresh' });
    await refresh.locator('svg').waitFor();
    await refresh.click();
    await anomalous.first().waitFor();
    await page.mouse.move(1, 1);
    await shot('explorer');
    await anomalous.first().click();
    await page.waitForURL(/\/explain\?/);
  });

  it('lists the incidents, filters them, takes a verdict and explains an incident at its peak', async () => {
    const listed = await api<Array<{ id: string; entity: string; peak: string }>>(
      `/api/v1/incidents?detector=cpu-hosts&from=${new Date(trainEnd).toISOString()}&to=${new Date(end).toISOString()}`,
    );
    expect(listed.length).toBeGreaterThan(0);
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/incidents`);
    const rows = page.getByRole('row', { name: /resolved|firing/ });
    await rows.first().waitFor();
    expect(await rows.count()).toBe(listed.length);
    await page.mouse.move(1, 1);
    await shot('incidents');
    // Filtered to one host: only its incidents, and the filter is in the address.
    const host = listed[0]!.entity;
    await page.getByPlaceholder('All entities').fill(host);
    await page.getByPlaceholder('All entities').press('Enter');
    await page.waitForURL(new RegExp(`entity=${host}`));
    const own = listed.filter((i) => i.entity === host);
    // The table reloads with the filter: wait until it shows as many rows as the host has.
    for (let i = 0; i < 100 && (await rows.count()) !== own.length; i++) await page.waitForTimeout(100);
    expect(await rows.count()).toBe(own.length);
    const first = rows.first();
    await first.getByLabel('Note').fill('injected by the workload');
    await first.getByRole('button', { name: 'Real' }).click();
    await first.getByText('Real', { exact: true }).nth(1).waitFor();
    const detail = await api<{ feedback?: { verdict: string; note: string; actor: string } }>(
      `/api/v1/incidents/${own[0]!.id}`,
    );
    expect(detail.feedback).toMatchObject({ verdict: 'real', note: 'injected by the workload' });
    await first.getByRole('link', { name: 'Explain' }).click();
    await page.waitForURL(/\/explain\?.*incident=/);
    await page
      .getByRole('region', { name: 'Incident' })
      .getByText(/This is its peak/)
      .waitFor();
    await page.getByRole('list', { name: 'Feature contributions' }).waitFor();
    expect(new URL(page.url()).searchParams.get('time')).toBe(own[0]!.peak);
    await shot('explain-incident');
  });

  it('adds a suppression rule from an incident, lists it, and deletes it once confirmed', async () => {
    type Rule = {
      id: string;
      detector?: string;
      entity?: string;
      metric?: string;
      kind: string;
      reason: string;
    };
    const listed = await api<Array<{ entity: string; topMetrics: Array<{ metric: string }> }>>(
      `/api/v1/incidents?detector=cpu-hosts&from=${new Date(trainEnd).toISOString()}&to=${new Date(end).toISOString()}`,
    );
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/incidents`);
    const first = page.getByRole('row', { name: /resolved|firing/ }).first();
    await first.getByRole('link', { name: 'Suppress similar…' }).click();
    // The form opens filled in with the newest incident's detector, entity and top metric.
    await page.waitForURL(/\/suppressions\?add=1/);
    const form = page.getByRole('form', { name: 'New suppression rule' });
    await form.waitFor();
    expect(await page.locator('#rule-entity').inputValue()).toBe(listed[0]!.entity);
    expect(await page.locator('#rule-metric').inputValue()).toBe(listed[0]!.topMetrics[0]!.metric);
    // Checked before sending: a window that cannot be read is named, nothing is sent.
    await page.locator('#rule-from').fill('25:00');
    await page.locator('#rule-to').fill('03:30');
    await page.locator('#rule-reason').fill('nightly backup');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await form.getByText("'25:00' is not a time of day as HH:MM (UTC)").waitFor();
    expect(await api<Rule[]>('/api/v1/suppressions')).toEqual([]);
    await page.locator('#rule-from').fill('02:00');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Rule added: nightly backup').waitFor();
    // A maintenance period for every detector, through the same form.
    await page.getByRole('button', { name: 'New rule' }).click();
    await form.getByRole('radio', { name: 'Maintenance period' }).click();
    await page.locator('#rule-from').fill('2026-12-12 22:00');
    await page.locator('#rule-to').fill('2026-12-13 02:00');
    await page.locator('#rule-reason').fill('datacentre move');
    // Applied to the incidents already recorded too (off until ticked), since a day back, as the
    // box fills in for a period still ahead; the message says what it did.
    expect(await page.locator('#rule-since').count()).toBe(0);
    await form.getByText('Also apply to incidents recorded since…').click();
    expect(await page.locator('#rule-since').inputValue()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page
      .getByText(
        /^Rule added: datacentre move\. (No incident recorded since|Since) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/,
      )
      .waitFor();
    const table = page.getByRole('region', { name: 'Suppression rules' });
    await table.getByText('datacentre move').waitFor();
    await table.getByText('every day 02:00 – 03:30 UTC').waitFor();
    const rules = await api<Rule[]>('/api/v1/suppressions');
    expect(rules.map((r) => [r.detector, r.entity, r.metric, r.kind, r.reason]).sort()).toEqual(
      [
        ['cpu-hosts', listed[0]!.entity, listed[0]!.topMetrics[0]!.metric, 'daily', 'nightly backup'],
        [undefined, undefined, undefined, 'period', 'datacentre move'],
      ].sort(),
    );
    await page.mouse.move(1, 1);
    await shot('suppressions');
    // Deleted once confirmed: the other rule stays.
    await table.getByRole('button', { name: 'Delete the rule: nightly backup' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Rule deleted: nightly backup').waitFor();
    // The toast can come a render before the list's refetch has landed: wait for the row to go.
    await table.getByText('nightly backup').waitFor({ state: 'detached' });
    expect(await table.getByText('nightly backup').count()).toBe(0);
    expect((await api<Rule[]>('/api/v1/suppressions')).map((r) => r.reason)).toEqual(['datacentre move']);
  });

  it('builds a query in the query editor from the live detector list', async () => {
    await page.goto(`${grafana.url}/preview/query-editor`);
    await page.locator('#isoscope-detector').click();
    await page.getByRole('option', { name: 'cpu hosts' }).click();
    await page.getByRole('radio', { name: 'Anomalies' }).click();
    await page.getByTestId('query').filter({ hasText: '"return":"anomalies"' }).waitFor();
    expect(JSON.parse(await page.getByTestId('query').innerText())).toEqual({
      refId: 'A',
      detector: 'cpu-hosts',
      entity: '',
      return: 'anomalies',
    });
    await shot('query-editor');
  });

  it('keeps viewers to reading: actions hidden in the page, writes refused by the proxy route', async () => {
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/detectors/cpu-hosts?role=Viewer`);
    await page.getByRole('tab', { name: 'Model versions' }).click();
    await page.getByRole('rowgroup', { name: 'Models of web-1' }).waitFor();
    expect(await page.getByRole('button', { name: 'Promote' }).count()).toBe(0);
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/datasources/proxy/uid/isoscope/api/detectors/cpu-hosts/train', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-grafana-org-role': 'Viewer' },
        body: '{}',
      });
      return r.status;
    });
    expect(status).toBe(403);
    expect(grafana.log).toContainEqual({
      method: 'POST',
      path: 'api/detectors/cpu-hosts/train',
      status: 403,
    });
    // The suppression rules: listed, with neither New rule nor Delete; a write is refused by the proxy.
    await page.goto(`${grafana.url}/a/isoscope-anomaly-app/suppressions`);
    await page.getByRole('region', { name: 'Suppression rules' }).getByText('datacentre move').waitFor();
    expect(await page.getByRole('button', { name: 'New rule' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Delete the rule/ }).count()).toBe(0);
    const added = await page.evaluate(async () => {
      const r = await fetch('/api/datasources/proxy/uid/isoscope/api/suppressions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-grafana-org-role': 'Viewer' },
        body: JSON.stringify({ kind: 'daily', from: '01:00', to: '02:00', reason: 'quiet' }),
      });
      return r.status;
    });
    expect(added).toBe(403);
  });
});
