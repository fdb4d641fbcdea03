import type { FastifyInstance } from 'fastify';
import { StreamingDetector } from '../../backend/src/engine/index.js';
import { cpuCycleLines } from '../support/cpu-fleet.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2024, 0, 5);

/**
 * Backfills and live scoring as the server runs them (real influxd, the app's defaults: the
 * overload check on event-loop delay is on): their detectors restore, score and snapshot on
 * worker threads, so API requests are answered while they run, and not one row goes through a
 * stream on the API's thread.
 */
describe('backfills and live scoring on worker threads (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = NOW;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    // Four days of minute cpu data for two hosts: two to train on, two to backfill, and an hour
    // after NOW for live scoring.
    await client.write(cpuCycleLines(NOW - 96 * HOUR, NOW + HOUR));
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    expect(app.config.maxEventLoopDelayMs).toBeGreaterThan(0);
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
    const train = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: { to: new Date(NOW - 48 * HOUR).toISOString(), promote: true },
    });
    await app.jobs.finished(train.json().id);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  it('answers API requests while a backfill scores, and scores none of its rows on the API thread', async () => {
    const spies = [
      jest.spyOn(StreamingDetector.prototype, 'push'),
      jest.spyOn(StreamingDetector.prototype, 'pushMany'),
      jest.spyOn(StreamingDetector.prototype, 'snapshot'),
      jest.spyOn(StreamingDetector, 'restore'),
    ];
    try {
      const started = await app.inject({
        method: 'POST',
        url: '/api/v1/detectors/cpu/backfill',
        headers: as('editor'),
        payload: { from: new Date(NOW - 48 * HOUR).toISOString(), to: new Date(NOW).toISOString() },
      });
      expect(started.statusCode).toBe(202);
      const id = started.json().id as string;
      let finished = false;
      void app.jobs.finished(id).then(() => (finished = true));
      let answeredWhileScoring = 0;
      while (!finished) {
        await new Promise((r) => setImmediate(r));
        const before = (await app.registry.getJob(id))!;
        const detector = await app.inject({ url: '/api/v1/detectors/cpu', headers: as('viewer') });
        const after = (await app.registry.getJob(id))!;
        expect(detector.statusCode).toBe(200);
        // The same day was being scored before and after the request: it was answered meanwhile.
        if (
          before.phase === 'scoring' &&
          after.phase === 'scoring' &&
          before.progress === after.progress &&
          !finished
        )
          answeredWhileScoring++;
      }
      const job = (await app.inject({ url: `/api/v1/jobs/${id}`, headers: as('viewer') })).json();
      expect(job).toMatchObject({ state: 'succeeded', result: { rows: 2 * 2880 } });
      expect(answeredWhileScoring).toBeGreaterThan(0);

      // Live scoring: the hour after NOW, from the runtimes' saved states, on the scoring worker.
      clock = NOW + HOUR;
      const live = await app.runtimes.scoreUpTo('cpu', NOW + HOUR);
      expect(live.rows).toBe(2 * (48 * 60 + 60));
      const again = await app.runtimes.scoreUpTo('cpu', NOW + HOUR);
      expect(again.rows).toBe(0);
      // 2 × 2880 backfilled rows and 2 × 2940 live ones went through a stream, none on this thread.
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const states = await app.registry.listRuntimeStates('cpu');
    expect(states.map((s) => [s.entity, s.stage, s.scoredTo])).toEqual([
      ['web-1', 'production', NOW + HOUR],
      ['web-2', 'production', NOW + HOUR],
    ]);
  });
});
