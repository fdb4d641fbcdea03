import type { EntitySeries } from '../../io/influx/index.js';
import { SqliteRegistry } from '../../io/registry/index.js';
import { fieldReference, type Checkpoint } from './checkpoints.js';
import { Insight } from './insight.js';
import type { ResultsReader, StoredResult } from './results.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const FIELDS = ['usage_user', 'usage_system', 'usage_iowait', 'usage_idle'];

/** n rows of a steady host from t0, with usage_user at `user` from row `from` on. */
function series(t0: number, n: number, user = 0, from = n): EntitySeries {
  const timeMs = Float64Array.from({ length: n }, (_, i) => t0 + i * MIN);
  const wobble = (i: number, k: number): number => Math.sin(i * 1.7 + k) * 2;
  return {
    entity: 'web-1',
    timeMs,
    values: [
      Float64Array.from({ length: n }, (_, i) => (i >= from ? user : 30 + wobble(i, 0))),
      Float64Array.from({ length: n }, (_, i) => 5 + wobble(i, 1) / 4),
      Float64Array.from({ length: n }, (_, i) => 1 + wobble(i, 2) / 10),
      Float64Array.from({ length: n }, (_, i) => 64 + wobble(i, 3)),
    ],
  };
}

async function setup(stored: StoredResult[], live: EntitySeries) {
  const registry = new SqliteRegistry(':memory:');
  await registry.createDetector(
    { id: 'cpu', name: 'cpu', spec: { source: { preset: 'cpu' }, model: { trees: 50, seed: 2 } } },
    0,
  );
  const history = series(T0 - 1000 * MIN, 1000);
  const checkpoint: Checkpoint = {
    kind: 'stream',
    format: 1,
    from: T0 - 1000 * MIN,
    to: T0,
    reference: fieldReference(history, FIELDS),
    snapshot: '{}',
  };
  await registry.addModelVersion(
    { detectorId: 'cpu', entity: 'web-1', bundle: JSON.stringify(checkpoint), metrics: {}, params: {} },
    'test',
    0,
  );
  await registry.setStage('cpu', 1, 'production', 'test', 'first', 0);
  const insight = new Insight({
    registry,
    readSource: async (_spec, _source, from, to) => {
      const keep = Array.from(live.timeMs.keys()).filter(
        (i) => live.timeMs[i]! >= from && live.timeMs[i]! < to,
      );
      return [
        {
          entity: live.entity,
          timeMs: Float64Array.from(keep, (i) => live.timeMs[i]!),
          values: live.values.map((v) => Float64Array.from(keep, (i) => v[i]!)),
        },
      ];
    },
    results: { read: async () => stored } as unknown as ResultsReader,
    now: () => T0 + 200 * MIN,
  });
  return { registry, insight };
}

describe('Insight (fakes for InfluxDB, SQLite in memory)', () => {
  it('explains a stored result: its own score and threshold, and each field against the checkpoint it came from', async () => {
    const at = T0 + 100 * MIN;
    const stored: StoredResult = {
      timeMs: at,
      entity: 'web-1',
      stage: 'production',
      modelVersion: 1,
      score: 0.71,
      threshold: 0.6,
      anomaly: true,
      severity: 'critical',
      retrain: 4,
      topFeature: 'usage_user.delta',
    };
    const { registry, insight } = await setup([stored], series(T0, 200, 97, 100));
    const e = await insight.explain('cpu', 'web-1', at + 30_000);
    expect(e).toMatchObject({
      time: new Date(at).toISOString(),
      modelVersion: 1,
      score: 0.71,
      threshold: 0.6,
      anomaly: true,
      severity: 'critical',
      topFeature: 'usage_user.delta',
    });
    const sum = e.contributions.reduce((s, c) => s + c.contribution, 0);
    expect(sum).toBeCloseTo(e.baseline - e.pathLength, 9);
    expect(e.contributions[0]).toMatchObject({ feature: 'usage_user', value: 97, percentile: 1 });
    expect(e.series.fields).toEqual(FIELDS);
    await registry.close();
  });

  it('says when there is no result to explain', async () => {
    const { registry, insight } = await setup([], series(T0, 200));
    await expect(insight.explain('cpu', 'web-1', T0)).rejects.toThrow(
      "detector 'cpu' has no result for 'web-1' at or before 2024-01-01T00:00:00.000Z",
    );
    await registry.close();
  });

  it("finds the fields that drifted from the checkpoint's sample, and stores the report", async () => {
    const { registry, insight } = await setup([], series(T0, 200, 90, 0));
    const [report] = await insight.drift('cpu', 3);
    expect(report).toMatchObject({
      entity: 'web-1',
      modelVersion: 1,
      drifted: true,
      driftedFeatures: ['usage_user'],
    });
    expect((await registry.latestDriftReports('cpu')).map((r) => JSON.parse(r))).toEqual([report]);
    await registry.close();
  });
});
