import { defaultStreamFeatures } from '../engine/index.js';
import { explainWorker, replayExplain, type ExplainTask } from './explain-run.js';
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
    expect(run).toMatchObject({ found: true, replayed: 102, snapshotFormat: 6 });
    expect(run.result).toEqual(straight.results[1102]);
    expect(run.result!.isAnomaly).toBe(true);
    const e = run.explanation!;
    expect(e.features[e.contributions.indexOf(Math.max(...e.contributions))]).toBe(run.result!.topFeature);
    // The explained row is one of the three the smoothed score averages, inside the incident.
    expect(run.explainedTimeMs).toBeGreaterThanOrEqual(T0 + 1100 * MIN);
    expect(run.explainedTimeMs).toBeLessThanOrEqual(T0 + 1102 * MIN);
  });

  it('says when the series has no row at the time asked', () => {
    expect(replayExplain(task(1102.5))).toEqual({ found: false, replayed: 0, snapshotFormat: 6 });
  });

  it('gives, on a worker thread kept between requests, the runs of the calling thread to the bit, in order', async () => {
    const worker = explainWorker();
    try {
      const runs = await Promise.all([1150, 1101, 1199].map((at) => worker.run(task(at))));
      expect(runs).toEqual([1150, 1101, 1199].map((at) => replayExplain(task(at))));
      // An engine refusal stays an engine refusal across the thread, and the worker goes on.
      const bad = { ...task(1150), values: [values[0]!] };
      await expect(worker.run(bad)).rejects.toMatchObject({ name: 'EngineError', code: 'FEATURE_MISMATCH' });
      expect(await worker.run(task(1120))).toEqual(replayExplain(task(1120)));
    } finally {
      await worker.close();
    }
  });

  it('fails what is pending when closed, and starts again on the next request', async () => {
    const worker = explainWorker();
    const pending = worker.run(task(1150));
    await worker.close();
    await expect(pending).rejects.toThrow('the explain worker was closed');
    expect(await worker.run(task(1101))).toEqual(replayExplain(task(1101)));
    await worker.close();
  });
});
