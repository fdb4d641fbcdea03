import type { FastifyInstance } from 'fastify';
import { toLine } from '../../backend/src/io/influx/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);
/** After two days a deploy moves web-1's normal: cpu user +25 points, system +5. */
const DEPLOY = START + 2 * DAY;
const END = START + 4 * DAY;

async function lastJob(app: FastifyInstance, detector: string): Promise<Record<string, unknown>> {
  const jobs = (
    await app.inject({ url: `/api/v1/detectors/${detector}/jobs`, headers: as('viewer') })
  ).json() as Array<{ id: string }>;
  await app.jobs.finished(jobs[0]!.id);
  return (await app.inject({ url: `/api/v1/jobs/${jobs[0]!.id}`, headers: as('viewer') })).json();
}

describe('scheduled retrains, promotion policies and shadow scoring (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = DEPLOY;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    const lines: string[] = [];
    for (let t = START; t < END; t += 300_000) {
      const daily = Math.sin((2 * Math.PI * (t % DAY)) / DAY);
      const wobble = Math.sin(t / 2_222_222) + Math.cos(t / 777_777);
      const shift = t >= DEPLOY ? 1 : 0;
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host: 'web-1', cpu: 'cpu-total' },
          fields: {
            usage_user: 30 + 10 * daily + wobble + 25 * shift,
            usage_system: 5 + daily + 5 * shift,
            usage_iowait: 1 + wobble / 10,
            usage_idle: 64 - 11 * daily - wobble - 30 * shift,
          },
          timeMs: t,
        }),
      );
    }
    await client.write(lines);
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    for (const [name, promotion] of [
      ['auto', 'auto-if-better'],
      ['manual', 'manual'],
    ] as const) {
      await app.inject({
        method: 'POST',
        url: '/api/v1/detectors',
        headers: as('editor'),
        payload: {
          name,
          spec: {
            source: { preset: 'cpu' },
            intervalSeconds: 300,
            trainingWindowHours: 48,
            model: { trees: 100 },
            schedule: { retrainEveryHours: 24, promotion },
          },
        },
      });
      const job = await app.inject({
        method: 'POST',
        url: `/api/v1/detectors/${name}/train`,
        headers: as('editor'),
        payload: { promote: true },
      });
      await app.jobs.finished(job.json().id);
    }
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  it('sees the drift after the deploy, retrains on schedule, and judges the candidate against production on the same recent rows (auto-if-better)', async () => {
    clock = END;
    // The operator's view first: the fields moved away from what v1 was bootstrapped on.
    const drift = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/auto/drift',
      headers: as('editor'),
      payload: { hours: 24 },
    });
    expect(drift.json()[0]).toMatchObject({
      entity: 'web-1',
      modelVersion: 1,
      drifted: true,
      driftedFeatures: expect.arrayContaining(['usage_user']),
    });
    // The tick scores the two days since the bootstrap, then starts the retrain that is due.
    await app.scheduler.tick(clock);
    const [series] = await app.influx.query(
      `SELECT count("score") FROM "isoscope_anomaly" WHERE "detector" = 'auto' AND "stage" = 'production' AND time >= ${DEPLOY}ms`,
    );
    expect(series![0]!.values[0]![1]).toBe(576);
    const job = await lastJob(app, 'auto');
    expect(job).toMatchObject({
      state: 'succeeded',
      result: { entities: [{ entity: 'web-1', version: 2 }] },
    });
    const history = (
      await app.inject({ url: '/api/v1/detectors/auto/history', headers: as('viewer') })
    ).json() as Array<{ version: number; to: string; actor: string; reason: string }>;
    const decision = history.find((h) => h.version === 2 && h.to !== 'candidate')!;
    expect(decision.actor).toBe('scheduler');
    expect(decision.reason).toMatch(
      /^scheduled retrain \(every 24 h\), auto-if-better: candidate flags [\d.]+% of the recent holdout, production v1 [\d.]+%( \(not better: shadow scoring\))?$/,
    );
    const [mine, theirs] = /candidate flags ([\d.]+)%.*production v1 ([\d.]+)%/
      .exec(decision.reason)!
      .slice(1)
      .map(Number);
    expect(decision.to).toBe(mine! <= theirs! ? 'production' : 'staging');
    // The runtimes follow the decision.
    const runtimes = (await app.registry.listRuntimeStates('auto')).map((r) => `${r.stage}:v${r.version}`);
    expect(runtimes).toEqual(
      decision.to === 'production' ? ['production:v2'] : ['production:v1', 'staging:v2'],
    );
  });

  it('with the manual policy, keeps the candidate in staging and scores it in the shadow, next to production', async () => {
    const job = await lastJob(app, 'manual');
    expect(job).toMatchObject({
      state: 'succeeded',
      result: { entities: [{ entity: 'web-1', version: 2, stage: 'staging' }] },
    });
    const history = (
      await app.inject({ url: '/api/v1/detectors/manual/history', headers: as('viewer') })
    ).json() as Array<{ version: number; to: string; reason: string }>;
    expect(history.find((h) => h.version === 2 && h.to === 'staging')!.reason).toMatch(
      /manual: .*\(shadow scoring until an admin promotes\)$/,
    );
    // Staging is a second runtime on the same rows, from the candidate's checkpoint.
    expect((await app.registry.listRuntimeStates('manual')).map((r) => `${r.stage}:v${r.version}`)).toEqual([
      'production:v1',
      'staging:v2',
    ]);
    const backfill = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/manual/backfill',
      headers: as('editor'),
      payload: { from: new Date(END - HOUR).toISOString(), to: new Date(END).toISOString() },
    });
    await app.jobs.finished(backfill.json().id);
    const [series] = await app.influx.query(
      `SELECT count("score") FROM "isoscope_anomaly" WHERE "detector" = 'manual' AND "stage" != 'backtest' AND time >= ${END - HOUR}ms GROUP BY "stage"`,
    );
    const byStage = Object.fromEntries(series!.map((s) => [s.tags!.stage, s.values[0]![1]]));
    expect(byStage).toEqual({ production: 12, staging: 12 });
    // Grafana can show the shadow next to production.
    const frames = await app.inject({
      method: 'POST',
      url: '/api/v1/grafana/query',
      headers: as('viewer'),
      payload: {
        range: { from: new Date(END - HOUR).toISOString(), to: new Date(END).toISOString() },
        targets: [
          { refId: 'P', detector: 'manual', entity: 'web-1', return: 'score' },
          { refId: 'S', detector: 'manual', entity: 'web-1', return: 'score', stage: 'staging' },
        ],
      },
    });
    const [prod, shadow] = frames.json().frames as Array<{
      fields: Array<{ name: string; values: number[]; labels?: Record<string, string> }>;
    }>;
    expect(prod!.fields[1]!.labels).toEqual({ detector: 'manual', entity: 'web-1', model_version: '1' });
    expect(shadow!.fields[1]!.labels).toEqual({
      detector: 'manual',
      entity: 'web-1',
      model_version: '2',
      stage: 'staging',
    });
    expect(shadow!.fields[1]!.values).toHaveLength(12);
  });
});
