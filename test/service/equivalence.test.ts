import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { toLine } from '../../backend/src/io/influx/index.js';
import { isoscope } from '../support/cli.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { scratchDir } from '../support/scratch.js';
import { as, testApp } from '../support/service.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 1);
const ROWS = 1200;
/** The bootstrap's window: the first 12 hours; the rest is backfilled. */
const TRAIN_TO = T0 + 720 * MIN;
const END = T0 + ROWS * MIN;
const FIELDS = ['usage_user', 'usage_system', 'usage_iowait', 'usage_idle'];

describe('the service scores as isoscope replay does (real influxd, the built CLI)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  const dir = scratchDir('equivalence');

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    const lines: string[] = [];
    for (const [h, host] of ['web-1', 'web-2'].entries()) {
      for (let i = 0; i < ROWS; i++) {
        const t = T0 + i * MIN;
        const wave = Math.sin((2 * Math.PI * i) / 1440 + h);
        const noise = Math.sin(i * 12.9898 + h * 78.233) * 43758.5453;
        const jitter = noise - Math.floor(noise) - 0.5;
        const incident = host === 'web-1' && i >= 1000 && i < 1030;
        const fields: Record<string, number> = {
          usage_user: incident ? 96.5 : 30 + 10 * wave + 3 * jitter,
          usage_system: 5 + wave + jitter,
          usage_idle: incident ? 0.5 : 64 - 11 * wave - 3 * jitter,
        };
        // A collector that drops iowait now and then: a missing value for both paths to fill.
        if (i % 89 !== 7) fields.usage_iowait = 1 + jitter / 7;
        lines.push(toLine({ measurement: 'cpu', tags: { host, cpu: 'cpu-total' }, fields, timeMs: t }));
      }
    }
    await client.write(lines);
    app = await testApp(influx.server.url, client.database, {}, () => END);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: {
        name: 'cpu',
        spec: {
          source: { preset: 'cpu' },
          intervalSeconds: 60,
          trainingWindowHours: 12,
          model: { seed: 11 },
        },
      },
    });
    expect(created.statusCode).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  it('bootstrap then backfill write, to the last bit, the scores, decisions and top features replay writes for the same rows', async () => {
    const train = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: { to: new Date(TRAIN_TO).toISOString(), promote: true },
    });
    await app.jobs.finished(train.json().id);
    const backfill = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/backfill',
      headers: as('editor'),
      payload: { from: new Date(TRAIN_TO).toISOString(), to: new Date(END).toISOString() },
    });
    await app.jobs.finished(backfill.json().id);
    expect(
      (await app.inject({ url: `/api/v1/jobs/${backfill.json().id}`, headers: as('viewer') })).json(),
    ).toMatchObject({ state: 'succeeded', result: { rows: 2 * 480 } });

    for (const host of ['web-1', 'web-2']) {
      // The rows as InfluxDB holds them, exported to CSV: the same aggregation the service reads.
      const [source] = await app.influx.query(
        `SELECT mean("usage_user") AS "usage_user", mean("usage_system") AS "usage_system", mean("usage_iowait") AS "usage_iowait", mean("usage_idle") AS "usage_idle" FROM "cpu" WHERE "host" = '${host}' AND "cpu" = 'cpu-total' AND time >= ${T0}ms AND time < ${END}ms GROUP BY time(60s) fill(none)`,
      );
      const rows = source![0]!.values;
      expect(rows).toHaveLength(ROWS);
      const csv = join(dir, `${host}.csv`);
      const out = join(dir, `${host}.out.csv`);
      writeFileSync(
        csv,
        [
          ['timestamp', ...FIELDS].join(','),
          ...rows.map((r) => [r[0], ...r.slice(1).map((v) => (v === null ? '' : String(v)))].join(',')),
        ].join('\n') + '\n',
      );
      const r = isoscope(['replay', '--input', csv, '--output', out, '--seed', '11']);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const replayed = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));

      // What the service wrote: the bootstrap's backtest, then production.
      const [results] = await app.influx.query(
        `SELECT "score", "anomaly", "top_feature", "stage" FROM "isoscope_anomaly" WHERE "detector" = 'cpu' AND "entity" = '${host}' AND ("stage" = 'backtest' OR "stage" = 'production') ORDER BY time`,
      );
      const written = results![0]!.values;
      expect(written).toHaveLength(ROWS);
      const service = written.map(([time, score, anomaly, top]) => [
        String(time),
        String(score),
        anomaly ? '1' : '0',
        (top as string | null) ?? '',
      ]);
      expect(service).toEqual(replayed);
      expect(written.slice(0, 720).every((w) => w[4] === 'backtest')).toBe(true);
      expect(written.slice(720).every((w) => w[4] === 'production')).toBe(true);
      if (host === 'web-1') {
        // Not a comparison of zeros: the stream trained, and flagged the incident.
        const flagged = replayed.slice(1000, 1030).filter((l) => l[2] === '1');
        expect(flagged.length).toBeGreaterThan(0);
        expect(flagged[0]![3]).toMatch(/^usage_(user|idle)/);
      }
    }
  }, 300_000);
});
