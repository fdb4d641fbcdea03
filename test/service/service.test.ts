import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { toLine } from '../../backend/src/io/influx/index.js';
import { ConfigError, loadConfig, parseDotenv } from '../../backend/src/service/config.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';
import { scratchDir } from '../support/scratch.js';

const NOW = Date.UTC(2024, 0, 1, 12);
const cpuDetector = { name: 'CPU all hosts', spec: { source: { preset: 'cpu' } } };

describe('the service (app.inject, real influxd, real SQLite)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let db: string;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    db = client.database;
    const lines: string[] = [];
    for (const host of ['web-1', 'web-2']) {
      for (let i = 0; i < 30; i++) {
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host, cpu: 'cpu-total' },
            fields: { usage_user: 20 + i, usage_system: 5, usage_iowait: 1, usage_idle: 74 - i },
            timeMs: NOW - (30 - i) * 60_000,
          }),
        );
      }
    }
    await client.write(lines);
    app = await testApp(influx.server.url, db, {}, () => NOW);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  it('answers the probes: /healthz always, /readyz when the registry and InfluxDB are there', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { registry: 'ok', influx: expect.stringMatching(/^ok/) },
    });
  });

  it('says not ready (503) when InfluxDB is down, while /healthz stays up', async () => {
    const down = await testApp(`http://127.0.0.1:${await freePort()}`, 'x');
    try {
      expect((await down.inject('/healthz')).statusCode).toBe(200);
      const ready = await down.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.influx).toMatch(/unreachable/);
      const health = await down.inject({ url: '/api/v1/grafana/health', headers: as('viewer') });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({
        code: 'INFLUX_UNAVAILABLE',
        message: expect.stringMatching(/InfluxDB is unreachable/),
      });
      expect(health.headers['retry-after']).toBe('10');
    } finally {
      await down.close();
    }
  });

  it('creates, reads, updates and deletes a detector', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: cpuDetector,
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/api/v1/detectors/cpu-all-hosts');
    const body = created.json();
    expect(body).toMatchObject({
      id: 'cpu-all-hosts',
      name: 'CPU all hosts',
      createdAt: new Date(NOW).toISOString(),
    });
    // Defaults are filled in from the schema.
    expect(body.spec).toMatchObject({
      intervalSeconds: 60,
      trainingWindowHours: 168,
      schedule: { scoreEverySeconds: 60, retrainOnDrift: true },
    });
    expect((await app.inject({ url: '/api/v1/detectors', headers: as('viewer') })).json()).toHaveLength(1);
    const updated = await app.inject({
      method: 'PUT',
      url: '/api/v1/detectors/cpu-all-hosts',
      headers: as('editor'),
      payload: { name: 'CPU' },
    });
    expect(updated.json().name).toBe('CPU');
    const dup = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { ...cpuDetector, name: 'CPU' },
    });
    expect(dup.statusCode).toBe(409);
    const removed = await app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/detectors/cpu-all-hosts',
      headers: as('admin'),
    });
    expect(removed.statusCode).toBe(204);
    expect(
      (await app.inject({ url: '/api/v1/detectors/cpu-all-hosts', headers: as('viewer') })).statusCode,
    ).toBe(404);
  });

  it('previews a detector’s source data from InfluxDB per entity, and says which range was empty', async () => {
    await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'cpu preview', spec: { source: { preset: 'cpu' } } },
    });
    const preview = await app.inject({
      url: '/api/v1/detectors/cpu-preview/preview?minutes=10',
      headers: as('viewer'),
    });
    expect(preview.statusCode).toBe(200);
    const p = preview.json();
    expect(p.fields).toEqual(['usage_user', 'usage_system', 'usage_iowait', 'usage_idle']);
    expect(p.entities.map((e: { entity: string }) => e.entity)).toEqual(['web-1', 'web-2']);
    expect(p.entities[0].rows).toBe(10);
    await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'mem', spec: { source: { preset: 'mem' } } },
    });
    const empty = await app.inject({ url: '/api/v1/detectors/mem/preview', headers: as('viewer') });
    expect(empty.statusCode).toBe(422);
    expect(empty.json().message).toMatch(/measurement 'mem' has no data for fields used_percent/);
  });

  it("reads a source's own database when it names one, and says which database does not exist", async () => {
    const other = await influx.client();
    await other.write([
      toLine({
        measurement: 'cpu',
        tags: { host: 'db-9', cpu: 'cpu-total' },
        fields: { usage_user: 50, usage_system: 5, usage_iowait: 1, usage_idle: 44 },
        timeMs: NOW - 60_000,
      }),
    ]);
    // Allowed by the configuration (the default allows only the service's own database).
    const wide = await testApp(
      influx.server.url,
      db,
      { influxAllowedDatabases: `${other.database}, no_such_db` },
      () => NOW,
    );
    const preview = async (database: string, on = wide) =>
      on.inject({
        method: 'POST',
        url: '/api/v1/detectors/preview?minutes=10',
        headers: as('editor'),
        payload: { spec: { source: { preset: 'cpu', database } } },
      });
    const own = await preview(other.database);
    expect(own.statusCode).toBe(200);
    expect(own.json().entities.map((e: { entity: string }) => e.entity)).toEqual(['db-9']);
    const missing = await preview('no_such_db');
    expect(missing.statusCode).toBeGreaterThanOrEqual(400);
    expect(missing.statusCode).toBeLessThan(500);
    expect(missing.json().message).toMatch(/database 'no_such_db' does not exist in InfluxDB/);
    // Not on the allow-list: refused before InfluxDB is asked.
    const refused = await preview(other.database, app);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      code: 'SOURCE_NOT_ALLOWED',
      message: expect.stringContaining(`database "${other.database}" is not one this service may read`),
    });
    await wide.close();
  });

  it('previews a spec before it is saved, and names a preset that does not exist', async () => {
    const preview = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/preview?minutes=10',
      headers: as('editor'),
      payload: { spec: { source: { preset: 'cpu' } } },
    });
    expect(preview.statusCode).toBe(200);
    expect(preview.json().entities.map((e: { entity: string }) => e.entity)).toEqual(['web-1', 'web-2']);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/preview',
      headers: as('editor'),
      payload: { spec: { source: { preset: 'gpu' } } },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(/spec.source.preset 'gpu' is not one of cpu, mem/);
    expect((await app.inject({ url: '/api/v1/detectors', headers: as('viewer') })).json()).not.toContainEqual(
      expect.objectContaining({ name: 'gpu' }),
    );
  });

  it('says what a Flux source needs when the config lacks it', async () => {
    await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'cpu flux', spec: { source: { preset: 'cpu', language: 'flux' } } },
    });
    const r = await app.inject({ url: '/api/v1/detectors/cpu-flux/preview', headers: as('viewer') });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toBe(
      'spec.source.language flux needs ISOSCOPE_INFLUX_TOKEN, ISOSCOPE_INFLUX_ORG and ISOSCOPE_INFLUX_BUCKET',
    );
  });

  it.each([
    [{ name: '', spec: { source: { preset: 'cpu' } } }, 'body/name'],
    [{ name: 'x', spec: {} }, "body/spec must have required property 'source'"],
    [
      { name: 'x', spec: { source: { preset: 'cpu' }, intervalSeconds: 0 } },
      'body/spec/intervalSeconds must be >= 1',
    ],
    [{ name: 'x', spec: { source: { preset: 'gpu' } } }, "spec.source.preset 'gpu' is not one of cpu, mem"],
    [{ name: 'x', spec: { source: { measurement: 'cpu', fields: [] } } }, 'body/spec/source'],
    [
      { name: 'x', spec: { source: { preset: 'cpu' }, model: { outOfRange: 'wrap' } } },
      'body/spec/model/outOfRange',
    ],
    [
      { name: 'x', spec: { source: { preset: 'cpu' }, model: { threshold: 1 } } },
      'body/spec/model/threshold must be < 1',
    ],
    [
      { name: 'x', spec: { source: { preset: 'cpu' }, alerting: { receivers: ['webhook'] } } },
      'spec.alerting.receivers: webhook is not configured on this service (configured: none)',
    ],
    [
      { name: 'x', spec: { source: { preset: 'cpu' }, alerting: { receivers: ['pager'] } } },
      'body/spec/alerting/receivers/0',
    ],
    [
      {
        name: 'x',
        spec: { source: { preset: 'cpu' }, model: { threshold: 0.7, thresholdPolicy: 'contamination' } },
      },
      'spec.model.threshold and spec.model.thresholdPolicy: give a fixed threshold or a policy, not both',
    ],
  ])('refuses a bad detector with 400 naming the field: %j', async (payload, message) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/detectors', headers: as('editor'), payload });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toContain(message);
  });

  describe('auth: every route × role', () => {
    it('covers every /api/v1 route the app has (from its OpenAPI document)', async () => {
      const normalize = (url: string): string =>
        url
          .replace(/\?.*$/, '')
          .replace(/\/$/, '')
          .replace(/\/(cpu-preview|no-such-detector)(\/|$)/, '/{id}$2')
          .replace(/\/no-such-job/, '/{jobId}')
          .replace(/\/(incidents|suppressions)\/no-such-\w+/, '/$1/{id}')
          .replace(/\/models\/1/, '/models/{version}');
      const listed = routes.map(([method, url]) => `${method} ${normalize(url)}`).sort();
      const doc = (await app.inject('/docs/json')).json() as {
        paths: Record<string, Record<string, unknown>>;
      };
      const actual = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/api/v1'))
        .flatMap(([path, methods]) =>
          Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\/$/, '')}`),
        )
        .sort();
      expect(listed).toEqual(actual);
    });

    // Every row has four entries: jest takes a missing last argument for a `done` callback.
    const routes: Array<[string, string, 'viewer' | 'editor' | 'admin', unknown]> = [
      ['GET', '/api/v1/detectors', 'viewer', undefined],
      ['GET', '/api/v1/presets', 'viewer', undefined],
      ['GET', '/api/v1/grafana/health', 'viewer', undefined],
      ['GET', '/api/v1/detectors/cpu-preview', 'viewer', undefined],
      ['GET', '/api/v1/detectors/cpu-preview/preview', 'viewer', undefined],
      ['GET', '/api/v1/detectors/cpu-preview/health', 'viewer', undefined],
      ['POST', '/api/v1/detectors', 'editor', { name: 'auth probe', spec: { source: { preset: 'system' } } }],
      ['POST', '/api/v1/detectors/preview', 'editor', { spec: { source: { preset: 'system' } } }],
      ['PUT', '/api/v1/detectors/cpu-preview', 'editor', { name: 'cpu preview' }],
      ['DELETE', '/api/v1/admin/detectors/no-such-detector', 'admin', undefined],
      ['POST', '/api/v1/detectors/no-such-detector/train', 'editor', {}],
      ['GET', '/api/v1/detectors/cpu-preview/jobs', 'viewer', undefined],
      ['GET', '/api/v1/jobs/no-such-job', 'viewer', undefined],
      ['POST', '/api/v1/jobs/no-such-job/cancel', 'editor', undefined],
      ['GET', '/api/v1/detectors/cpu-preview/models', 'viewer', undefined],
      ['GET', '/api/v1/detectors/cpu-preview/models/1', 'viewer', undefined],
      [
        'POST',
        '/api/v1/admin/detectors/cpu-preview/models/1/stage',
        'admin',
        { stage: 'production', reason: 'x' },
      ],
      ['POST', '/api/v1/admin/detectors/cpu-preview/rollback', 'admin', { reason: 'x' }],
      ['GET', '/api/v1/detectors/cpu-preview/history', 'viewer', undefined],
      [
        'GET',
        `/api/v1/detectors/cpu-preview/anomalies?from=${new Date(NOW - 3_600_000).toISOString()}&to=${new Date(NOW).toISOString()}`,
        'viewer',
        undefined,
      ],
      [
        'POST',
        '/api/v1/detectors/cpu-preview/backfill',
        'editor',
        { from: new Date(NOW - 3_600_000).toISOString(), to: new Date(NOW).toISOString() },
      ],
      [
        'GET',
        `/api/v1/detectors/cpu-preview/explain?entity=web-1&time=${new Date(NOW).toISOString()}`,
        'viewer',
        undefined,
      ],
      [
        'GET',
        `/api/v1/detectors/cpu-preview/validation?from=${new Date(NOW - 3_600_000).toISOString()}&to=${new Date(NOW).toISOString()}`,
        'viewer',
        undefined,
      ],
      ['GET', '/api/v1/detectors/cpu-preview/drift', 'viewer', undefined],
      ['POST', '/api/v1/detectors/cpu-preview/drift', 'editor', {}],
      [
        'POST',
        '/api/v1/grafana/query',
        'viewer',
        {
          range: { from: new Date(NOW - 3_600_000).toISOString(), to: new Date(NOW).toISOString() },
          targets: [{ refId: 'A', detector: '', return: 'anomalies' }],
        },
      ],
      ['POST', '/api/v1/grafana/variables', 'viewer', { find: 'detectors' }],
      ['GET', '/api/v1/incidents', 'viewer', undefined],
      ['GET', '/api/v1/incidents/labels?detector=cpu-preview', 'viewer', undefined],
      ['GET', '/api/v1/incidents/no-such-incident', 'viewer', undefined],
      ['POST', '/api/v1/incidents/no-such-incident/feedback', 'editor', { verdict: 'real' }],
      ['GET', '/api/v1/suppressions', 'viewer', undefined],
      ['POST', '/api/v1/suppressions', 'editor', {}],
      ['DELETE', '/api/v1/suppressions/no-such-rule', 'editor', undefined],
      [
        'POST',
        '/api/v1/grafana/annotations',
        'viewer',
        { range: { from: new Date(NOW - 3_600_000).toISOString(), to: new Date(NOW).toISOString() } },
      ],
    ];
    const roles = ['viewer', 'editor', 'admin'] as const;
    const rank = (r: (typeof roles)[number]): number => roles.indexOf(r);

    it.each(routes)('%s %s needs %s', async (method, url, needed, payload) => {
      const send = (headers: Record<string, string>): Promise<{ statusCode: number }> =>
        app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(payload ? { payload: payload as object } : {}),
        });
      expect((await send({})).statusCode).toBe(401);
      expect((await send({ authorization: 'Bearer not-a-token' })).statusCode).toBe(401);
      for (const role of roles) {
        const { statusCode } = await send(as(role));
        if (rank(role) < rank(needed)) expect({ role, statusCode }).toEqual({ role, statusCode: 403 });
        else
          expect({
            role,
            statusCode: statusCode === 403 || statusCode === 401 ? statusCode : 'allowed',
          }).toEqual({ role, statusCode: 'allowed' });
      }
    });
  });

  it('serves the OpenAPI document and Prometheus metrics', async () => {
    const doc = await app.inject('/docs/json');
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/detectors/',
        '/api/v1/detectors/{id}',
        '/api/v1/grafana/health',
        '/readyz',
      ]),
    );
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toContain('isoscope_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('process_resident_memory_bytes');
  });

  it('answers unknown routes with 404 in the same error shape', async () => {
    const r = await app.inject('/api/v1/nothing');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'NOT_FOUND',
      message: 'no route GET /api/v1/nothing',
    });
  });
});

describe('config', () => {
  it('reads the environment over .env over defaults, and names a bad value', () => {
    expect(loadConfig({ ISOSCOPE_PORT: '9000' }, {}, undefined).port).toBe(9000);
    expect(parseDotenv('# c\nISOSCOPE_LOG_LEVEL="debug"\nX=1\n')).toEqual({
      ISOSCOPE_LOG_LEVEL: 'debug',
      X: '1',
    });
    expect(() => loadConfig({ ISOSCOPE_PORT: 'eighty' }, {}, undefined)).toThrow(
      new ConfigError("ISOSCOPE_PORT must be a whole number, got 'eighty'"),
    );
    expect(() => loadConfig({ ISOSCOPE_PORT: '70000' }, {}, undefined)).toThrow('ISOSCOPE_PORT must be');
    expect(() => loadConfig({ ISOSCOPE_LOG_LEVEL: 'loud' }, {}, undefined)).toThrow(
      "ISOSCOPE_LOG_LEVEL must be one of trace, debug, info, warn, error, silent, got 'loud'",
    );
    expect(() => loadConfig({ ISOSCOPE_INFLUX_URL: 'influx:8086' }, {}, undefined)).toThrow(
      'ISOSCOPE_INFLUX_URL must be an http:// or https:// URL',
    );
    expect(() => loadConfig({ ISOSCOPE_BOOTSTRAP_TOKEN: 'short' }, {}, undefined)).toThrow(
      'ISOSCOPE_BOOTSTRAP_TOKEN must be at least 16 characters',
    );
  });
});

describe('logs', () => {
  it('are JSON lines with request ids, and never carry the token', async () => {
    const { Writable } = await import('node:stream');
    const { buildApp } = await import('../../backend/src/service/app.js');
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const config = loadConfig(
      {},
      {
        dataDir: scratchDir('logs'),
        influxUrl: 'http://127.0.0.1:9',
        influxDb: 'x',
        logLevel: 'info',
      },
      undefined,
    );
    const app = await buildApp({ config, scheduler: false, logger: { stream } });
    try {
      await app.inject({
        url: '/api/v1/detectors',
        headers: { authorization: 'Bearer super-secret-token-123', 'user-agent': 'Grafana/13.1.1' },
      });
    } finally {
      await app.close();
    }
    const records = lines.map(
      (l) => JSON.parse(l) as { reqId?: string; req?: { headers?: Record<string, string> }; msg: string },
    );
    const incoming = records.find((r) => r.msg === 'incoming request')!;
    expect(incoming.reqId).toEqual(expect.any(String));
    expect(incoming.req!.headers!['user-agent']).toBe('Grafana/13.1.1');
    expect(incoming.req!.headers!.authorization).toBe('[redacted]');
    expect(lines.join('\n')).not.toContain('super-secret-token-123');
  });
});
