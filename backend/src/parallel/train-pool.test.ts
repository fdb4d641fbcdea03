import { defaultStreamFeatures } from '../engine/index.js';
import { runStream, type StreamTask } from './stream-run.js';
import { runStreamInWorker } from './train-pool.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** A minute series with a daily wave, deterministic noise, missing values and an incident. */
function task(rows: number): StreamTask {
  const timeMs = new Float64Array(rows);
  const values = [new Float64Array(rows), new Float64Array(rows)];
  for (let i = 0; i < rows; i++) {
    timeMs[i] = T0 + i * MIN;
    const noise = Math.sin(i * 12.9898) * 43758.5453;
    const jitter = noise - Math.floor(noise) - 0.5;
    values[0]![i] =
      i >= rows - 40 && i < rows - 20 ? 97 : 30 + 10 * Math.sin((2 * Math.PI * i) / 1440) + jitter;
    values[1]![i] = i % 97 === 5 ? Number.NaN : 5 + jitter;
  }
  return {
    options: { features: defaultStreamFeatures(['a', 'b']), trees: 20, seed: 3 },
    timeMs,
    values,
    from: T0 + 10 * MIN,
    to: T0 + (rows - 5) * MIN,
  };
}

// Starting a worker from the TypeScript sources (tsx) takes a few seconds on a busy machine.
jest.setTimeout(60_000);

describe('training on a worker thread', () => {
  it('gives, to the bit, the run of the calling thread', async () => {
    const t = task(1400);
    const here = runStream(t);
    const there = await runStreamInWorker(t);
    expect(there.times).toEqual(here.times);
    expect(there.results).toEqual(here.results);
    expect(there.snapshot).toBe(here.snapshot);
    expect(there.options).toEqual(here.options);
    // Every score bit for bit, not only within toEqual's idea of equal numbers.
    const bits = (r: typeof here): string =>
      Buffer.from(
        Float64Array.from(r.results.flatMap((x) => [x.score, x.threshold, x.forestScore])).buffer,
      ).toString('hex');
    expect(bits(there)).toBe(bits(here));
    expect(here.results.some((r) => r.isAnomaly)).toBe(true);
  });

  it('leaves the event loop free while it trains', async () => {
    let finished = false;
    let ticksWhileTraining = 0;
    const run = runStreamInWorker(task(1400)).then((r) => {
      finished = true;
      return r;
    });
    while (!finished) {
      await new Promise((r) => setImmediate(r));
      if (!finished) ticksWhileTraining++;
    }
    expect((await run).results.length).toBe(1385);
    // On this thread the run is one synchronous call: not one tick could happen during it.
    expect(ticksWhileTraining).toBeGreaterThan(1);
  });

  it('stops the worker when the progress callback throws (a cancelled job), with that error', async () => {
    const stop = new Error('job was cancelled');
    await expect(
      runStreamInWorker(task(5000), () => {
        throw stop;
      }),
    ).rejects.toBe(stop);
  });
});
