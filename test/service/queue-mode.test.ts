/**
 * The api/worker split on a real PostgreSQL and influxd: an `api` service (HTTP and the scheduler)
 * enqueues one job per shard for the interval, and scores nothing itself; a `worker` service on
 * the same registry takes the shard jobs and scores every host through the same runtimes as a
 * single process would, writing its results to InfluxDB. Enqueueing the same interval again adds
 * no job. `isoscope serve --role worker` without PostgreSQL is refused with exit code 2.
 */
import type { FastifyInstance } from 'fastify';
import { toLine } from '../../backend/src/io/influx/index.js';
import { buildApp } from '../../backend/src/service/app.js';
import { loadConfig } from '../../backend/src/service/config.js';
import { hashToken } from '../../backend/src/service/plugins/auth.js';
import { isoscope } from '../support/cli.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { scratchDir } from '../support/scratch.js';
import { as, TOKENS } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
const STEP = 300_000;
const HOSTS = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'];

let influx: TestInflux;
let postgres: TestPostgres;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  [influx, postgres] = await Promise.all([startTestInflux(), startTestPostgres()]);
}, 120_000);
afterAll(async () => {
  for (const app of apps.reverse()) await app.close();
  await influx?.server.stop();
  await postgres?.server.stop();
});

async function until(what: string, check: () => Promise<boolean>, limitMs = 90_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('an api process enqueues shard jobs and a worker process scores every host', async () => {
  const client = await influx.client();
  const lines: string[] = [];
  for (const [h, host] of HOSTS.entries())
    for (let t = NOW - 48 * HOUR; t < NOW; t += STEP) {
      const wobble = Math.sin(t / 3_333_333 + h) + Math.cos(t / 1_234_567);
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host, cpu: 'cpu-total' },
          fields: {
            usage_user: 30 + wobble,
            usage_system: 5 + wobble / 5,
            usage_iowait: 1,
            usage_idle: 64 - wobble,
          },
          timeMs: t,
        }),
      );
    }
  await client.write(lines);
  const registryUrl = await postgres.database();
  const settings = (role: 'api' | 'worker') =>
    loadConfig(
      {},
      {
        dataDir: scratchDir(`queue-${role}`),
        influxUrl: influx.server.url,
        influxDb: client.database,
        registryUrl,
        role,
        shards: 3,
        leaseSeconds: 10,
      },
      undefined,
    );
  const api = await buildApp({ config: settings('api'), now: () => NOW });
  apps.push(api);
  await api.registry.createToken(
    { id: 'editor', name: 'editor', role: 'editor', hash: hashToken(TOKENS.editor) },
    0,
  );
  expect(api.shardQueue).toBeDefined();
  await api.inject({
    method: 'POST',
    url: '/api/v1/detectors',
    headers: as('editor'),
    payload: {
      name: 'cpu',
      spec: {
        source: { preset: 'cpu' },
        intervalSeconds: 300,
        trainingWindowHours: 24,
        model: { trees: 50 },
      },
    },
  });
  const train = await api.inject({
    method: 'POST',
    url: '/api/v1/detectors/cpu/train',
    headers: as('editor'),
    payload: { to: new Date(NOW - 24 * HOUR).toISOString(), promote: true },
  });
  await api.jobs.finished(train.json().id);
  const scoredTo = async (): Promise<number[]> =>
    (await api.registry.listRuntimeStates('cpu'))
      .filter((s) => s.stage === 'production')
      .map((s) => s.scoredTo);
  expect(await scoredTo()).toEqual(HOSTS.map(() => NOW - 24 * HOUR));

  // The api's pass enqueues one job per shard and scores nothing itself.
  await api.scheduler.tick(NOW);
  expect(await api.shardQueue!.unfinished()).toBe(3);
  expect(await scoredTo()).toEqual(HOSTS.map(() => NOW - 24 * HOUR));

  // A worker on the same registry takes them.
  const worker = await buildApp({ config: settings('worker'), now: () => NOW });
  apps.push(worker);
  await until('the worker to score every host', async () => (await scoredTo()).every((t) => t === NOW));
  await until('every shard job to complete', async () => (await api.shardQueue!.unfinished()) === 0);
  for (const host of HOSTS) {
    const rows = await api.resultsReader.read('cpu', NOW - 24 * HOUR, NOW, {
      entity: host,
      stage: 'production',
    });
    expect(rows).toHaveLength(24 * 12);
  }
  // The same interval enqueued again (another api replica's pass) adds no job.
  await api.scheduler.tick(NOW);
  expect(await api.shardQueue!.unfinished()).toBe(0);
  // The worker serves the probes, not the API.
  expect((await worker.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  expect(
    (await worker.inject({ method: 'GET', url: '/api/v1/detectors', headers: as('editor') })).statusCode,
  ).toBe(404);
}, 180_000);

test('isoscope serve --role worker without a PostgreSQL registry stops with exit code 2', () => {
  const r = isoscope(['serve', '--role', 'worker'], { env: { ISOSCOPE_REGISTRY_URL: '' } });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/role worker \(ISOSCOPE_ROLE or --role\) needs ISOSCOPE_REGISTRY_URL/);
  const bad = isoscope(['serve', '--role', 'scorer']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--role must be one of all, api, worker, got 'scorer'");
});
