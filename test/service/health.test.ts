import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { toLine } from '../../backend/src/io/influx/index.js';
import { DetectorHealth } from '../../backend/src/service/schemas/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
const STEP = 300_000;

/** The value of one sample of /metrics' text, or undefined when it is not there. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('detector health: GET /detectors/:id/health and /metrics (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = NOW - HOUR;
  let database = '';

  const health = async (): Promise<DetectorHealth> => {
    const r = await app.inject({ url: '/api/v1/detectors/cpu/health', headers: as('viewer') });
    expect(r.statusCode).toBe(200);
    const body = r.json() as DetectorHealth;
    expect([...Value.Errors(DetectorHealth, body)]).toEqual([]);
    return body;
  };
  const metrics = async (): Promise<string> => (await app.inject({ url: '/metrics' })).body;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    database = client.database;
    const lines: string[] = [];
    for (const [h, host] of ['web-1', 'web-2'].entries())
      for (let t = NOW - 50 * HOUR; t < NOW; t += STEP) {
        const wobble = Math.sin(t / 3_333_333 + h) + Math.cos(t / 1_234_567);
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host, cpu: 'cpu-total' },
            fields: {
              usage_user: 30 + wobble,
              usage_system: 5 + wobble / 5,
              usage_iowait: 1 + wobble / 10,
              usage_idle: 64 - wobble,
            },
            timeMs: t,
          }),
        );
      }
    await client.write(lines);
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: {
        name: 'cpu',
        spec: {
          source: { preset: 'cpu' },
          intervalSeconds: 300,
          trainingWindowHours: 48,
          model: { trees: 50 },
        },
      },
    });
    expect(created.statusCode).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  it('before any training: not scored, 404 for an unknown detector', async () => {
    expect(await health()).toMatchObject({ state: 'not scored', entities: [], rowsScored: 0 });
    const missing = await app.inject({ url: '/api/v1/detectors/nope/health', headers: as('viewer') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe("no detector 'nope'");
    const anonymous = await app.inject({ url: '/api/v1/detectors/cpu/health' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('after a promoted training an hour ago: each host scored up to then, the detector lagging', async () => {
    const train = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: { to: new Date(NOW - HOUR).toISOString(), promote: true },
    });
    await app.jobs.finished(train.json().id);
    clock = NOW;
    const h = await health();
    // A 5-minute interval scored every minute: a period of 360 s, lagging past 1080 s, stalled past 3600 s.
    expect(h.lagLimits).toEqual({ lagging: 1080, stalled: 3600 });
    expect(h).toMatchObject({
      state: 'lagging',
      lagSeconds: 3600,
      scoredTo: new Date(NOW - HOUR).toISOString(),
      lastTraining: { state: 'succeeded' },
      drift: { state: 'unchecked' },
    });
    // Each host's first model is its v1, whatever the detector-wide ids.
    expect(
      h.entities.map((e) => [e.entity, e.state, e.productionVersion, e.productionEntityVersion]),
    ).toEqual([
      ['web-1', 'lagging', 1, 1],
      ['web-2', 'lagging', 2, 1],
    ]);
    const models = await app.inject({ url: '/api/v1/detectors/cpu/models', headers: as('viewer') });
    expect(
      models
        .json()
        .map((v: { entity: string; version: number; entityVersion: number }) => [
          v.entity,
          v.version,
          v.entityVersion,
        ]),
    ).toEqual([
      ['web-2', 2, 1],
      ['web-1', 1, 1],
    ]);
    const text = await metrics();
    expect(sample(text, 'isoscope_detector_lag_seconds', 'detector="cpu"')).toBe(3600);
    expect(sample(text, 'isoscope_detector_state', 'detector="cpu",state="lagging"')).toBe(1);
    expect(sample(text, 'isoscope_detector_state', 'detector="cpu",state="ok"')).toBe(0);
    expect(sample(text, 'isoscope_detector_training_failed', 'detector="cpu"')).toBe(0);
    expect(sample(text, 'isoscope_detector_entities', 'detector="cpu",scored="yes"')).toBe(2);
  });

  it('a scoring tick catches up: ok, with the rows it scored per host', async () => {
    await app.scheduler.tick(NOW);
    const h = await health();
    expect(h).toMatchObject({ state: 'ok', lagSeconds: 0, rowsScored: 24, failures: { total: 0 } });
    expect(h.entities.map((e) => [e.entity, e.rowsScored])).toEqual([
      ['web-1', 12],
      ['web-2', 12],
    ]);
    const text = await metrics();
    expect(sample(text, 'isoscope_detector_state', 'detector="cpu",state="ok"')).toBe(1);
    expect(sample(text, 'isoscope_scoring_rows_total', 'detector="cpu"')).toBe(24);
  });

  it('a source that cannot be read makes it failing, with the error, until scoring works again', async () => {
    const put = (db: string) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/detectors/cpu',
        headers: as('editor'),
        payload: {
          spec: {
            source: { preset: 'cpu', database: db },
            intervalSeconds: 300,
            trainingWindowHours: 48,
            model: { trees: 50 },
          },
        },
      });
    expect((await put('no_such_database')).statusCode).toBe(200);
    clock = NOW + 10 * 60_000;
    await app.scheduler.tick(clock);
    let h = await health();
    expect(h.state).toBe('failing');
    expect(h.failures).toMatchObject({ total: 1, consecutive: 1, lastAt: new Date(clock).toISOString() });
    expect(h.reason).toMatch(/^the last scoring attempt failed: .*no_such_database/);
    let text = await metrics();
    expect(sample(text, 'isoscope_scoring_failures_total', 'detector="cpu"')).toBe(1);
    expect(sample(text, 'isoscope_detector_state', 'detector="cpu",state="failing"')).toBe(1);

    expect((await put(database)).statusCode).toBe(200);
    await app.scheduler.tick(clock + 60_000);
    h = await health();
    expect(h).toMatchObject({ state: 'ok', failures: { total: 1, consecutive: 0 } });
    text = await metrics();
    expect(sample(text, 'isoscope_detector_state', 'detector="cpu",state="failing"')).toBe(0);
  });
});
