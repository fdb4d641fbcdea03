import { defaultStreamFeatures, type StreamOptions } from '../engine/index.js';
import { localStreamSession, workerStreamSession, type StreamSession } from './stream-session.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const OPTIONS: StreamOptions = { features: defaultStreamFeatures(['a', 'b']), trees: 20, seed: 3 };

/** A minute series with a daily wave, deterministic noise, missing values and an incident. */
function series(rows: number): { timeMs: Float64Array; values: Float64Array[] } {
  const timeMs = new Float64Array(rows);
  const values = [new Float64Array(rows), new Float64Array(rows)];
  for (let i = 0; i < rows; i++) {
    timeMs[i] = T0 + i * MIN;
    const noise = Math.sin(i * 12.9898) * 43758.5453;
    const jitter = noise - Math.floor(noise) - 0.5;
    values[0]![i] = i >= 1300 && i < 1320 ? 97 : 30 + 10 * Math.sin((2 * Math.PI * i) / 1440) + jitter;
    values[1]![i] = i % 97 === 5 ? Number.NaN : 5 + jitter;
  }
  return { timeMs, values };
}

/** Every number of a run bit for bit (toEqual's idea of equal numbers forgives -0 and NaN payloads). */
const bits = (results: Array<{ score: number; threshold: number; forestScore: number }>): string =>
  Buffer.from(
    Float64Array.from(results.flatMap((x) => [x.score, x.threshold, x.forestScore])).buffer,
  ).toString('hex');

/** What a session gives for: a fresh detector over 900 rows, its snapshot, then a restored one over the rest. */
async function run(session: StreamSession) {
  const s = series(1500);
  await session.open('fresh', { options: OPTIONS });
  const first = await session.push('fresh', s, T0, T0 + 900 * MIN);
  const snapshot = await session.snapshot('fresh');
  await session.open('restored', { snapshot });
  const second = await session.push('restored', s, T0 + 900 * MIN, T0 + 1500 * MIN);
  const last = await session.snapshot('restored');
  return { first, snapshot, second, last };
}

// Starting a worker from the TypeScript sources (tsx) takes a few seconds on a busy machine.
jest.setTimeout(60_000);

describe('stream sessions: detectors held on a worker thread', () => {
  it('give, to the bit, what the same detectors give on the calling thread', async () => {
    const worker = workerStreamSession();
    try {
      const here = await run(localStreamSession());
      const there = await run(worker);
      expect(there.first.times).toEqual(here.first.times);
      expect(there.first.results).toEqual(here.first.results);
      expect(bits(there.first.results)).toBe(bits(here.first.results));
      expect(there.snapshot).toBe(here.snapshot);
      expect(bits(there.second.results)).toBe(bits(here.second.results));
      expect(there.second.results).toEqual(here.second.results);
      expect(there.last).toBe(here.last);
      expect(here.second.results.some((r) => r.isAnomaly)).toBe(true);
      expect(worker.has('restored')).toBe(true);
      worker.drop('restored');
      expect(worker.has('restored')).toBe(false);
    } finally {
      await worker.close();
    }
  });

  it('leaves the event loop free while the worker scores', async () => {
    const session = workerStreamSession();
    try {
      await session.open('d', { options: OPTIONS });
      let finished = false;
      let ticks = 0;
      const pushed = session.push('d', series(1500), T0, T0 + 1500 * MIN).then((r) => {
        finished = true;
        return r;
      });
      while (!finished) {
        await new Promise((r) => setImmediate(r));
        if (!finished) ticks++;
      }
      expect((await pushed).results).toHaveLength(1500);
      // On this thread the push is one synchronous call: not one tick could happen during it.
      expect(ticks).toBeGreaterThan(1);
    } finally {
      await session.close();
    }
  });

  it('names what is wrong, and starts again after it is closed: the detectors are gone, the session works', async () => {
    const session = workerStreamSession();
    try {
      await expect(session.push('nothing', series(10), T0, T0 + 10 * MIN)).rejects.toThrow(
        "the stream session holds no detector 'nothing'",
      );
      await expect(session.open('bad', { snapshot: '{"not": "a snapshot"' })).rejects.toThrow(/JSON/);
      expect(session.has('bad')).toBe(false);
      await session.open('d', { options: OPTIONS });
      const pending = session.push('d', series(1500), T0, T0 + 1500 * MIN);
      await session.close();
      await expect(pending).rejects.toThrow('the stream session was closed');
      expect(session.has('d')).toBe(false);
      await session.open('d', { options: OPTIONS });
      expect((await session.push('d', series(20), T0, T0 + 20 * MIN)).results).toHaveLength(20);
    } finally {
      await session.close();
    }
  });
});
