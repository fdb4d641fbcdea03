import type { FastifyInstance } from 'fastify';
import { StreamingDetector } from '../../backend/src/engine/index.js';
import { InfluxUnavailableError } from '../../backend/src/io/influx/index.js';
import { cpuCycleLines } from '../support/cpu-fleet.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2024, 0, 3);

/**
 * Faults while models train (real influxd, real SQLite, the app as the server runs it: training
 * on worker threads). InfluxDB timeouts are injected into the app's client: a query that fails,
 * or one that hangs until the test lets it fail, as a stalled InfluxDB does.
 */
describe('faults while models train (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = NOW;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    // Two days of minute cpu data for two hosts, and an hour after NOW for live scoring.
    await client.write(cpuCycleLines(NOW - 48 * HOUR, NOW + HOUR));
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: {
        name: 'cpu',
        spec: { source: { preset: 'cpu' }, intervalSeconds: 60, trainingWindowHours: 48 },
      },
    });
    expect(created.statusCode).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  const job = async (id: string): Promise<{ state: string; phase: string; error?: string }> =>
    (await app.inject({ url: `/api/v1/jobs/${id}`, headers: as('viewer') })).json();

  it('answers /healthz while a model trains: the forests grow on a worker thread, the event loop stays free', async () => {
    const pushes = jest.spyOn(StreamingDetector.prototype, 'push');
    try {
      const started = await app.inject({
        method: 'POST',
        url: '/api/v1/detectors/cpu/train',
        headers: as('editor'),
        payload: { promote: true },
      });
      expect(started.statusCode).toBe(202);
      const id = started.json().id as string;
      let finished = false;
      void app.jobs.finished(id).then(() => (finished = true));
      let ticks = 0;
      let answeredWhileBootstrapping = 0;
      while (!finished) {
        await new Promise((r) => setImmediate(r));
        ticks++;
        const before = (await app.registry.getJob(id))!.phase;
        const health = await app.inject({ url: '/healthz' });
        const after = (await app.registry.getJob(id))!.phase;
        expect(health.statusCode).toBe(200);
        // The same entity's stream ran before and after the probe: it answered while that stream trained.
        if (before.startsWith('bootstrapping') && before === after && !finished) answeredWhileBootstrapping++;
      }
      expect(await job(id)).toMatchObject({ state: 'succeeded' });
      expect(answeredWhileBootstrapping).toBeGreaterThan(0);
      expect(ticks).toBeGreaterThan(answeredWhileBootstrapping);
      // 2 × 2880 rows went through the stream, none of them on this thread.
      expect(pushes).not.toHaveBeenCalled();
    } finally {
      pushes.mockRestore();
    }
    expect((await app.registry.listRuntimeStates('cpu')).map((s) => `${s.entity}:${s.stage}`)).toEqual([
      'web-1:production',
      'web-2:production',
    ]);
  });

  it('scores on through InfluxDB timeouts during a retrain; readiness says stalled, then names the failing detector, then recovers', async () => {
    const query = app.influx.query.bind(app.influx);
    interface Ready {
      status: string;
      checks: { scheduler: string };
      details: { lastPassAgeSeconds?: number; failingDetectors: unknown[] };
    }
    const ready = async (): Promise<{ statusCode: number; body: Ready }> => {
      const r = await app.inject({ url: '/readyz' });
      return { statusCode: r.statusCode, body: r.json() };
    };
    const failingMetric = async (): Promise<string | undefined> =>
      (await app.inject({ url: '/metrics' })).body
        .split('\n')
        .find((l) => l.startsWith('isoscope_scoring_failing{'));
    app.scheduler.start(HOUR); // its timer never fires here: the test ticks, on its own clock
    try {
      clock = NOW + 5 * MIN;
      await app.scheduler.tick(clock);
      expect(await ready()).toMatchObject({
        statusCode: 200,
        body: { status: 'ready', details: { lastPassAgeSeconds: 0, failingDetectors: [] } },
      });

      // A retrain whose first two reads time out: the job waits them out (1 s, then 2 s).
      let timeouts = 2;
      app.influx.query = async (q, o) => {
        if (timeouts > 0 && /FROM "cpu"/.test(q)) {
          timeouts--;
          throw new InfluxUnavailableError(
            'InfluxDB at http://influx did not answer within 30000 ms',
            'INFLUX_TIMEOUT',
          );
        }
        return query(q, o);
      };
      const retrain = await app.inject({
        method: 'POST',
        url: '/api/v1/detectors/cpu/train',
        headers: as('editor'),
        payload: { promote: true, to: new Date(NOW).toISOString() },
      });
      expect(retrain.statusCode).toBe(202);
      const id = retrain.json().id as string;
      // Scoring goes on while the retrain waits for InfluxDB and trains.
      let scoredDuringTraining = 0;
      while ((await app.registry.getJob(id))!.state !== 'succeeded') {
        expect((await app.registry.getJob(id))!.state).not.toBe('failed');
        clock += MIN;
        await app.scheduler.tick(clock);
        if ((await app.registry.getJob(id))!.state === 'running') scoredDuringTraining++;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(timeouts).toBe(0);
      expect(scoredDuringTraining).toBeGreaterThan(0);

      // InfluxDB stops answering: the pass hangs, and three intervals later readiness says so.
      let release: (err: Error) => void = () => undefined;
      app.influx.query = (q, o) =>
        /FROM "cpu"/.test(q) ? new Promise((_, reject) => (release = reject)) : query(q, o);
      const passAt = clock;
      const held = app.scheduler.tick((clock += MIN));
      clock = passAt + 3 * HOUR;
      expect((await ready()).statusCode).toBe(200);
      clock = passAt + 3 * HOUR + MIN;
      const stalled = await ready();
      expect(stalled).toMatchObject({ statusCode: 503, body: { status: 'not ready' } });
      expect(stalled.body.checks.scheduler).toMatch(
        /^stalled: last pass 10860 s ago, one is due every 3600 s$/,
      );

      // The query times out at last: the pass ends, the detector is named as failing.
      release(
        new InfluxUnavailableError(
          'InfluxDB at http://influx did not answer within 30000 ms',
          'INFLUX_TIMEOUT',
        ),
      );
      await held;
      const failing = await ready();
      expect(failing.statusCode).toBe(200);
      expect(failing.body.details.failingDetectors).toEqual([
        {
          detector: 'cpu',
          since: new Date(passAt + MIN).toISOString(),
          error: expect.stringMatching(/did not answer within 30000 ms/),
        },
      ]);
      expect(await failingMetric()).toBe('isoscope_scoring_failing{detector="cpu"} 1');

      // InfluxDB is back: the next pass scores and the detector is no longer failing.
      app.influx.query = query;
      const scored = app.telemetry.scoringRows;
      const rowsBefore = (await scored.get()).values.reduce((n, v) => n + v.value, 0);
      clock = NOW + HOUR;
      await app.scheduler.tick(clock);
      expect((await scored.get()).values.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(rowsBefore);
      expect(await ready()).toMatchObject({
        statusCode: 200,
        body: { status: 'ready', details: { lastPassAgeSeconds: 0, failingDetectors: [] } },
      });
      expect(await failingMetric()).toBe('isoscope_scoring_failing{detector="cpu"} 0');
    } finally {
      app.influx.query = query;
      await app.scheduler.stop();
    }
  });

  it('refuses a spec whose fields no longer fit the production models (409 naming them), and takes one that keeps them', async () => {
    const before = (await app.inject({ url: '/api/v1/detectors/cpu', headers: as('viewer') })).json();
    const fewer = await app.inject({
      method: 'PUT',
      url: '/api/v1/detectors/cpu',
      headers: as('editor'),
      payload: {
        spec: {
          ...before.spec,
          source: {
            measurement: 'cpu',
            entityTag: 'host',
            tags: { cpu: 'cpu-total' },
            fields: [
              { field: 'usage_user', aggregate: 'mean' },
              { field: 'usage_steal', aggregate: 'mean' },
            ],
          },
        },
      },
    });
    expect(fewer.statusCode).toBe(409);
    expect(fewer.json()).toMatchObject({ code: 'FEATURE_MISMATCH' });
    expect(fewer.json().message).toMatch(
      /trained on usage_user, usage_system, usage_iowait, usage_idle, the spec removes usage_system, usage_iowait, usage_idle and adds usage_steal\. Versions in production or staging: 4 \(web-2\), 3 \(web-1\)\. Create a new detector/,
    );
    expect((await app.inject({ url: '/api/v1/detectors/cpu', headers: as('viewer') })).json().spec).toEqual(
      before.spec,
    );
    // The same fields with another setting (how often to score) fit: 200.
    const kept = await app.inject({
      method: 'PUT',
      url: '/api/v1/detectors/cpu',
      headers: as('editor'),
      payload: { spec: { ...before.spec, schedule: { ...before.spec.schedule, scoreEverySeconds: 120 } } },
    });
    expect(kept.statusCode).toBe(200);
    expect(kept.json().spec.schedule.scoreEverySeconds).toBe(120);
  });
});
