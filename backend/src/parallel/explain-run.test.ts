import { defaultStreamFeatures } from '../engine/index.js';
import { replayExplain, replayExplainInWorker, type ExplainTask } from './explain-run.js';
import { runStream } from './stream-run.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** Minute rows: a wave with jitter, missing values now and then, and usage at 97 from row 1100. */
function series(rows: number): { timeMs: Float64Array; values: Float64Array[] } {
  const timeMs = new Float64Array(rows);
  const values = [new Float64Array(rows), new Float64Array(rows)];
  for (let i = 0; i < rows; i++) {
    timeMs[i] = T0 + i * MIN;
    const noise = Math.sin(i * 12.9898) * 43758.5453;
    const jitter = noise - Math.floor(noise) - 0.5;
    values[0]![i] = i >= 1100 ? 97 : 30 + 10 * Math.sin((2 * Math.PI * i) / 1440) + jitter;
    values[1]![i] = i % 97 === 5 ? Number.NaN : 5 + jitter;
  }
  return { timeMs, values };
}

jest.setTimeout(60_000);

describe('explaining a row by replaying its runtime', () => {
  const { timeMs, values } = series(1200);
  const options = { features: defaultStreamFeatures(['a', 'b']), trees: 20, seed: 3 };
  // The checkpoint: a bootstrap over the first 1000 rows.
  const checkpoint = runStream({ options, timeMs, values, from: T0, to: T0 + 1000 * MIN });
  const straight = runStream({ options, timeMs, values, from: T0, to: T0 + 1200 * MIN });
  const task = (at: number): ExplainTask => ({
    start: { snapshot: checkpoint.snapshot },
    timeMs,
    values,
    from: T0 + 1000 * MIN,
    at: T0 + at * MIN,
  });

  it('scores the row as one detector over every row did, and explains it', () => {
    const run = replayExplain(task(1102));
    expect(run).toMatchObject({ found: true, replayed: 102, snapshotFormat: 5 });
    expect(run.result).toEqual(straight.results[1102]);
    expect(run.result!.isAnomaly).toBe(true);
    const e = run.explanation!;
    expect(e.features[e.contributions.indexOf(Math.max(...e.contributions))]).toBe(run.result!.topFeature);
    // The explained row is one of the three the smoothed score averages, inside the incident.
    expect(run.explainedTimeMs).toBeGreaterThanOrEqual(T0 + 1100 * MIN);
    expect(run.explainedTimeMs).toBeLessThanOrEqual(T0 + 1102 * MIN);
  });

  it('says when the series has no row at the time asked', () => {
    expect(replayExplain(task(1102.5))).toEqual({ found: false, replayed: 0, snapshotFormat: 5 });
  });

  it('gives, on a worker thread, the run of the calling thread to the bit', async () => {
    expect(await replayExplainInWorker(task(1150))).toEqual(replayExplain(task(1150)));
  });

  it('keeps an engine refusal an engine refusal across the thread', async () => {
    const bad = { ...task(1150), values: [values[0]!] };
    await expect(replayExplainInWorker(bad)).rejects.toMatchObject({
      name: 'EngineError',
      code: 'FEATURE_MISMATCH',
    });
  });
});
