import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import type { AlertEvent } from '../../backend/src/io/alerts/index.js';
import { toLine } from '../../backend/src/io/influx/index.js';
import { buildApp } from '../../backend/src/service/app.js';
import { ConfigError, loadConfig, type Config } from '../../backend/src/service/config.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';
import { as, testApp } from '../support/service.js';
import { TOKEN_TTL_MS } from '../../backend/src/service/plugins/read-cache.js';

const NOW = Date.UTC(2024, 0, 3);
const HOUR = 3_600_000;
const BOOTSTRAP = 'bootstrap-token-0123456789';

describe('two replicas of the service sharing a PostgreSQL registry (real postgres, real influxd)', () => {
  let influx: TestInflux;
  let postgres: TestPostgres;
  let database: string;
  let registryUrl: string;
  const apps: FastifyInstance[] = [];

  /** One more replica on the same registry: its own data directory, nothing shared but PostgreSQL. */
  const replica = async (overrides: Partial<Config> = {}): Promise<FastifyInstance> => {
    const config = loadConfig(
      {},
      {
        dataDir: scratchDir('replica'),
        influxUrl: influx.server.url,
        influxDb: database,
        registryUrl,
        bootstrapToken: BOOTSTRAP,
        logLevel: 'silent',
        ...overrides,
      },
      undefined,
    );
    const app = await buildApp({ config, scheduler: false, now: () => NOW });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    [influx, postgres] = await Promise.all([startTestInflux(), startTestPostgres()]);
    const client = await influx.client();
    database = client.database;
    const lines: string[] = [];
    for (let t = NOW - 24 * HOUR; t < NOW; t += 300_000) {
      const daily = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host: 'web-1', cpu: 'cpu-total' },
          fields: {
            usage_user: 30 + 15 * daily,
            usage_system: 5 + daily,
            usage_iowait: 1,
            usage_idle: 64 - 16 * daily,
          },
          timeMs: t,
        }),
      );
    }
    await client.write(lines);
    registryUrl = await postgres.database();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all([influx?.server.stop(), postgres?.server.stop()]);
  });

  it('starts replicas together on one registry: each reports PostgreSQL ready; what one writes the other reads', async () => {
    // The first replica migrates while the others wait; all register the same bootstrap token once.
    const [a, b, c] = await Promise.all([replica(), replica(), replica()]);
    expect(a.registry.backend).toBe('postgres');
    expect((await a.registry.tokens.list()).filter((t) => t.name === 'bootstrap')).toHaveLength(1);
    for (const app of [a, b, c]) {
      const ready = await app.inject('/readyz');
      expect(ready.json()).toMatchObject({ status: 'ready', checks: { registry: 'ok' } });
    }
    const auth = { authorization: `Bearer ${BOOTSTRAP}` };
    const created = await a.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: auth,
      payload: {
        name: 'cpu',
        spec: {
          source: { preset: 'cpu' },
          intervalSeconds: 300,
          trainingWindowHours: 24,
          model: { trees: 20 },
        },
      },
    });
    expect(created.statusCode).toBe(201);
    const again = await b.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: auth,
      payload: { name: 'cpu', spec: { source: { preset: 'cpu' } } },
    });
    expect(again.statusCode).toBe(409);

    // Trained on replica a, promoted on b, rolled back on c: one history.
    const started = await a.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: auth,
      payload: {},
    });
    expect(started.statusCode).toBe(202);
    await a.jobs.finished(started.json().id);
    const job = (await c.inject({ url: `/api/v1/jobs/${started.json().id}`, headers: auth })).json();
    expect(job).toMatchObject({ state: 'succeeded', progress: 1 });
    await a
      .inject({ method: 'POST', url: '/api/v1/detectors/cpu/train', headers: auth, payload: {} })
      .then((r) => a.jobs.finished(r.json().id));
    for (const version of [1, 2]) {
      const promoted = await b.inject({
        method: 'POST',
        url: `/api/v1/admin/detectors/cpu/models/${version}/stage`,
        headers: auth,
        payload: { stage: 'production', reason: `v${version}` },
      });
      expect(promoted.json()).toMatchObject({ version, stage: 'production' });
    }
    const back = await c.inject({
      method: 'POST',
      url: '/api/v1/admin/detectors/cpu/rollback',
      headers: auth,
      payload: { reason: 'noisy', entity: 'web-1' },
    });
    expect(back.json()).toMatchObject({ version: 1, stage: 'production' });
    const models = (await a.inject({ url: '/api/v1/detectors/cpu/models', headers: auth })).json();
    expect(models.map((m: { version: number; stage: string }) => [m.version, m.stage])).toEqual([
      [2, 'archived'],
      [1, 'production'],
    ]);
    const history = (await b.inject({ url: '/api/v1/detectors/cpu/history', headers: auth })).json();
    expect(
      history.map(
        (h: { version: number; from: string | null; to: string }) => `${h.version}:${h.from}→${h.to}`,
      ),
    ).toEqual([
      '1:null→candidate',
      '2:null→candidate',
      '1:candidate→production',
      '1:production→archived',
      '2:candidate→production',
      '2:production→archived',
      '1:archived→production',
    ]);
  });

  it('delivers each alert in the shared outbox once, though every replica drains it', async () => {
    // A webhook that answers slowly, so the replicas' deliveries overlap.
    const bodies: string[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => setTimeout(() => (bodies.push(body), res.writeHead(204).end()), 50));
    });
    const port = await freePort();
    await new Promise<void>((r) => hook.listen(port, '127.0.0.1', r));
    try {
      const webhookUrl = `http://127.0.0.1:${port}/isoscope`;
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => replica({ webhookUrl, webhookSecret: 's' })));
      const event = (entity: string): AlertEvent => ({
        status: 'firing',
        detector: 'cpu',
        entity,
        severity: 'high',
        score: 0.9,
        startsAt: NOW,
        topFeatures: [],
        link: '/a/isoscope-anomaly-app/explain',
      });
      for (let round = 0; round < 5; round++) {
        const entities = [0, 1, 2, 3].map((i) => `host-${round}-${i}`);
        await a!.registry.outbox.add(
          'webhook',
          entities.map((e) => JSON.stringify(event(e))),
          NOW,
        );
        for (const app of [a!, b!, c!]) app.alerts.queue.resume();
        await Promise.all([a!, b!, c!].map((app) => app.alerts.queue.settled()));
      }
      const sent = bodies.flatMap((body) =>
        (JSON.parse(body) as { alerts: Array<{ entity: string }> }).alerts.map((x) => x.entity),
      );
      expect(sent).toHaveLength(20);
      expect(new Set(sent).size).toBe(20);
      expect(await a!.registry.outbox.list('webhook')).toEqual([]);
    } finally {
      await new Promise((r) => hook.close(r));
    }
  }, 60_000);

  it("does not fail a live replica's running job when another replica starts; fails a dead one's", async () => {
    const a = apps[0] ?? (await replica());
    await a.registry.createDetector(
      { id: 'jobs', name: 'jobs', spec: { source: { preset: 'cpu' } } as never },
      NOW,
    );
    // A job of a replica that died two minutes ago: queued, and silent since.
    await a.registry.jobs.create({ id: 'orphan', detectorId: 'jobs', kind: 'backfill' }, NOW - 120_000);
    let release!: () => void;
    const job = await a.jobs.submit('jobs', 'backfill', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    expect((await a.registry.getJob(job.id))?.state).toBe('running');
    await a.jobs.heartbeat();
    await replica(); // starts, and fails what nobody runs any more
    expect((await a.registry.getJob('orphan'))?.state).toBe('failed');
    expect((await a.registry.getJob(job.id))?.state).toBe('running');
    release();
    await a.jobs.finished(job.id);
    expect((await a.registry.getJob(job.id))?.state).toBe('succeeded');
  });

  it('isoscope token manages the tokens of the PostgreSQL registry that ISOSCOPE_REGISTRY_URL names', async () => {
    const env = { ISOSCOPE_REGISTRY_URL: registryUrl };
    const created = isoscope(['token', 'create', '--role', 'viewer', '--name', 'grafana'], { env });
    expect(created.stderr).toContain('(grafana, viewer) created');
    const token = created.stdout.trim();
    const app = apps[0] ?? (await replica());
    const asGrafana = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/api/v1/detectors', headers: asGrafana })).statusCode).toBe(200);
    const id = isoscope(['token', 'list'], { env })
      .stdout.split('\n')
      .find((line) => line.includes('grafana'))!
      .split(/\s+/)[0]!;
    expect(isoscope(['token', 'revoke', id], { env }).code).toBe(0);
    // Revoked by another process: refused once the replica's cached lookup expires.
    await new Promise((r) => setTimeout(r, TOKEN_TTL_MS + 50));
    expect((await app.inject({ url: '/api/v1/detectors', headers: asGrafana })).statusCode).toBe(401);
    const wrong = isoscope(['token', 'list'], { env: { ISOSCOPE_REGISTRY_URL: 'mysql://u:secret@h/db' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('ISOSCOPE_REGISTRY_URL must be a postgres:// or postgresql:// URL');
    expect(wrong.stderr).not.toContain('secret');
  });

  it('keeps SQLite as the default, and says what is wrong with a registry URL without echoing its password', async () => {
    const sqlite = await testApp(influx.server.url, database);
    apps.push(sqlite);
    expect(sqlite.registry.backend).toBe('sqlite');
    expect((await sqlite.inject({ url: '/api/v1/detectors', headers: as('viewer') })).json()).toEqual([]);

    expect(() =>
      loadConfig({ ISOSCOPE_REGISTRY_URL: 'mysql://root:hunter2@db/isoscope' }, {}, undefined),
    ).toThrow(
      new ConfigError(
        "ISOSCOPE_REGISTRY_URL must be a postgres:// or postgresql:// URL (unset: SQLite in the data directory), got 'mysql://***@db/isoscope'",
      ),
    );
    const port = await freePort();
    const config = loadConfig(
      {},
      {
        dataDir: scratchDir('unreachable'),
        influxUrl: influx.server.url,
        influxDb: database,
        registryUrl: `postgres://isoscope:hunter2@127.0.0.1:${port}/isoscope`,
        logLevel: 'silent',
      },
      undefined,
    );
    const failed = buildApp({ config, scheduler: false });
    await expect(failed).rejects.toThrow(
      `registry: cannot open PostgreSQL at postgres://isoscope:***@127.0.0.1:${port}/isoscope`,
    );
    await expect(failed).rejects.not.toThrow('hunter2');
  });
});
