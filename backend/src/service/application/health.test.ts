import { RegistryError, SqliteRegistry } from '../../io/registry/index.js';
import { Health, duration } from './health.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

async function setup() {
  const registry = new SqliteRegistry(':memory:');
  let clock = T0;
  // Defaults: intervalSeconds 60, scoreEverySeconds 60, so a period of 120 s.
  await registry.createDetector({ id: 'cpu', name: 'cpu', spec: { source: { preset: 'cpu' } } }, 0);
  const health = new Health({ registry, now: () => clock });
  return { registry, health, setClock: (t: number) => (clock = t) };
}

async function produce(registry: SqliteRegistry, entity: string, scoredTo: number): Promise<number> {
  const v = await registry.addModelVersion(
    { detectorId: 'cpu', entity, bundle: '{}', metrics: {}, params: {} },
    'test',
    0,
  );
  await registry.setStage('cpu', v.version, 'production', 'test', 'first', 0);
  await registry.setRuntimeState({
    detectorId: 'cpu',
    entity,
    stage: 'production',
    version: v.version,
    scoredTo,
    snapshot: '{}',
    updatedAt: 0,
  });
  return v.version;
}

describe('detector health', () => {
  it('a detector without models is not scored, and says to train one', async () => {
    const { health } = await setup();
    const h = await health.of('cpu');
    expect(h).toMatchObject({ state: 'not scored', entities: [], rowsScored: 0 });
    expect(h.reason).toMatch(/train one/);
    expect(h.lagLimits).toEqual({ lagging: 360, stalled: 1200 });
  });

  it('an unknown detector is NOT_FOUND', async () => {
    const { health } = await setup();
    await expect(health.of('nope')).rejects.toThrow(RegistryError);
  });

  it('names the entities not scored because their model is only a candidate', async () => {
    const { registry, health } = await setup();
    await produce(registry, 'web-1', T0 - MIN);
    await registry.addModelVersion(
      { detectorId: 'cpu', entity: 'web-2', bundle: '{}', metrics: {}, params: {} },
      'test',
      0,
    );
    const h = await health.of('cpu');
    expect(h.state).toBe('ok');
    expect(h.reason).toBe('1 of 2 entities scored, 1 not scored (no model in production)');
    const web2 = h.entities.find((e) => e.entity === 'web-2')!;
    expect(web2).toMatchObject({ state: 'not scored' });
    expect(web2.reason).toBe('not scored: no model in production; v1 is a candidate, promote it to score');
  });

  it('is lagging past 3 scoring periods and stalled past 10, by its least advanced entity', async () => {
    const { registry, health, setClock } = await setup();
    await produce(registry, 'web-1', T0);
    await produce(registry, 'web-2', T0 - 2 * MIN);
    let h = await health.of('cpu');
    expect(h).toMatchObject({ state: 'ok', lagSeconds: 120, scoredTo: new Date(T0 - 2 * MIN).toISOString() });
    setClock(T0 + 5 * MIN); // web-2 is 7 minutes behind: over 6, under 20
    h = await health.of('cpu');
    expect(h.state).toBe('lagging');
    expect(h.entities.map((e) => e.state)).toEqual(['ok', 'lagging']);
    expect(h.reason).toBe('1 of 2 entities lagging; web-2: lagging: 7 min behind (limit 6 min)');
    setClock(T0 + 30 * MIN);
    h = await health.of('cpu');
    expect(h.state).toBe('stalled');
    expect(h.entities.map((e) => e.state)).toEqual(['stalled', 'stalled']);
    expect(h.lagSeconds).toBe(32 * 60);
  });

  it('is failing until a scoring pass succeeds again; counts rows and anomalies per entity', async () => {
    const { registry, health, setClock } = await setup();
    await produce(registry, 'web-1', T0);
    health.recordScored('cpu', [
      { entity: 'web-1', anomaly: false },
      { entity: 'web-1', anomaly: true },
    ]);
    setClock(T0 + MIN);
    health.recordFailure('cpu', 'InfluxDB unreachable');
    health.recordFailure('cpu', 'InfluxDB unreachable');
    let h = await health.of('cpu');
    expect(h).toMatchObject({
      state: 'failing',
      reason: 'the last 2 scoring attempts failed: InfluxDB unreachable',
      failures: { total: 2, consecutive: 2, lastAt: new Date(T0 + MIN).toISOString() },
      rowsScored: 2,
      anomalies: 1,
    });
    health.recordScored('cpu', [{ entity: 'web-1', anomaly: false }]);
    h = await health.of('cpu');
    expect(h.state).toBe('ok');
    expect(h.failures).toMatchObject({ total: 2, consecutive: 0 });
    expect(h.entities[0]).toMatchObject({ rowsScored: 3, anomalies: 1 });
    expect(health.failureTotals()).toEqual(new Map([['cpu', 2]]));
  });

  it('reports the last training job and the newest drift of each entity', async () => {
    const { registry, health } = await setup();
    await produce(registry, 'web-1', T0);
    await registry.createJob({ id: 'j1', detectorId: 'cpu', kind: 'training' }, T0 - 10 * MIN);
    await registry.updateJob('j1', { state: 'failed', finishedAt: T0 - 9 * MIN, error: 'no data' });
    const report = (at: number, drifted: boolean) =>
      JSON.stringify({
        entity: 'web-1',
        at: new Date(at).toISOString(),
        drifted,
        driftedFeatures: drifted ? ['usage_user'] : [],
      });
    await registry.addDriftReport('cpu', 1, 'web-1', T0 - 5 * MIN, report(T0 - 5 * MIN, false));
    await registry.addDriftReport('cpu', 1, 'web-1', T0 - 2 * MIN, report(T0 - 2 * MIN, true));
    const h = await health.of('cpu');
    expect(h.lastTraining).toEqual({
      jobId: 'j1',
      state: 'failed',
      at: new Date(T0 - 9 * MIN).toISOString(),
      error: 'no data',
    });
    expect(h.drift).toEqual({
      state: 'drifted',
      checkedAt: new Date(T0 - 2 * MIN).toISOString(),
      driftedEntities: ['web-1'],
    });
    expect(h.entities[0]!.drift).toMatchObject({ state: 'drifted', driftedFeatures: ['usage_user'] });
  });

  it('all() leaves out a detector whose stored spec is broken', async () => {
    const { registry, health } = await setup();
    await registry.createDetector({ id: 'bad', name: 'bad', spec: { source: 42 } }, 0);
    expect((await health.all()).map((h) => h.detector)).toEqual(['cpu']);
  });

  it('says a lag in words', () => {
    expect([duration(45), duration(420), duration(12_600)]).toEqual(['45 s', '7 min', '3.5 h']);
  });
});
