import { Random } from '../forest/random.js';
import { StreamingDetector, type StreamOptions, type StreamResult } from './detector.js';
import type { RowExplanation } from './explain-row.js';

/** Two fields, a daily-ish wave and noise, with a level jump and single spikes now and then. */
function rows(n: number, seed: number): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => {
    const jump = i >= 420 && i < 440 ? 8 : 0;
    const spike = i % 97 === 50 ? 6 : 0;
    return [10 + Math.sin(i / 20) + 0.1 * rng.normal() + spike, 5 + 0.2 * rng.normal() + jump];
  });
}

const options: StreamOptions = {
  features: { fields: ['a', 'b'], delta: true, shingle: 2 },
  warmup: 64,
  retrainEvery: 50,
  window: 200,
  alertsPerDay: 20,
  seed: 4,
};

describe('StreamingDetector.pushExplained', () => {
  const data = rows(600, 7);
  const plain = new StreamingDetector(options);
  const expected = data.map((r, i) => plain.push(r, i * 60_000));
  const explained = new StreamingDetector(options);
  const got: Array<{ result: StreamResult; explanation?: RowExplanation }> = data.map((r, i) =>
    explained.pushExplained(r, i * 60_000),
  );

  it('scores exactly as push and leaves the same state', () => {
    expect(got.map((g) => g.result)).toEqual(expected);
    expect(JSON.stringify(explained.snapshot())).toBe(JSON.stringify(plain.snapshot()));
  });

  it('explains nothing while warming up, every scored row after', () => {
    expect(got.slice(0, 64).every((g) => g.explanation === undefined)).toBe(true);
    expect(got.slice(70).every((g) => g.explanation !== undefined)).toBe(true);
  });

  it("names the flagged row's top feature first, in the group that flagged it, adding up exactly", () => {
    const flagged = got.filter((g) => g.result.isAnomaly);
    expect(flagged.length).toBeGreaterThan(3);
    // Each of the three forests flags some: levels, changes, and the whole forest over both.
    expect(new Set(flagged.map((g) => g.explanation!.group))).toEqual(new Set(['levels', 'changes', 'all']));
    for (const { result, explanation: e } of flagged) {
      const best = e!.contributions.indexOf(Math.max(...e!.contributions));
      expect(e!.features[best]).toBe(result.topFeature);
      // The group that flagged it is the one whose calibrated score is the row's score.
      expect(Math.max(...e!.groupScores)).toBe(result.score);
      if (e!.group === 'all') expect(e!.features).toEqual(explained.featureNames);
      else expect(e!.features.every((f) => (e!.group === 'changes') === f.endsWith('.delta'))).toBe(true);
      const sum = e!.contributions.reduce((a, c) => a + c, 0);
      expect(Math.abs(sum - (e!.baseline - e!.pathLength))).toBeLessThan(1e-9);
    }
  });

  it("gives the group's own score of the explained row, its values, and where they sit", () => {
    // Replays to a flagged row, then checks against the detector's own record of its last rows.
    const at = got.findIndex((g) => g.result.isAnomaly && g.explanation!.group === 'levels');
    const d = new StreamingDetector(options);
    data.slice(0, at).forEach((r, i) => d.push(r, i * 60_000));
    const { explanation: e } = d.pushExplained(data[at]!, at * 60_000);
    const last = d.snapshot().lastScored;
    const row = last[last.length - 1 - e!.rowsBack]!;
    expect(Math.abs(e!.forestScore - row.groups[0]!)).toBeLessThan(1e-12);
    expect(e!.values).toEqual([row.x[0], row.x[1], row.x[3], row.x[4]]);
    expect(e!.features).toEqual(['a', 'a.lag1', 'b', 'b.lag1']);
    for (const [i, w] of e!.window.entries()) {
      expect(w.p5).toBeLessThanOrEqual(w.median);
      expect(w.median).toBeLessThanOrEqual(w.p95);
      expect(w.percentile).toBeGreaterThanOrEqual(0);
      expect(w.percentile).toBeLessThanOrEqual(1);
      const range = e!.learnt[i];
      if (range) expect(range.low).toBeLessThanOrEqual(range.high);
    }
    // The flagged value lies beyond what the window holds for the feature that explains it most.
    const best = e!.contributions.indexOf(Math.max(...e!.contributions));
    const w = e!.window[best]!;
    expect(w.percentile < 0.05 || w.percentile > 0.95).toBe(true);
  });
});
