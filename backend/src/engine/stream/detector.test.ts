import { Random } from '../forest/random.js';
import { defaultStreamFeatures, StreamingDetector } from './detector.js';

function rows(n: number, seed: number): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => [
    10 + Math.sin(i / 20) + 0.1 * rng.normal(),
    5 + 0.2 * rng.normal(),
  ]);
}

describe('StreamingDetector', () => {
  const options = {
    features: { fields: ['a', 'b'], delta: true },
    warmup: 64,
    retrainEvery: 50,
    window: 200,
    seed: 9,
  };

  it('warms up, then scores every row; retrains every N rows', () => {
    const d = new StreamingDetector(options);
    const results = rows(400, 1).map((r, i) => d.push(r, i * 60_000));
    expect(results.slice(0, 65).every((r) => r.score === 0 && r.modelVersion === 0)).toBe(true);
    expect(results[70]!.score).toBeGreaterThan(0);
    expect(results[399]!.modelVersion).toBeGreaterThan(5);
  });

  it('continues after snapshot and restore exactly as if it had never stopped', () => {
    const data = rows(500, 2);
    const straight = new StreamingDetector(options);
    const expected = data.map((r, i) => straight.push(r, i * 60_000));
    const first = new StreamingDetector(options);
    const got = data.slice(0, 237).map((r, i) => first.push(r, i * 60_000));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<
      StreamingDetector['snapshot']
    >;
    const second = StreamingDetector.restore(snapshot);
    got.push(...data.slice(237).map((r, i) => second.push(r, (i + 237) * 60_000)));
    expect(got).toEqual(expected);
  });

  it('flags and explains a jump that lasts', () => {
    const d = new StreamingDetector(options);
    rows(300, 3).forEach((r, i) => d.push(r, i * 60_000));
    const [first, second, third] = [0, 1, 2].map((k) => d.push([10, 50], (300 + k) * 60_000));
    // Smoothed over three rows: the jump has the threshold's worth of evidence by its third row.
    expect(first!.score).toBeLessThan(third!.score);
    expect(second!.score).toBeLessThan(third!.score);
    expect(third!.isAnomaly).toBe(true);
    expect(third!.topFeature).toMatch(/^b/);
  });

  it("reports the mean of the last `smoothing` rows' scores, and learns rows by their own", () => {
    // Steady data and one retrain: few flags, so the regime rule (a new normal) stays out of it.
    const rng = new Random(3);
    const data = Array.from({ length: 300 }, () => [10 + 0.1 * rng.normal(), 5 + 0.2 * rng.normal()]);
    data[250] = [10, 50];
    const run = (smoothing: number) => {
      const d = new StreamingDetector({ ...options, retrainEvery: 0, smoothing });
      return { results: data.map((r, i) => d.push(r, i * 60_000)), snapshot: d.snapshot() };
    };
    const one = run(1);
    const three = run(3);
    expect(one.results[250]!.isAnomaly).toBe(true);
    const firstScored = one.results.findIndex((r) => r.score > 0);
    for (let i = firstScored; i < data.length; i++) {
      const own = one.results.slice(Math.max(firstScored, i - 2), i + 1).map((r) => r.forestScore);
      expect(three.results[i]!.forestScore).toBeCloseTo(own.reduce((a, s) => a + s, 0) / own.length, 12);
    }
    // Rows flagged while the spike is in their mean are explained by the spike, whichever it is.
    for (const [spike, name] of [
      [[10, 50], /^b/],
      [[40, 5], /^a/],
    ] as const) {
      const d = new StreamingDetector({ ...options, retrainEvery: 0, smoothing: 3 });
      const flagged = data
        .map((r, i) => d.push(i === 250 ? spike : r, i * 60_000))
        .slice(250, 253)
        .filter((r) => r.isAnomaly);
      expect(flagged.length).toBeGreaterThan(1);
      for (const r of flagged) expect(r.topFeature).toMatch(name);
    }
    // Which rows are learnt goes by each row's own score: the spike stays out of training either way.
    expect(three.snapshot.window).toEqual(one.snapshot.window);
    expect(three.snapshot.window).not.toContain(50);
  });

  it('does not take two flags soon after a retrain for a new normal', () => {
    const rng = new Random(3);
    const data = Array.from({ length: 300 }, () => [10 + 0.1 * rng.normal(), 5 + 0.2 * rng.normal()]);
    data[240] = [10, 40];
    data[250] = [10, 50]; // 36 rows after the retrain at row 214: 2 flags are 5.4 % of them
    const d = new StreamingDetector(options);
    const results = data.map((r, i) => d.push(r, i * 60_000));
    expect(results[240]!.isAnomaly || results[241]!.isAnomaly).toBe(true);
    expect(results[250]!.isAnomaly || results[251]!.isAnomaly).toBe(true);
    const learnt = d.snapshot().window;
    expect(learnt).not.toContain(40);
    expect(learnt).not.toContain(50);
  });

  it('scores levels and changes with forests of their own: a jump inside the normal ranges is caught by its deltas', () => {
    const d = new StreamingDetector(options);
    const rng = new Random(6);
    // Two smooth cycles, a between 9 and 11 and b between 4 and 6.
    const at = (i: number): number[] => [
      10 + Math.sin(i / 20) + 0.01 * rng.normal(),
      5 + Math.cos(i / 20) + 0.01 * rng.normal(),
    ];
    for (let i = 0; i < 300; i++) d.push(at(i), i * 60_000);
    const before = at(300);
    expect(d.push(before, 300 * 60_000).isAnomaly).toBe(false);
    // Both stay inside their ranges, but move in one step as far as they normally do in thirty.
    const jump = d.push([before[0]! - 1.5, before[1]! + 1.2], 301 * 60_000);
    console.log(jump, (d as any).calibrations.map((c: any) => [c.rawThreshold, c.fit.u, c.fit.beta, c.fit.q0, c.fit.budgetLog]), (d as any).lastScored.map((r: any) => r.groups));
    expect(jump.isAnomaly).toBe(true);
    expect(jump.topFeature).toMatch(/^[ab]\.delta$/);
  });

  it('is one forest group when there are no change features to separate', () => {
    const levelsOnly = { ...options, features: { fields: ['a', 'b'] } };
    const separate = new StreamingDetector({ ...levelsOnly, separateChanges: true });
    const together = new StreamingDetector({ ...levelsOnly, separateChanges: false });
    const data = rows(300, 7);
    const a = data.map((r, i) => separate.push(r, i * 60_000));
    const b = data.map((r, i) => together.push(r, i * 60_000));
    expect(a).toEqual(b);
    expect(separate.snapshot().groups).toHaveLength(1);
  });

  it('refuses a snapshot of another format, naming the one it reads', () => {
    const d = new StreamingDetector(options);
    const old = { ...d.snapshot(), format: 1 } as unknown as ReturnType<StreamingDetector['snapshot']>;
    expect(() => StreamingDetector.restore(old)).toThrow(
      'stream snapshot format 1 is not supported (this version reads 4)',
    );
  });

  it('retrains at once when the drift consensus fires, even with no retraining schedule', () => {
    const d = new StreamingDetector({ ...options, retrainEvery: 0, driftCheckEvery: 300 });
    const data = rows(1200, 4);
    data.forEach((r, i) => d.push(i < 400 ? r : [r[0]! + 5, r[1]! + 3], i * 60_000));
    expect(d.retrainsOnDrift).toBeGreaterThan(0);
    expect(d.snapshot().modelVersion).toBe(1 + d.retrainsOnDrift);
  });

  it('does not retrain on drift while the data stays the same', () => {
    const d = new StreamingDetector({ ...options, retrainEvery: 0, driftCheckEvery: 300 });
    const rng = new Random(5);
    for (let i = 0; i < 3000; i++) d.push([10 + rng.normal(), 5 + rng.normal()], i * 60_000);
    expect(d.retrainsOnDrift).toBe(0);
  });

  it('refuses options that cannot work', () => {
    expect(() => new StreamingDetector({ ...options, warmup: 1 })).toThrow('warmup must be an integer ≥ 2');
    expect(() => new StreamingDetector({ ...options, window: 10 })).toThrow('window must be an integer ≥ 64');
    expect(() => new StreamingDetector({ ...options, smoothing: 0 })).toThrow(
      'smoothing must be an integer ≥ 1',
    );
    expect(() => new StreamingDetector({ ...options, contamination: 0.7 })).toThrow(
      'contamination must be in (0, 0.5]',
    );
  });
});

describe('defaultStreamFeatures', () => {
  it('gives one column a shingle of 8, and every column its delta', () => {
    expect(defaultStreamFeatures(['value'])).toEqual({ fields: ['value'], shingle: 8, delta: true });
    expect(defaultStreamFeatures(['cpu', 'mem'])).toEqual({
      fields: ['cpu', 'mem'],
      shingle: 1,
      delta: true,
    });
  });

  it('takes a shingle size given by the user over the default', () => {
    expect(defaultStreamFeatures(['value'], 4).shingle).toBe(4);
  });
});
