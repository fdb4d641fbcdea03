/**
 * `npm run demo`: Isoscope end to end on a real InfluxDB. It starts a throwaway influxd, writes
 * nine days of Telegraf metrics for six hosts with incidents in the last two, starts the service,
 * creates one detector per Telegraf measurement through the HTTP API, trains them on the first
 * week, scores the last two days, and reports each alert with the metrics that explain it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { firingPoints, runsOf } from '../engine/index.js';
import { buildPreview, startGrafanaStandIn } from '../devtools/grafana-standin.js';
import { startLocalInflux } from '../devtools/influxd.js';
import { InfluxV1Client } from '../io/influx/index.js';
import { buildApp } from '../service/app.js';
import { loadConfig } from '../service/config.js';
import { hashToken } from '../service/plugins/auth.js';
import { TELEGRAF_FIELDS, telegrafLines } from './telegraf.js';
import { generateWorkload, type Incident } from './workload.js';

const TOKEN = 'demo-admin-token-0000000000';
const DETECTORS = ['cpu', 'mem', 'net', 'diskio', 'system'] as const;
const BARS = ' ▁▂▃▄▅▆▇█';
const DAY = 86_400_000;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const USAGE = `usage: npm run demo [-- --keep]

  --keep   leave InfluxDB, the service and a browser preview of the Grafana plugin running
           (printing their addresses) until Ctrl-C`;

interface Alert {
  detector: string;
  host: string;
  from: number;
  to: number;
  peakScore: number;
  peakTime: number;
  top: Array<{ feature: string; share: number }>;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function progress(text: string): void {
  process.stderr.write(`demo: ${text}\n`);
}

async function api<T>(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  payload?: object,
): Promise<T> {
  const res = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(payload ? { payload } : {}),
  });
  if (res.statusCode >= 400) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`);
  return res.json() as T;
}

async function waitForJob(
  app: FastifyInstance,
  id: string,
  label: string,
): Promise<{ state: string; result?: unknown; error?: string }> {
  await app.jobs.finished(id);
  const job = await api<{ state: string; result?: unknown; error?: string }>(
    app,
    'GET',
    `/api/v1/jobs/${id}`,
  );
  if (job.state !== 'succeeded')
    throw new Error(`${label}: job ${job.state}${job.error ? `: ${job.error}` : ''}`);
  return job;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(5, 16).replace('T', ' ');
}

/** Stops what the demo started, once, on exit or on Ctrl-C. */
const cleanups: Array<() => Promise<void>> = [];
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(keep: boolean): Promise<void> {
  const started = performance.now();
  const w = generateWorkload();
  // The nine days end at the coming midnight (UTC), so Grafana's "last 24 hours" finds the incident
  // days; starting at a midnight keeps every time of day as generated, and with it the results.
  w.startMs = Math.floor(Date.now() / DAY) * DAY + DAY - w.minutes * w.stepMs;
  const trainEnd = w.startMs + w.trainMinutes * w.stepMs;
  const end = w.startMs + w.minutes * w.stepMs;

  progress('starting InfluxDB (Debian package influxdb) on a loopback port');
  const influxd = await startLocalInflux();
  const dataDir = await mkdtemp(join(tmpdir(), 'isoscope-demo-'));
  cleanups.push(
    () => influxd.stop(),
    () => rm(dataDir, { recursive: true, force: true }),
  );
  const client = new InfluxV1Client({ url: influxd.url, database: 'telegraf' });
  await client.createDatabase();
  let points = 0;
  for (const batch of telegrafLines(w)) {
    await client.write(batch);
    points += batch.length;
    if (points % 100_000 < batch.length) progress(`wrote ${points.toLocaleString('en-US')} Telegraf points`);
  }
  progress(
    `wrote ${points.toLocaleString('en-US')} points: ${w.hosts.length} hosts × 5 measurements × ${w.minutes} minutes`,
  );

  const config = loadConfig(
    {},
    { dataDir, influxUrl: influxd.url, influxDb: 'telegraf', logLevel: 'warn' },
    undefined,
  );
  const app = await buildApp({ config, scheduler: false });
  cleanups.push(() => app.close());
  await app.registry.createToken(
    { id: 'demo', name: 'demo', role: 'admin', hash: hashToken(TOKEN) },
    Date.now(),
  );
  for (const preset of DETECTORS) {
    await api(app, 'POST', '/api/v1/detectors', {
      name: preset,
      spec: {
        source: { preset },
        intervalSeconds: 60,
        trainingWindowHours: w.trainMinutes / 60,
        // The stream's defaults (levels and changes, calibrated decisions, as replay): what
        // docs/pipeline.md measures is what the demo shows.
        model: { seed: 1 },
        alerting: { window: 5, minAnomalous: 3 },
      },
    });
  }
  progress(`created detectors ${DETECTORS.join(', ')} (Telegraf presets) through the API`);

  for (const preset of DETECTORS) {
    const job = await api<{ id: string }>(app, 'POST', `/api/v1/detectors/${preset}/train`, {
      to: new Date(trainEnd).toISOString(),
      promote: true,
    });
    const done = await waitForJob(app, job.id, `training ${preset}`);
    const versions = (done.result as { entities: unknown[] }).entities.length;
    progress(
      `bootstrapped ${preset}: ${versions} runtimes (one per host) over the first week, promoted to production`,
    );
  }
  for (const preset of DETECTORS) {
    const job = await api<{ id: string }>(app, 'POST', `/api/v1/detectors/${preset}/backfill`, {
      from: new Date(trainEnd).toISOString(),
      to: new Date(end).toISOString(),
    });
    const done = await waitForJob(app, job.id, `scoring ${preset}`);
    const r = done.result as { rows: number; anomalies: number };
    progress(
      `scored ${preset}: ${r.rows.toLocaleString('en-US')} host-minutes, ${r.anomalies} anomalous, written to isoscope_anomaly`,
    );
  }

  // Alerts: the detectors' rule (3 anomalous minutes of 5) over the anomalies the service stored.
  const alerts: Alert[] = [];
  const maxScore = new Map<string, number[]>();
  // Host-minutes any detector flagged: what an operator scrolling the results sees, alerts or not.
  const flaggedMinutes = new Set<string>();
  const hours = Math.ceil((end - trainEnd) / 3_600_000);
  for (const preset of DETECTORS) {
    const frames = await api<{
      frames: Array<{
        name: string;
        fields: Array<{ name: string; values: unknown[]; labels?: Record<string, string> }>;
      }>;
    }>(app, 'POST', '/api/v1/grafana/query', {
      range: { from: new Date(trainEnd).toISOString(), to: new Date(end).toISOString() },
      targets: [{ refId: 'A', detector: preset, entity: '*', return: 'score' }],
    });
    for (const frame of frames.frames) {
      const host = frame.fields[1]!.labels!.entity!;
      const times = frame.fields[0]!.values as number[];
      const scores = frame.fields[1]!.values as number[];
      const anomalous = frame.fields[2]!.values as boolean[];
      const threshold = (frame.fields.find((f) => f.name === 'threshold')?.values[0] as number) ?? 0.5;
      const strip = maxScore.get(host) ?? new Array<number>(hours).fill(-1);
      times.forEach((t, i) => {
        const h = Math.floor((t - trainEnd) / 3_600_000);
        strip[h] = Math.max(strip[h]!, scores[i]! - threshold);
      });
      maxScore.set(host, strip);
      times.forEach((t, i) => anomalous[i] && flaggedMinutes.add(`${host}\u0000${t}`));
      for (const [a, b] of runsOf(firingPoints(anomalous, { window: 5, minAnomalous: 3 }))) {
        let from = a;
        while (from > 0 && anomalous[from - 1]) from--;
        let peak = from;
        for (let i = from; i <= b; i++) if (scores[i]! > scores[peak]!) peak = i;
        const explanation = await api<{
          contributions: Array<{ feature: string; contribution: number; share: number }>;
        }>(
          app,
          'GET',
          `/api/v1/detectors/${preset}/explain?entity=${encodeURIComponent(host)}&time=${new Date(times[peak]!).toISOString()}`,
        );
        alerts.push({
          detector: preset,
          host,
          from: times[from]!,
          to: times[b]!,
          peakScore: scores[peak]!,
          peakTime: times[peak]!,
          // Only what pushed towards anomalous: a metric that made the moment look more normal
          // is no cause, whatever its share of the total.
          top: explanation.contributions
            .filter((c) => c.contribution > 0)
            .slice(0, 3)
            .map((c) => ({ feature: `${preset}.${c.feature}`, share: c.share })),
        });
      }
    }
  }

  say(
    `Isoscope demo: ${w.hosts.length} hosts, Telegraf's cpu, mem, net, diskio and system measurements, one point a minute for ${w.minutes / 1440} days,`,
  );
  say(
    `in a real InfluxDB (${influxd.url}). Detectors learnt the first ${w.trainMinutes / 1440} days and watched the last ${(w.minutes - w.trainMinutes) / 1440} (${w.incidents.length} incidents injected).`,
  );
  say('');
  say(
    'Highest score per hour over the detectors (▁ below the threshold … █ far above), ^ incident, ! alert:',
  );
  for (const h of w.hosts) {
    const strip = maxScore.get(h.host) ?? [];
    const level = (m: number): string =>
      BARS[Math.round(Math.max(0, Math.min(1, (m + 0.2) / 0.3)) * (BARS.length - 1))]!;
    const hourOf = (ms: number): number => Math.floor((ms - trainEnd) / 3_600_000);
    const truth = Array.from({ length: hours }, (_, i) =>
      w.incidents.some(
        (x) =>
          x.host === h.host &&
          hourOf(w.startMs + x.start * w.stepMs) <= i &&
          hourOf(w.startMs + x.end * w.stepMs) >= i,
      )
        ? '^'
        : ' ',
    ).join('');
    const fired = Array.from({ length: hours }, (_, i) =>
      alerts.some((a) => a.host === h.host && hourOf(a.from) <= i && hourOf(a.to) >= i) ? '!' : ' ',
    ).join('');
    say(`  ${h.host.padEnd(6)} ${strip.map(level).join('')}`);
    say(`         ${truth}`);
    say(`         ${fired}`);
  }

  const incidentTime = (i: Incident): { from: number; to: number } => ({
    from: w.startMs + i.start * w.stepMs,
    to: w.startMs + i.end * w.stepMs,
  });
  say('');
  say('Incidents:');
  let found = 0;
  let named = 0;
  const delays: number[] = [];
  for (const incident of w.incidents) {
    const { from, to } = incidentTime(incident);
    const what = `${incident.host.padEnd(6)} ${incident.kind.padEnd(13)} ${clock(from)} (${incident.end - incident.start + 1} min)`;
    const hits = alerts
      .filter((a) => a.host === incident.host && a.from <= to && a.to >= from)
      .sort((a, b) => a.from - b.from);
    if (hits.length === 0) {
      say(`  ✗ ${what}: missed`);
      continue;
    }
    found++;
    const first = hits[0]!;
    const delay = Math.max(0, Math.round((first.from - from) / 60_000));
    delays.push(delay);
    const moved = incident.fields.flatMap((f) => TELEGRAF_FIELDS[f as keyof typeof TELEGRAF_FIELDS] ?? [f]);
    const right = hits.some(
      (a) => a.top.length > 0 && moved.includes(a.top[0]!.feature.replace(/\.(z\d+|delta|lag\d+)$/, '')),
    );
    if (right) named++;
    say(
      `  ✓ ${what}: ${hits
        .map((a) => a.detector)
        .filter((d, i, all) => all.indexOf(d) === i)
        .join(
          ', ',
        )} alert after ${delay} min; ${first.top.length > 0 ? `top: ${first.top.map((t) => `${t.feature} ${(100 * t.share).toFixed(0)}%`).join(', ')}` : 'no single metric stands out in the explanation'}`,
    );
  }
  const falseAlarms = alerts.filter(
    (a) =>
      !w.incidents.some(
        (i) => i.host === a.host && incidentTime(i).from <= a.to && incidentTime(i).to >= a.from,
      ),
  );
  if (falseAlarms.length > 0) {
    say('');
    say('Alerts with no incident behind them:');
    for (const a of falseAlarms)
      say(
        `  ${a.host.padEnd(6)} ${a.detector.padEnd(6)} ${clock(a.from)} (${Math.round((a.to - a.from) / 60_000) + 1} min), score ${a.peakScore.toFixed(2)}; ${a.top.length > 0 ? `top: ${a.top.map((t) => t.feature).join(', ')}` : 'no single metric stands out'}`,
      );
  }
  const hostDays = (w.hosts.length * (w.minutes - w.trainMinutes)) / 1440;
  const inInjected = (host: string, t: number): boolean =>
    w.incidents.some((i) => i.host === host && incidentTime(i).from <= t && t <= incidentTime(i).to);
  const outside = [...flaggedMinutes].filter((k) => {
    const [host, t] = k.split('\u0000');
    return !inInjected(host!, Number(t));
  }).length;
  // The service's own incidents (every detector's flags grouped per host), against the injected ones.
  const grouped = await api<Array<{ entity: string; start: string; end: string }>>(
    app,
    'GET',
    `/api/v1/incidents?from=${new Date(trainEnd).toISOString()}&to=${new Date(end).toISOString()}&limit=5000`,
  );
  const real = grouped.filter((g) =>
    w.incidents.some(
      (i) =>
        i.host === g.entity &&
        incidentTime(i).from <= Date.parse(g.end) &&
        incidentTime(i).to >= Date.parse(g.start),
    ),
  ).length;
  const precision = alerts.length > 0 ? (alerts.length - falseAlarms.length) / alerts.length : 0;
  delays.sort((a, b) => a - b);
  say('');
  say(
    `Flagged minutes: ${flaggedMinutes.size} host-minutes flagged, ${outside} of them outside the injected incidents (${(outside / hostDays).toFixed(1)} per host-day); the service grouped the flags into ${grouped.length} incidents (per detector and host), ${real} of them on an injected incident, ${grouped.length - real} not.`,
  );
  say(
    `Median detection delay ${delays.length ? delays[Math.floor(delays.length / 2)] : '-'} min; explanations naming a metric the incident moved: ${named}/${found}; ${((performance.now() - started) / 1000).toFixed(1)} s in all.`,
  );
  say(
    `Results stay in InfluxDB: SELECT * FROM "isoscope_anomaly" WHERE "anomaly" = true (Grafana reads them too).`,
  );
  if (keep) await keepRunning(app, influxd.url);
  else
    say(
      'To look at them: `npm run demo -- --keep` leaves everything running with a preview of the Grafana pages; `docker compose up -d` runs the whole stack with Grafana (docs/deploy.md).',
    );
  say(
    `demo: incidents found ${found}/${w.incidents.length}, false alarms per host-day ${(falseAlarms.length / hostDays).toFixed(2)}, precision ${precision.toFixed(2)}, recall ${(found / w.incidents.length).toFixed(2)}`,
  );
}

/** --keep: the service listens, and a preview of the plugin pages runs against it (a stand-in for Grafana's server). */
async function keepRunning(app: FastifyInstance, influxUrl: string): Promise<void> {
  const serviceUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  progress('building the plugin preview (the plugin with the real @grafana packages)');
  buildPreview(REPO);
  const preview = await startGrafanaStandIn({ repoRoot: REPO, serviceUrl, token: TOKEN });
  cleanups.push(() => preview.close());
  say('');
  say(`Left running until Ctrl-C:`);
  say(`  InfluxDB          ${influxUrl}  (database telegraf; results in measurement isoscope_anomaly)`);
  say(`  Isoscope service  ${serviceUrl}  (API docs at /docs; token ${TOKEN})`);
  say(`  plugin preview    ${preview.url}/a/isoscope-anomaly-app/overview`);
  say(
    `                    (the Grafana app's pages; a panel: ${preview.url}/preview/panel?detector=cpu&entity=web-1)`,
  );
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--keep');
if (unknown.length > 0) {
  process.stderr.write(`demo: unknown option ${unknown.join(' ')}\n${USAGE}\n`);
  process.exit(2);
}
const keep = args.includes('--keep');
try {
  await main(keep);
} catch (e) {
  await cleanUp();
  throw e;
}
if (!keep) await cleanUp();
