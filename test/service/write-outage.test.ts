import type { FastifyInstance } from 'fastify';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpuFleetLines, CPU_FLEET_STEP, trainedCpuDetector } from '../support/cpu-fleet.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
const INCIDENT = { from: NOW - 3 * HOUR, to: NOW - 3 * HOUR + 40 * 60_000 };

/**
 * A proxy in front of a real influxd that answers every /write with 500 while `refuse` is set, as
 * an InfluxDB with a full disk does, and passes everything else (reads work).
 */
async function refusingWrites(
  target: string,
): Promise<{ url: string; state: { refuse: boolean }; server: Server }> {
  const state = { refuse: false };
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    if (state.refuse && (req.url ?? '').startsWith('/write')) {
      req.resume();
      req.on('end', () =>
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"engine: disk full"}'),
      );
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state, server };
}

describe('InfluxDB refusing writes while reads work (real influxd behind an HTTP fake that refuses /write)', () => {
  let influx: TestInflux;
  let proxy: Awaited<ReturnType<typeof refusingWrites>>;
  let app: FastifyInstance;
  let client: Awaited<ReturnType<TestInflux['client']>>;
  let clock = NOW;
  const trainedTo = NOW - 24 * HOUR;

  beforeAll(async () => {
    influx = await startTestInflux();
    client = await influx.client();
    await client.write(cpuFleetLines(NOW, INCIDENT));
    proxy = await refusingWrites(influx.server.url);
    app = await testApp(proxy.url, client.database, {}, () => clock);
    await trainedCpuDetector(app, trainedTo);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await new Promise<void>((r) => (proxy ? proxy.server.close(() => r()) : r()));
    await influx?.server.stop();
  });

  const scoredTo = async (): Promise<number[]> =>
    (await app.registry.listRuntimeStates('cpu'))
      .filter((s) => s.stage === 'production')
      .map((s) => s.scoredTo);

  it('fails the pass naming the write instead of hanging, scores the interval again once writes work, and loses nothing', async () => {
    proxy.state.refuse = true;
    clock = trainedTo + 2 * HOUR;
    // The pass ends (after the bounded wait): the detector is failing, with the write's error.
    await app.scheduler.tick(clock);
    const ready = (await app.inject({ url: '/readyz' })).json() as {
      details: { failingDetectors: Array<{ detector: string; error: string }> };
    };
    expect(ready.details.failingDetectors).toEqual([
      {
        detector: 'cpu',
        since: new Date(clock).toISOString(),
        error: expect.stringMatching(
          /^InfluxDB has not taken the results within 20 s \(\d+ lines kept and retried: .*disk full/,
        ),
      },
    ]);
    const health = (await app.inject({ url: '/api/v1/detectors/cpu/health', headers: as('viewer') })).json();
    expect(health).toMatchObject({
      state: 'failing',
      reason: expect.stringMatching(/InfluxDB has not taken/),
    });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^isoscope_scoring_failing\{detector="cpu"\} 1$/m);
    // The interval's state was not saved (at most the entity scored before the refused write moved on).
    expect(Math.min(...(await scoredTo()))).toBe(trainedTo);

    // Still refused: the next pass ends too, and says the same.
    clock += 5 * 60_000;
    await app.scheduler.tick(clock);
    expect(app.scheduler.health().failing).toEqual([
      expect.objectContaining({ detector: 'cpu', error: expect.stringMatching(/^InfluxDB has not taken/) }),
    ]);

    // Writes work again: the writer delivers what it kept, the next pass scores on.
    proxy.state.refuse = false;
    while (app.results.stalled()) await new Promise((r) => setTimeout(r, 200));
    clock += 5 * 60_000;
    await app.scheduler.tick(clock);
    expect(app.scheduler.health().failing).toEqual([]);
    const to = Math.floor(clock / CPU_FLEET_STEP) * CPU_FLEET_STEP;
    expect(await scoredTo()).toEqual([to, to]);
    // Every interval of both hosts is in InfluxDB, once.
    const [series = []] = await client.query(
      `SELECT count("score") FROM "isoscope_anomaly" WHERE "detector" = 'cpu' AND "stage" = 'production' ` +
        `AND time >= ${trainedTo}ms AND time < ${to}ms GROUP BY "entity"`,
    );
    expect(series.map((s) => [s.tags?.entity, s.values[0]![1]])).toEqual([
      ['web-1', (to - trainedTo) / CPU_FLEET_STEP],
      ['web-2', (to - trainedTo) / CPU_FLEET_STEP],
    ]);
  }, 180_000);
});
