import type { FastifyInstance } from 'fastify';
import { freePort, startLocalInflux, type LocalInflux } from '../../backend/src/devtools/influxd.js';
import { InfluxV1Client, toLine } from '../../backend/src/io/influx/index.js';
import { as, testApp } from '../support/service.js';
import { scratchDir } from '../support/scratch.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2024, 0, 3);
const HOSTS = ['web-1', 'web-2'];

/**
 * influxd stopped in the middle of a scoring pass (after the pass read its rows, before it wrote
 * their results) and started again on the same data: the pass waits with its results, writes
 * them when InfluxDB is back, and not one result point is lost or doubled.
 */
describe('influxd stopped mid-scoring and restarted (real influxd on its own data directory)', () => {
  const dataDir = scratchDir('influxd-outage');
  let port: number;
  let server: LocalInflux | undefined;
  let app: FastifyInstance;
  let client: InfluxV1Client;
  let clock = NOW;

  beforeAll(async () => {
    port = await freePort();
    server = await startLocalInflux({ dataDir, port });
    client = new InfluxV1Client({ url: server.url, database: 'telegraf' });
    await client.createDatabase();
    const lines: string[] = [];
    for (const [h, host] of HOSTS.entries())
      for (let t = NOW - 24 * HOUR; t < NOW + 2 * HOUR; t += MIN) {
        const daily = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host, cpu: 'cpu-total' },
            fields: { usage_user: 30 + 15 * daily + Math.sin(t / 7_777_777 + h), usage_system: 5 + daily },
            timeMs: t,
          }),
        );
      }
    await client.write(lines);
    app = await testApp(server.url, 'telegraf', {}, () => clock);
    await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: {
        name: 'cpu',
        spec: {
          source: { preset: 'cpu' },
          intervalSeconds: 60,
          trainingWindowHours: 24,
          model: { trees: 50 },
        },
      },
    });
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: { promote: true },
    });
    await app.jobs.finished(started.json().id);
    expect((await app.registry.getJob(started.json().id))!.state).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('writes every result point of the interrupted pass once InfluxDB is back, and the passes after it', async () => {
    clock = NOW + 30 * MIN;
    await app.scheduler.tick(clock);

    // The next pass reads its hour of rows; influxd is stopped before the pass may write them.
    const query = app.influx.query.bind(app.influx);
    let stopped: Promise<void> | undefined;
    app.influx.query = async (q, o) => {
      const answer = await query(q, o);
      if (!stopped && /FROM "cpu"/.test(q)) {
        stopped = server!.stop();
        server = undefined;
        await stopped;
      }
      return answer;
    };
    clock = NOW + 90 * MIN;
    let passDone = false;
    const pass = app.scheduler.tick(clock).then(() => (passDone = true));
    while (!stopped) await new Promise((r) => setTimeout(r, 20));
    await stopped;
    app.influx.query = query;
    // The pass waits with its results while InfluxDB is gone.
    await new Promise((r) => setTimeout(r, 500));
    expect(passDone).toBe(false);
    expect(app.results.stats.pending).toBeGreaterThan(0);
    server = await startLocalInflux({ dataDir, port });
    await pass;
    expect(app.results.stats.pending).toBe(0);
    clock = NOW + 2 * HOUR;
    await app.scheduler.tick(clock);

    const counts = await client.query(
      `SELECT count("score") FROM "isoscope_anomaly" WHERE "stage" = 'production' AND time >= ${NOW}ms GROUP BY "entity"`,
    );
    const perHost = Object.fromEntries((counts[0] ?? []).map((s) => [s.tags?.entity, s.values[0]![1]]));
    // Every minute from the end of the training window to the last pass, per host: none lost.
    expect(perHost).toEqual({ 'web-1': 120, 'web-2': 120 });
    expect((await app.registry.listRuntimeStates('cpu')).map((s) => s.scoredTo)).toEqual([
      NOW + 2 * HOUR,
      NOW + 2 * HOUR,
    ]);
    expect(app.results.stats.dropped).toBe(0);
  });
});
