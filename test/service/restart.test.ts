import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { StreamingDetector } from '../../backend/src/engine/index.js';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { InfluxV1Client, toLine } from '../../backend/src/io/influx/index.js';
import { SqliteRegistry } from '../../backend/src/io/registry/index.js';
import { buildApp } from '../../backend/src/service/app.js';
import { loadConfig } from '../../backend/src/service/config.js';
import { readSpec, streamOptions } from '../../backend/src/service/domain/spec.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { spawnServe } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

const SEC = 1000;
const FIELDS = ['usage_user', 'usage_system', 'usage_iowait', 'usage_idle'];
const SPEC = {
  source: { preset: 'cpu' },
  intervalSeconds: 1,
  trainingWindowHours: 1,
  model: { trees: 30, seed: 5 },
  schedule: { scoreEverySeconds: 10 },
};

function row(i: number): Record<string, number> {
  const wave = Math.sin((2 * Math.PI * i) / 600);
  const noise = Math.sin(i * 12.9898) * 43758.5453;
  const jitter = noise - Math.floor(noise) - 0.5;
  const spike = i % 400 === 17;
  return {
    usage_user: spike ? 95 : 30 + 10 * wave + 3 * jitter,
    usage_system: 5 + wave + jitter,
    usage_iowait: 1 + jitter / 7,
    usage_idle: spike ? 1 : 64 - 11 * wave - 3 * jitter,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The real service killed with SIGKILL between scored intervals and started again: the second
 * process restores each runtime from the registry, and what both wrote together equals one
 * detector that never stopped. Real time drives the scheduler here, so the data is one row a
 * second around now, and the test waits for ticks (it asserts results, never durations).
 */
describe('a SIGKILL between intervals (the built service, a real influxd)', () => {
  let influx: TestInflux;
  let child: ChildProcess | undefined;
  const dataDir = scratchDir('sigkill');

  beforeAll(async () => {
    influx = await startTestInflux();
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await influx?.server.stop();
  });

  function serve(port: number): ChildProcess {
    return spawnServe({ port, dataDir, influxUrl: influx.server.url, influxDb: 'telegraf' });
  }

  async function scoredTo(): Promise<number> {
    const registry = new SqliteRegistry(join(dataDir, 'registry.db'));
    try {
      return (await registry.getRuntimeState('cpu', 'web-1', 'production'))?.scoredTo ?? 0;
    } finally {
      await registry.close();
    }
  }

  async function waitFor(done: (t: number) => boolean, what: string): Promise<number> {
    for (let i = 0; i < 600; i++) {
      const t = await scoredTo();
      if (done(t)) return t;
      await sleep(500);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('continues exactly where the killed process stopped', async () => {
    const trainTo = Math.floor(Date.now() / SEC) * SEC;
    const first = trainTo - 3600 * SEC;
    const client = new InfluxV1Client({ url: influx.server.url, database: 'telegraf' });
    await client.createDatabase();
    const lines: string[] = [];
    // An hour of history for the bootstrap, and ten minutes ahead that real time reaches.
    for (let t = first; t < trainTo + 600 * SEC; t += SEC)
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host: 'web-1', cpu: 'cpu-total' },
          fields: row((t - first) / SEC),
          timeMs: t,
        }),
      );
    await client.write(lines);

    // Create and bootstrap the detector before any scheduler runs, so its first bootstrap is ours.
    const config = loadConfig({}, { dataDir, influxUrl: influx.server.url, influxDb: 'telegraf' }, undefined);
    const setup = await buildApp({ config, scheduler: false });
    await setup.registry.createDetector({ id: 'cpu', name: 'cpu', spec: SPEC }, trainTo);
    await setup.runtimes.bootstrap(
      'cpu',
      { to: trainTo, promote: true, actor: 'test' },
      { progress: async () => undefined, checkpoint: () => undefined },
    );
    await setup.close();
    expect(await scoredTo()).toBe(trainTo);

    child = serve(await freePort());
    const killedAt = await waitFor((t) => t > trainTo, 'the first process to score an interval');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));

    child = serve(await freePort());
    const until = await waitFor((t) => t >= killedAt + 15 * SEC, 'the second process to score on');
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;

    const [results] = await client.query(
      `SELECT "score", "anomaly", "top_feature", "threshold" FROM "isoscope_anomaly" WHERE "detector" = 'cpu' AND "stage" = 'production' AND time >= ${trainTo}ms AND time < ${until}ms ORDER BY time`,
    );
    const written = results![0]!.values;
    expect(written).toHaveLength((until - trainTo) / SEC);

    // One detector that never stopped, over the same rows.
    const detector = new StreamingDetector(streamOptions(readSpec('cpu', SPEC), FIELDS));
    const expected: unknown[][] = [];
    for (let t = first; t < until; t += SEC) {
      const v = row((t - first) / SEC);
      const r = detector.push(
        FIELDS.map((f) => v[f]!),
        t,
      );
      if (t >= trainTo) expected.push([t, r.score, r.isAnomaly, r.topFeature ?? null, r.threshold]);
    }
    expect(written).toEqual(expected);
    expect(killedAt).toBeLessThan(until);
  }, 600_000);
});
