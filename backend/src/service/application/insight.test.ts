import type { EntitySeries } from '../../io/influx/index.js';
import { SqliteRegistry } from '../../io/registry/index.js';
import { runStream } from '../../parallel/stream-run.js';
import { replayExplain } from '../../parallel/explain-run.js';
import { readSpec, streamOptions } from '../domain/spec.js';
import { fieldReference, type Checkpoint } from './checkpoints.js';
import { Insight } from './insight.js';
import type { ResultsReader, StoredResult } from './results.js';
import { toScoredRows } from './runtime.js';
import { HeldDetectors } from '../../parallel/stream-session.js';

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

const SPEC = { source: { preset: 'cpu' }, model: { trees: 30, seed: 2 } };

/** A version bootstrapped on 1000 steady minutes before T0, as Runtimes.bootstrap makes one. */
function bootstrap(): Checkpoint {
  const history = series(T0 - 1000 * MIN, 1000);
  const run = runStream({
    options: streamOptions(readSpec('cpu', SPEC), FIELDS),
    timeMs: history.timeMs,
    values: history.values,
    from: T0 - 1000 * MIN,
    to: T0,
  });
  return {
    kind: 'stream',
    format: 1,
    from: T0 - 1000 * MIN,
    to: T0,
    reference: fieldReference(history, FIELDS),
    snapshot: run.snapshot,
  };
}

/** What the production runtime wrote for `live`: the checkpoint restored, the rows pushed. */
function liveResults(checkpoint: Checkpoint, live: EntitySeries): StoredResult[] {
  const held = new HeldDetectors();
  held.open('k', { snapshot: checkpoint.snapshot });
  const pushed = held.push('k', live, checkpoint.to, Infinity);
  return toScoredRows(pushed, { entity: 'web-1', stage: 'production', version: 1 }).map((r) => ({
    timeMs: r.timeMs,
    entity: r.entity,
    stage: r.stage,
    modelVersion: r.modelVersion,
    score: r.score,
    threshold: r.threshold,
    anomaly: r.anomaly,
    severity: r.severity,
    retrain: r.retrain,
    ...(r.topFeature !== undefined ? { topFeature: r.topFeature } : {}),
  }));
}

async function setup(stored: StoredResult[], live: EntitySeries, checkpoint = bootstrap()) {
  const registry = new SqliteRegistry(':memory:');
  await registry.createDetector({ id: 'cpu', name: 'cpu', spec: SPEC }, 0);
  await registry.addModelVersion(
    { detectorId: 'cpu', entity: 'web-1', bundle: JSON.stringify(checkpoint), metrics: {}, params: {} },
    'test',
    0,
  );
  await registry.setStage('cpu', 1, 'production', 'test', 'first', 0);
  const replays: number[] = [];
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
    results: {
      read: async (_id: string, from: number, to: number) =>
        stored.filter((r) => r.timeMs >= from && r.timeMs < to),
    } as unknown as ResultsReader,
    replayExplain: async (task) => {
      replays.push(task.from);
      return replayExplain(task);
    },
    now: () => T0 + 200 * MIN,
  });
  return { registry, insight, replays };
}

describe('Insight (fakes for InfluxDB, SQLite in memory)', () => {
  const checkpoint = bootstrap();
  const live = series(T0, 200, 97, 100);
  const results = liveResults(checkpoint, live);

  it('explains a stored result with the runtime that scored it: replayed from the checkpoint, the same score and top feature', async () => {
    const flagged = results.find((r) => r.anomaly && r.timeMs >= T0 + 100 * MIN)!;
    expect(flagged.topFeature).toBeDefined();
    const { registry, insight, replays } = await setup(results, live, checkpoint);
    const e = await insight.explain('cpu', 'web-1', flagged.timeMs + 30_000);
    expect(replays).toEqual([T0]);
    expect(e).toMatchObject({
      time: new Date(flagged.timeMs).toISOString(),
      modelVersion: 1,
      score: flagged.score,
      threshold: flagged.threshold,
      anomaly: true,
      topFeature: flagged.topFeature,
      reproduced: true,
      replay: {
        from: new Date(T0).toISOString(),
        rows: (flagged.timeMs - T0) / MIN,
        score: flagged.score,
        topFeature: flagged.topFeature,
      },
    });
    expect(e.note).toBeUndefined();
    expect(e.contributions[0]!.feature).toBe(flagged.topFeature);
    expect(e.contributions[0]!.field).toBe('usage_user');
    const sum = e.contributions.reduce((s, c) => s + c.contribution, 0);
    expect(Math.abs(sum - (e.baseline - e.pathLength))).toBeLessThan(1e-9);
    // The group that flagged it sees only its own kind of feature.
    const group = e.forest!.group;
    expect(e.contributions.every((c) => c.feature.endsWith('.delta') === (group === 'changes'))).toBe(true);
    expect(e.contributions).toHaveLength(FIELDS.length);
    expect(Math.max(...e.forest!.groupScores)).toBe(flagged.score);
    expect(Date.parse(e.forest!.explainedTime!)).toBeLessThanOrEqual(flagged.timeMs);
    expect(Date.parse(e.forest!.explainedTime!)).toBeGreaterThanOrEqual(T0 + 100 * MIN);
    expect(e.contributions[0]!.percentile).toBe(1);
    expect(e.series.fields).toEqual(FIELDS);
    await registry.close();
  });

  it('says so when the replay does not give the stored score, and still breaks the replayed row down', async () => {
    const flagged = results.find((r) => r.anomaly && r.timeMs >= T0 + 100 * MIN)!;
    // The data changed since it was scored: usage_user was rewritten to its normal value.
    const rewritten = series(T0, 200);
    const { registry, insight } = await setup(results, rewritten, checkpoint);
    const e = await insight.explain('cpu', 'web-1', flagged.timeMs);
    expect(e.reproduced).toBe(false);
    expect(e.score).toBe(flagged.score);
    expect(e.replay.score).not.toBe(flagged.score);
    expect(e.note).toMatch(
      /did not reproduce the stored result: the replay scored this row .*, the stored result says/,
    );
    expect(e.contributions.length).toBeGreaterThan(0);
    await registry.close();
  });

  it("explains a result older than the checkpoint with the version's bootstrap run, and says so when that differs", async () => {
    const history = series(T0 - 1000 * MIN, 1000);
    const bootstrapRun = runStream({
      options: streamOptions(readSpec('cpu', SPEC), FIELDS),
      timeMs: history.timeMs,
      values: history.values,
      from: T0 - 1000 * MIN,
      to: T0,
    });
    const k = 900;
    const backtest: StoredResult = {
      ...results[0]!,
      timeMs: T0 - 100 * MIN,
      score: bootstrapRun.results[k]!.score,
      anomaly: false,
      severity: 'none',
    };
    const { registry, insight, replays } = await setup([backtest], history, checkpoint);
    const same = await insight.explain('cpu', 'web-1', backtest.timeMs);
    expect(replays).toEqual([T0 - 1000 * MIN]);
    expect(same).toMatchObject({ reproduced: true, replay: { rows: k, score: backtest.score } });
    await registry.close();

    const other = await setup([{ ...backtest, score: backtest.score + 0.1 }], history, checkpoint);
    const e = await other.insight.explain('cpu', 'web-1', backtest.timeMs);
    expect(e.reproduced).toBe(false);
    expect(e.note).toMatch(
      /older than version 1's checkpoint .*a backfill wrote it with a detector of its own/,
    );
    await other.registry.close();
  });

  it("refuses to replay more than the version's span, naming the limit", async () => {
    const late: StoredResult = { ...results[0]!, timeMs: T0 + 1200 * MIN };
    const { registry, insight, replays } = await setup([late], series(T0, 1300), checkpoint);
    await expect(insight.explain('cpu', 'web-1', late.timeMs)).rejects.toMatchObject({
      name: 'UnprocessableError',
      message: expect.stringMatching(
        /0\.8 days of rows, more than the limit of 0\.7 days \(the span the version was trained on/,
      ),
    });
    expect(replays).toEqual([]);
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
