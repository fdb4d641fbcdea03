/**
 * The service's part of `npm run bench`: a real influxd with 24 h of one-minute cpu data for 50
 * hosts, the service trained on it, then (1) scoring throughput, rows scored and written back per
 * second, next to the plain InfluxQL read of the same data, and (2) the Grafana query endpoint's
 * latency for the 24 h score of all 50 hosts, p50 and p99, next to the plain InfluxQL read of the
 * same stored results. Both references run in the same process, at the same time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalInflux } from '../devtools/influxd.js';
import {
  InfluxV1Client,
  rawQuery,
  readWindow,
  RESULTS_MEASUREMENT,
  TELEGRAF_PRESETS,
  toLine,
} from '../io/influx/index.js';
import { buildApp } from '../service/app.js';
import { loadConfig } from '../service/config.js';
import { hashToken } from '../service/plugins/auth.js';

const HOSTS = 50;
const HOUR = 3_600_000;
const TOKEN = 'bench-admin-token-000000000';

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function timeAll(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

export async function serviceBench(log: (text: string) => void): Promise<string[]> {
  const influxd = await startLocalInflux();
  const dataDir = await mkdtemp(join(tmpdir(), 'isoscope-bench-service-'));
  const end = Date.UTC(2024, 0, 2);
  const start = end - 24 * HOUR;
  try {
    const client = new InfluxV1Client({ url: influxd.url, database: 'telegraf' });
    await client.createDatabase();
    log(`service: writing 24 h of cpu data for ${HOSTS} hosts`);
    // Training data (the day before) and the scored day.
    for (let h = 0; h < HOSTS; h++) {
      const lines: string[] = [];
      for (let t = start - 24 * HOUR; t < end; t += 60_000) {
        const d = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
        const w = Math.sin(t / 777_777 + h) + Math.cos(t / 333_333 + 2 * h);
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host: `host-${h}`, cpu: 'cpu-total' },
            fields: {
              usage_user: 30 + 10 * d + w,
              usage_system: 5 + d,
              usage_iowait: 1 + w / 10,
              usage_idle: 64 - 11 * d - w,
            },
            timeMs: t,
          }),
        );
      }
      await client.write(lines);
    }
    const config = loadConfig(
      {},
      { dataDir, influxUrl: influxd.url, influxDb: 'telegraf', logLevel: 'warn' },
      undefined,
    );
    const app = await buildApp({ config, scheduler: false });
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      await app.registry.createToken(
        { id: 'bench', name: 'bench', role: 'admin', hash: hashToken(TOKEN) },
        0,
      );
      await app.inject({
        method: 'POST',
        url: '/api/v1/detectors',
        headers: auth,
        payload: {
          name: 'cpu',
          spec: {
            source: { preset: 'cpu' },
            trainingWindowHours: 24,
            model: { trees: 100, maxSamples: 256, contamination: 0.01 },
          },
        },
      });
      log(`service: training ${HOSTS} models`);
      const train = await app.inject({
        method: 'POST',
        url: '/api/v1/detectors/cpu/train',
        headers: auth,
        payload: { to: new Date(start).toISOString(), promote: true },
      });
      await app.jobs.finished(train.json().id);

      // (1) Scoring throughput: the day scored and written back, against reading that day.
      const source = { ...TELEGRAF_PRESETS.cpu!, intervalSeconds: 60 };
      const readSeconds =
        Math.min(...(await timeAll(3, () => readWindow(client, source, start, end)))) / 1000;
      log('service: scoring a day of 50 hosts');
      const t0 = performance.now();
      const backfill = await app.inject({
        method: 'POST',
        url: '/api/v1/detectors/cpu/backfill',
        headers: auth,
        payload: { from: new Date(start).toISOString(), to: new Date(end).toISOString() },
      });
      await app.jobs.finished(backfill.json().id);
      const scoreSeconds = (performance.now() - t0) / 1000;
      const job = (await app.inject({ url: `/api/v1/jobs/${backfill.json().id}`, headers: auth })).json() as {
        result: { rows: number };
      };
      const rows = job.result.rows;

      // (2) Query latency: the Grafana score query for all hosts over 24 h, against InfluxQL.
      const body = {
        range: { from: new Date(start).toISOString(), to: new Date(end).toISOString() },
        targets: [{ refId: 'A', detector: 'cpu', entity: '*', return: 'score' }],
      };
      await app.inject({ method: 'POST', url: '/api/v1/grafana/query', headers: auth, payload: body });
      const endpoint = await timeAll(30, () =>
        app.inject({ method: 'POST', url: '/api/v1/grafana/query', headers: auth, payload: body }),
      );
      const plain = await timeAll(30, () =>
        client.query(
          rawQuery(RESULTS_MEASUREMENT, ['score', 'anomaly', 'severity', 'entity'], start, end, {
            detector: 'cpu',
          }),
        ),
      );
      return [
        `## Service (real influxd, ${HOSTS} hosts × 24 h of one-minute cpu data)`,
        '',
        `Scoring: ${rows.toLocaleString('en-US')} rows scored and written back in ${scoreSeconds.toFixed(2)} s = ${Math.round(rows / scoreSeconds).toLocaleString('en-US')} rows/s; the plain InfluxQL read of the same window takes ${readSeconds.toFixed(2)} s (${(scoreSeconds / readSeconds).toFixed(1)}× the read: read, features, forest, explanations and the write-back).`,
        `Grafana query (score of all ${HOSTS} hosts, 24 h, ${(rows / HOSTS).toFixed(0)} points each): p50 ${percentile(endpoint, 0.5).toFixed(1)} ms, p99 ${percentile(endpoint, 0.99).toFixed(1)} ms; the plain InfluxQL read of the same results: p50 ${percentile(plain, 0.5).toFixed(1)} ms, p99 ${percentile(plain, 0.99).toFixed(1)} ms (${(percentile(endpoint, 0.5) / percentile(plain, 0.5)).toFixed(2)}× at p50).`,
        '',
      ];
    } finally {
      await app.close();
    }
  } finally {
    await influxd.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
