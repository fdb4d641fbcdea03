import type { FastifyInstance } from 'fastify';
import { toLine } from '../../backend/src/io/influx/index.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';
import { scratchDir } from '../support/scratch.js';

const NOW = Date.UTC(2024, 0, 3);
const HOUR = 3_600_000;

async function waitForJob(app: FastifyInstance, id: string): Promise<Record<string, unknown>> {
  await app.jobs.finished(id);
  return (await app.inject({ url: `/api/v1/jobs/${id}`, headers: as('viewer') })).json();
}

describe('training jobs and the model registry over HTTP (real influxd, real SQLite)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    const lines: string[] = [];
    // Two days of 5-minute cpu data for two hosts with a daily cycle.
    for (const [h, host] of ['web-1', 'web-2'].entries()) {
      for (let t = NOW - 48 * HOUR; t < NOW; t += 300_000) {
        const daily = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
        const jitter = Math.sin(t / 7_777_777 + h) * 2;
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host, cpu: 'cpu-total' },
            fields: {
              usage_user: 30 + 15 * daily + jitter,
              usage_system: 5 + daily,
              usage_iowait: 1 + jitter / 10,
              usage_idle: 64 - 16 * daily,
            },
            timeMs: t,
          }),
        );
      }
    }
    await client.write(lines);
    app = await testApp(influx.server.url, client.database, {}, () => NOW);
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

  it('bootstraps one runtime per host from its history in a background job (202, then progress and result)', async () => {
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: {},
    });
    expect(started.statusCode).toBe(202);
    const job = started.json();
    expect(started.headers.location).toBe(`/api/v1/jobs/${job.id}`);
    expect(['queued', 'running']).toContain(job.state);
    const done = await waitForJob(app, job.id);
    expect(done).toMatchObject({ state: 'succeeded', progress: 1, phase: 'done' });
    expect(done.result).toMatchObject({
      entities: [
        // 576 rows: the warm-up (512) trains the first forests, the last 64 are judged.
        { entity: 'web-1', version: 1, rows: 576, retrains: 1, stage: 'candidate' },
        { entity: 'web-2', version: 2, rows: 576, retrains: 1, stage: 'candidate' },
      ],
      skipped: [],
    });
    const models = (await app.inject({ url: '/api/v1/detectors/cpu/models', headers: as('viewer') })).json();
    expect(
      models.map((m: { version: number; entity: string; stage: string }) => [m.version, m.entity, m.stage]),
    ).toEqual([
      [2, 'web-2', 'candidate'],
      [1, 'web-1', 'candidate'],
    ]);
    expect(models[0].params).toMatchObject({
      trees: 50,
      rows: 576,
      outOfRange: 'isolate',
      thresholdBy: 'contamination',
      kind: 'stream',
      from: NOW - 48 * HOUR,
      to: NOW,
      retrains: 1,
    });
    expect(models[0].params.threshold).toBeGreaterThan(0);
    // A candidate has no runtime: only production and staging versions score.
    expect(await app.registry.listRuntimeStates('cpu')).toEqual([]);
  });

  /** Creates a detector on the two days of cpu data with these model settings, trains it, lists its models. */
  async function trainedModels(
    name: string,
    model: object,
  ): Promise<Array<{ params: Record<string, unknown>; metrics: Record<string, unknown> }>> {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: {
        name,
        spec: { source: { preset: 'cpu' }, intervalSeconds: 300, trainingWindowHours: 48, model },
      },
    });
    expect(created.statusCode).toBe(201);
    const started = await app.inject({
      method: 'POST',
      url: `/api/v1/detectors/${name}/train`,
      headers: as('editor'),
      payload: {},
    });
    expect((await waitForJob(app, started.json().id)).state).toBe('succeeded');
    return (await app.inject({ url: `/api/v1/detectors/${name}/models`, headers: as('viewer') })).json();
  }

  it("trains with scikit-learn's scoring when the detector asks for outOfRange clamp", async () => {
    const models = await trainedModels('cpu-clamp', { trees: 50, outOfRange: 'clamp' });
    expect(models.map((m) => m.params.outOfRange)).toEqual(['clamp', 'clamp']);
  });

  it('keeps a fixed threshold from the spec, and counts the test split flagged at it', async () => {
    // Far below any isolation-forest score: every point is over it.
    const models = await trainedModels('cpu-fixed', { trees: 50, threshold: 0.05 });
    expect(models).toHaveLength(2);
    for (const m of models) {
      expect(m.params).toMatchObject({ threshold: 0.05, thresholdBy: 'fixed' });
      expect(m.metrics.flaggedShare).toBe(1);
    }
  });

  it('promotes, keeps one production model per host, and rolls back', async () => {
    const promote = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/detectors/cpu/models/1/stage',
      headers: as('admin'),
      payload: { stage: 'production', reason: 'first model' },
    });
    expect(promote.statusCode).toBe(200);
    expect(promote.json().stage).toBe('production');
    const runtimes = async (): Promise<string[]> =>
      (await app.registry.listRuntimeStates('cpu')).map((r) => `${r.entity}:${r.stage}:v${r.version}`);
    // Promotion gives the host a production runtime, starting from the version's checkpoint.
    expect(await runtimes()).toEqual(['web-1:production:v1']);
    const editorTries = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/detectors/cpu/models/2/stage',
      headers: as('editor'),
      payload: { stage: 'production', reason: 'x' },
    });
    expect(editorTries.statusCode).toBe(403);

    const retrain = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: { promote: true },
    });
    const done = await waitForJob(app, retrain.json().id);
    expect(done.result).toMatchObject({
      entities: [
        { entity: 'web-1', version: 3, stage: 'production' },
        { entity: 'web-2', version: 4, stage: 'production' },
      ],
    });
    const stages = (await app.inject({ url: '/api/v1/detectors/cpu/models', headers: as('viewer') }))
      .json()
      .map((m: { version: number; stage: string }) => `${m.version}:${m.stage}`);
    expect(stages).toEqual(['4:production', '3:production', '2:candidate', '1:archived']);
    expect(await runtimes()).toEqual(['web-1:production:v3', 'web-2:production:v4']);

    const back = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/detectors/cpu/rollback',
      headers: as('admin'),
      payload: { reason: 'v3 pages too often', entity: 'web-1' },
    });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ version: 1, stage: 'production' });
    // Rollback restores the earlier checkpoint: the runtime is v1's snapshot again.
    expect(await runtimes()).toEqual(['web-1:production:v1', 'web-2:production:v4']);
    const v1 = JSON.parse((await app.registry.getModelVersion('cpu', 1))!.bundle!) as {
      snapshot: string;
      to: number;
    };
    expect(await app.registry.getRuntimeState('cpu', 'web-1', 'production')).toMatchObject({
      snapshot: v1.snapshot,
      scoredTo: v1.to,
    });
    const history = (
      await app.inject({ url: '/api/v1/detectors/cpu/history', headers: as('viewer') })
    ).json();
    expect(history.at(-1)).toMatchObject({
      version: 1,
      from: 'archived',
      to: 'production',
      actor: 'test admin',
      reason: 'rollback: v3 pages too often',
    });

    const noEarlier = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/detectors/cpu/rollback',
      headers: as('admin'),
      payload: { reason: 'again', entity: 'web-2' },
    });
    expect(noEarlier.statusCode).toBe(409);
    expect(noEarlier.json().message).toContain('no earlier production version');
  });

  it('cancels a job', async () => {
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/cpu/train',
      headers: as('editor'),
      payload: {},
    });
    const cancel = await app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${started.json().id}/cancel`,
      headers: as('editor'),
    });
    expect(cancel.statusCode).toBe(200);
    const done = await waitForJob(app, started.json().id);
    expect(done.state).toBe('cancelled');
    expect(
      (await app.inject({ method: 'POST', url: '/api/v1/jobs/nope/cancel', headers: as('editor') }))
        .statusCode,
    ).toBe(404);
  });

  it('fails a job whose source is empty, saying which measurement and range', async () => {
    await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'disk', spec: { source: { preset: 'disk' } } },
    });
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors/disk/train',
      headers: as('editor'),
      payload: {},
    });
    const done = await waitForJob(app, started.json().id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/measurement 'disk' has no data between/);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/detectors/nope/train',
          headers: as('editor'),
          payload: {},
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('a restart', () => {
  it('marks the jobs the previous process left running as failed, never leaving them "running"', async () => {
    const { buildApp } = await import('../../backend/src/service/app.js');
    const { loadConfig } = await import('../../backend/src/service/config.js');
    const config = loadConfig(
      {},
      {
        dataDir: scratchDir('restart'),
        influxUrl: 'http://127.0.0.1:9',
        influxDb: 'x',
      },
      undefined,
    );
    const first = await buildApp({ config, scheduler: false });
    await first.registry.createDetector({ id: 'cpu', name: 'cpu', spec: { source: { preset: 'cpu' } } }, 1);
    await first.registry.createJob({ id: 'j1', detectorId: 'cpu', kind: 'training' }, 2);
    await first.registry.updateJob('j1', {
      state: 'running',
      phase: 'training web-1 (1/2)',
      progress: 0.5,
      startedAt: 3,
    });
    // The process dies here: the registry is closed without the job finishing.
    await first.registry.close();
    const second = await buildApp({ config, scheduler: false });
    try {
      expect(await second.registry.getJob('j1')).toMatchObject({
        state: 'failed',
        error: 'interrupted: the service stopped while the job ran',
      });
    } finally {
      await second.close();
    }
  });
});
