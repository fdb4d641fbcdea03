import { IsolationForest } from '../forest/forest.js';
import { Random } from '../forest/random.js';
import {
  defaultStreamFeatures,
  StreamingDetector,
  type MetricForests,
  type StreamResult,
} from './detector.js';

function rows(n: number, seed: number): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => [
    10 + Math.sin(i / 20) + 0.1 * rng.normal(),
    5 + 0.2 * rng.normal(),
  ]);
}

describe('StreamingDetector', () => {
  // Small windows cannot tell a one-in-a-million row from a one-in-a-thousand one: these tests are
  // about the mechanics, so they spend a generous alert budget (the default's are further down).
  const options = {
    features: { fields: ['a', 'b'], delta: true },
    warmup: 64,
    retrainEvery: 50,
    window: 200,
    alertsPerDay: 20,
    seed: 9,
  };
  /** The level and change forests alone, for the tests of their mechanics. */
  const twoGroups = { ...options, wholeForest: false as const };

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
    // A step shows in the deltas of one row only: averaging it with two ordinary rows would hide it.
    const d = new StreamingDetector({ ...options, smoothing: 1 });
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
    expect(jump.isAnomaly).toBe(true);
    expect(jump.topFeature).toMatch(/^[ab]\.delta$/);
  });

  it('keeps a rolling forest: each retrain grows one cohort and drops the oldest, the trees always `trees`', () => {
    const d = new StreamingDetector({ ...twoGroups, trees: 20, ensemble: 3, driftCheckEvery: 0 });
    const data = rows(400, 12);
    const treesOf = (cohort: string) =>
      IsolationForest.deserialize(Uint8Array.from(atob(cohort), (ch) => ch.charCodeAt(0))).params.trees;
    // Warm-up 64 rows (the first has no delta yet), then a retrain every 50: at rows 64 and 114.
    data.slice(0, 65).forEach((r, i) => d.push(r, i * 60_000));
    const first = d.snapshot();
    expect(first.modelVersion).toBe(1);
    expect(first.groups.map((g) => g.map(treesOf))).toEqual([
      [7, 7, 6],
      [7, 7, 6],
    ]);
    data.slice(65, 115).forEach((r, i) => d.push(r, (65 + i) * 60_000));
    const second = d.snapshot();
    expect(second.modelVersion).toBe(2);
    for (const [g, cohorts] of second.groups.entries()) {
      expect(cohorts.slice(0, 2)).toEqual(first.groups[g]!.slice(1));
      expect(cohorts[2]).not.toEqual(first.groups[g]![0]);
      expect(cohorts.map(treesOf)).toEqual([7, 6, 7]);
    }
    // The threshold follows the new trees: it is the quantile of the new forest's scores.
    expect(second.thresholds).not.toEqual(first.thresholds);
    for (const t of second.thresholds) expect(t).toBeGreaterThan(0.3);
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
      'stream snapshot format 1 is not supported (this version reads 4, 5 and 6)',
    );
  });

  it('spends the alert budget per effective metric: metrics that move together count as one', () => {
    const rng = new Random(11);
    const fields = ['a', 'b', 'c', 'd'];
    const independent = new StreamingDetector({ ...options, features: { fields, delta: true } });
    const together = new StreamingDetector({ ...options, features: { fields, delta: true } });
    for (let i = 0; i < 100; i++) {
      const load = rng.normal();
      independent.push([rng.normal(), rng.normal(), rng.normal(), rng.normal()], i * 60_000);
      together.push([load, 2 * load + 1, 10 - load, 0.5 * load], i * 60_000);
    }
    // Learnt from the warm-up the first model trains on, kept across a snapshot.
    expect(independent.effectiveMetrics).toBeGreaterThan(3);
    expect(together.effectiveMetrics).toBeCloseTo(1, 6);
    const restored = StreamingDetector.restore(JSON.parse(JSON.stringify(independent.snapshot())));
    expect(restored.effectiveMetrics).toBe(independent.effectiveMetrics);
    expect(new StreamingDetector(options).effectiveMetrics).toBe(1);
  });

  it("splits the budget by how many forest groups alert independently with budgetSplit 'union', and restores exactly", () => {
    // From row 300, a bump in b every fifth row that both groups find rare: their tails come to
    // share more rows, so G_eff moves at every refit from there (1.88, 1.81, 1.94, 1.50, 1.75).
    const data = rows(700, 21).map((r, i) => (i >= 300 && i % 5 === 0 ? [r[0]!, r[1]! + 0.5] : r));
    const union = { ...twoGroups, budgetSplit: 'union' as const };
    const even = new StreamingDetector({ ...twoGroups, budgetSplit: 'even' });
    const straight = new StreamingDetector(union);
    const expected = data.map((r, i) => straight.push(r, i * 60_000));
    data.forEach((r, i) => even.push(r, i * 60_000));
    // Each group's fit spends the stream's budget (per effective metric, minute rows) over G or G_eff.
    const spent = (d: StreamingDetector, groups: number): void =>
      d
        .snapshot()
        .calibration.forEach((c) =>
          expect(c.fit.budgetLog).toBeCloseTo(-Math.log((20 * d.effectiveMetrics) / groups / 1440), 9),
        );
    expect(even.effectiveGroups).toBe(2);
    spent(even, 2);
    // The level and change forests of these rows share some of their rarest rows, not all.
    expect(straight.effectiveGroups).toBeGreaterThan(1.05);
    expect(straight.effectiveGroups).toBeLessThan(1.95);
    spent(straight, straight.effectiveGroups);
    // Measured before every refit from the calibrations' histories, which the snapshot keeps.
    const first = new StreamingDetector(union);
    const got = data.slice(0, 430).map((r, i) => first.push(r, i * 60_000));
    const second = StreamingDetector.restore(JSON.parse(JSON.stringify(first.snapshot())));
    got.push(...data.slice(430).map((r, i) => second.push(r, (i + 430) * 60_000)));
    expect(got).toEqual(expected);
    expect(second.snapshot()).toEqual(straight.snapshot());
    expect(second.effectiveGroups).toBe(straight.effectiveGroups);
  });

  it('grows a whole forest over every feature beside the level and change forests, for two or more metrics only', () => {
    const d = new StreamingDetector(options);
    const single = new StreamingDetector({ ...options, features: { fields: ['a'], delta: true } });
    rows(300, 3).forEach((r, i) => {
      d.push(r, i * 60_000);
      single.push([r[0]!], i * 60_000);
    });
    const width = d.featureNames.length;
    const nFeatures = (cohort: string) =>
      IsolationForest.deserialize(Uint8Array.from(atob(cohort), (ch) => ch.charCodeAt(0))).nFeatures;
    // Levels (a, b), changes (their deltas), then every feature at once: 42 trees of 128 rows.
    expect(d.snapshot().groups.map((g) => nFeatures(g[0]!))).toEqual([width / 2, width / 2, width]);
    expect(single.snapshot().groups).toHaveLength(2);
    // The three groups share the budget by how many of them alert independently: between 1 and 3.
    expect(d.effectiveGroups).toBeGreaterThan(1);
    expect(d.effectiveGroups).toBeLessThanOrEqual(3);
  });

  it('restores a snapshot from before the whole forest and the union split as it ran: two groups, the budget split evenly', () => {
    const data = rows(600, 6);
    const old = new StreamingDetector({ ...twoGroups, budgetSplit: 'even' });
    data.slice(0, 300).forEach((r, i) => old.push(r, i * 60_000));
    const now = old.snapshot();
    const { wholeForest: _w, budgetSplit: _b, ...before } = now.options;
    const restored = StreamingDetector.restore(
      JSON.parse(JSON.stringify({ ...now, options: before })) as typeof now,
    );
    const later = data.slice(300).map((r, i) => restored.push(r, (300 + i) * 60_000));
    expect(later).toEqual(data.slice(300).map((r, i) => old.push(r, (300 + i) * 60_000)));
    expect(restored.snapshot().groups).toHaveLength(2);
    expect(restored.effectiveGroups).toBe(2);
  });

  it('restores a format-5 snapshot (one budget per stream): it learns the unit from its window, and goes on', () => {
    const data = rows(600, 12);
    const d = new StreamingDetector(options);
    data.slice(0, 300).forEach((r, i) => d.push(r, i * 60_000));
    const { budgetMetrics: _unit, ...current } = d.snapshot();
    const restored = StreamingDetector.restore(JSON.parse(JSON.stringify({ ...current, format: 5 })));
    // rows() has two independent columns.
    expect(restored.effectiveMetrics).toBeGreaterThan(1.5);
    expect(restored.snapshot().format).toBe(6);
    const later = data.slice(300).map((r, i) => restored.push(r, (300 + i) * 60_000));
    expect(later.every((r) => r.score > 0 && r.score < 1)).toBe(true);
  });

  it('restores a format-4 snapshot (whole forests voting) into cohorts of their trees, and goes on', () => {
    const data = rows(600, 8);
    const d = new StreamingDetector({ ...twoGroups, budgetSplit: 'even' });
    data.slice(0, 300).forEach((r, i) => d.push(r, i * 60_000));
    const { windowNext: _next, thresholds: _thresholds, budgetMetrics: _unit, ...now } = d.snapshot();
    // That release's options had none of the options that came later.
    const { metricForests: _m, wholeForest: _w, budgetSplit: _b, ...before } = now.options;
    const current = { ...now, options: before as typeof now.options };
    // What the old release kept: per group, up to `ensemble` forests of `trees` trees each.
    const rng = new Random(2);
    const groups = current.groups.map((cohorts, g) => {
      const cols = IsolationForest.deserialize(
        Uint8Array.from(atob(cohorts[0]!), (ch) => ch.charCodeAt(0)),
      ).nFeatures;
      return [0, 1, 2].map((k) => {
        const x = { rows: 200, cols, data: Float64Array.from({ length: 200 * cols }, () => rng.normal()) };
        const forest = IsolationForest.fit(x, {
          seed: 10 * g + k,
          contamination: 0.01,
          outOfRange: 'isolate',
        });
        return btoa(Array.from(forest.serialize(), (b) => String.fromCharCode(b)).join(''));
      });
    });
    const restored = StreamingDetector.restore({ ...current, format: 4, groups });
    const trees = (s: ReturnType<StreamingDetector['snapshot']>) =>
      s.groups.map((cohorts) =>
        cohorts.reduce(
          (a, c) =>
            a + IsolationForest.deserialize(Uint8Array.from(atob(c), (ch) => ch.charCodeAt(0))).params.trees,
          0,
        ),
      );
    expect(trees(restored.snapshot())).toEqual([100, 100]);
    const later = data.slice(300).map((r, i) => restored.push(r, (300 + i) * 60_000));
    expect(later.every((r) => r.score > 0 && r.score < 1)).toBe(true);
    // Retrains went on from the old version, one cohort at a time, the trees still 100 a group.
    expect(later[later.length - 1]!.modelVersion).toBeGreaterThan(current.modelVersion + 4);
    expect(trees(restored.snapshot())).toEqual([100, 100]);
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

  describe('per-metric forests (metricForests, off by default)', () => {
    const metricForests = { share: 0.5, trees: 12, samples: 64, split: 'metric', distinct: 0.5 } as const;
    /** Twelve independent noisy metrics and one that takes three values: a flag-like gauge. */
    function wide(n: number, seed: number): number[][] {
      const rng = new Random(seed);
      return Array.from({ length: n }, (_, i) => [
        ...Array.from({ length: 12 }, () => rng.normal()),
        i % 97 === 0 ? 2 : i % 7 === 0 ? 1 : 0,
      ]);
    }
    const fields = [...Array.from({ length: 12 }, (_, k) => `m${k}`), 'state'];
    const wideOptions = {
      ...options,
      features: { fields, delta: true },
      warmup: 256,
      window: 1024,
      retrainEvery: 256,
    };

    it('gives a single series exactly what it gets without them: its level and change forests already are its own', () => {
      const single = { ...options, features: { fields: ['a'], shingle: 4, delta: true } };
      const data = rows(400, 13).map((r) => [r[0]!]);
      const plain = new StreamingDetector(single);
      const withMetrics = new StreamingDetector({ ...single, metricForests });
      const a = data.map((r, i) => plain.push(r, i * 60_000));
      const b = data.map((r, i) => withMetrics.push(r, i * 60_000));
      expect(b).toEqual(a);
      expect(withMetrics.snapshot().groups).toHaveLength(2);
    });

    it('grows a forest per metric that varies, none for a metric of a few states, and restores them', () => {
      const data = wide(900, 14);
      // Bonferroni: each forest's budget counts the forests grown, before and after a restore.
      const d = new StreamingDetector({
        ...wideOptions,
        metricForests: { ...metricForests, split: 'bonferroni' },
      });
      data.slice(0, 500).forEach((r, i) => d.push(r, i * 60_000));
      const snapshot = d.snapshot();
      // Levels, changes, the whole forest, then the twelve noisy metrics' forests and the state's,
      // left empty.
      expect(snapshot.groups.map((g) => g.length)).toEqual([6, 6, 6, ...Array<number>(12).fill(6), 0]);
      const restored = StreamingDetector.restore(JSON.parse(JSON.stringify(snapshot)));
      const later = data.slice(500).map((r, i) => restored.push(r, (500 + i) * 60_000));
      const straight = data.slice(500).map((r, i) => d.push(r, (500 + i) * 60_000));
      expect(later).toEqual(straight);
      expect(restored.snapshot()).toEqual(d.snapshot());
    });

    it('deals the metrics into forests of `subset` metrics when asked, and restores them', () => {
      const data = wide(700, 17);
      const subsets = { ...metricForests, subset: 4, distinct: 0 };
      const d = new StreamingDetector({ ...wideOptions, metricForests: subsets });
      data.slice(0, 400).forEach((r, i) => d.push(r, i * 60_000));
      // Thirteen metrics in fours: four forests beside the level, change and whole forests.
      expect(d.snapshot().groups.map((g) => g.length)).toEqual([6, 6, 6, 6, 6, 6, 6]);
      const restored = StreamingDetector.restore(JSON.parse(JSON.stringify(d.snapshot())));
      const later = data.slice(400).map((r, i) => restored.push(r, (400 + i) * 60_000));
      expect(later).toEqual(data.slice(400).map((r, i) => d.push(r, (400 + i) * 60_000)));
    });

    it('is what pushMany gives too, row for row', () => {
      const data = wide(700, 15);
      const times = data.map((_, i) => i * 60_000);
      const one = new StreamingDetector({ ...wideOptions, metricForests });
      const expected = data.map((r, i) => one.push(r, times[i]!));
      const many = new StreamingDetector({ ...wideOptions, metricForests });
      expect(many.pushMany(data.flat(), times)).toEqual(expected);
    });

    it('alerts on one metric of 38 gone four standard deviations away, which the forests over all metrics dilute', () => {
      // Replay's defaults on minute data: a path of about eight splits over 38 metrics' features
      // rarely tests metric 3; its own forest cuts the row off near the root.
      const rng = new Random(16);
      const metrics = Array.from({ length: 38 }, (_, k) => `m${k}`);
      const data = Array.from({ length: 3000 }, () => metrics.map(() => rng.normal()));
      for (let i = 2800; i < 2820; i++) data[i]![3] = data[i]![3]! + 4;
      const incident = (mf: MetricForests | false): StreamResult[] => {
        const d = new StreamingDetector({
          features: { fields: metrics, delta: true },
          seed: 9,
          metricForests: mf,
        });
        return data.map((r, i) => d.push(r, i * 60_000)).slice(2800, 2820);
      };
      expect(incident(false).some((r) => r.isAnomaly)).toBe(false);
      const flagged = incident({
        share: 0.5,
        trees: 30,
        samples: 256,
        split: 'bonferroni',
        distinct: 0.5,
      }).filter((r) => r.isAnomaly);
      expect(flagged.length).toBeGreaterThan(0);
      expect(flagged.every((r) => r.topFeature?.startsWith('m3'))).toBe(true);
    });
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
    const metricForests = { share: 0.5, trees: 12, samples: 64, split: 'metric', distinct: 0 } as const;
    for (const bad of [{ share: 1 }, { trees: 0 }, { samples: 1 }, { distinct: 2 }, { subset: 0 }])
      expect(
        () => new StreamingDetector({ ...options, metricForests: { ...metricForests, ...bad } }),
      ).toThrow('metricForests needs');
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

  describe('with the default alert budget (minute data)', () => {
    const MIN = 60_000;
    /** Three days of a noisy metric with a daily cycle; `at` may change a minute's value. */
    const replay = (at: (t: number, v: number) => number = (_t, v) => v) => {
      const rng = new Random(11);
      const d = new StreamingDetector({ features: defaultStreamFeatures(['cpu']), seed: 1 });
      return Array.from({ length: 3 * 1440 }, (_, t) => {
        const v = 30 + 10 * Math.sin((2 * Math.PI * t) / 1440) + rng.normal();
        return d.push([at(t, v)], t * MIN);
      });
    };

    it('raises no alert on a quiet series after its first day, and alerts on a spike', () => {
      const quiet = replay();
      expect(quiet.slice(1440).filter((r) => r.isAnomaly)).toHaveLength(0);
      // Scores mean the same everywhere: 0.5 is the threshold, and quiet rows stay well below it.
      expect(quiet[2000]!.threshold).toBe(0.5);
      // Ten minutes of cpu forty points over its usual (a runaway) alert within those minutes.
      const spiked = replay((t, v) => (t >= 3000 && t < 3010 ? v + 40 : v));
      expect(spiked.slice(3000, 3010).some((r) => r.isAnomaly)).toBe(true);
      expect(Math.max(...spiked.slice(3000, 3010).map((r) => r.score))).toBeGreaterThan(0.5);
    });

    it('keeps a row over the threshold and the rest of the alert episode it opens out of the calibration', () => {
      const rng = new Random(11);
      const d = new StreamingDetector({ features: defaultStreamFeatures(['cpu']), seed: 1 });
      // A steady metric, and five minutes forty points over it soon after a retrain (so the
      // regime rule, which would let a new normal in, stays off).
      let before = 0;
      const results = Array.from({ length: 3 * 1440 }, (_, t) => {
        if (t === 3100) before = d.snapshot().calibration[0]!.scores.length;
        return d.push([30 + rng.normal() + (t >= 3100 && t < 3105 ? 40 : 0)], t * MIN);
      });
      const learnt = d.snapshot().calibration[0]!.scores.length - before;
      const after = results.flatMap((_, i) => (i >= 3100 ? [i] : []));
      // A row is learnt unless one of the last EPISODE_GAP (10) rows, itself included, was over 0.5.
      const inEpisode = after.filter((i) => results.slice(i - 9, i + 1).some((r) => r.score > 0.5));
      const over = after.filter((i) => results[i]!.score > 0.5);
      expect(over.length).toBeGreaterThan(0);
      expect(inEpisode.length).toBeGreaterThanOrEqual(over.length + 9);
      expect(learnt).toBe(after.length - inEpisode.length);
    });

    it('keeps a row over the threshold out of the calibration when rows carry no time', () => {
      const rng = new Random(11);
      const d = new StreamingDetector({ features: defaultStreamFeatures(['cpu']), seed: 1 });
      let before = 0;
      const results = Array.from({ length: 3 * 1440 }, (_, t) => {
        if (t === 3100) before = d.snapshot().calibration[0]!.scores.length;
        return d.push([30 + rng.normal() + (t >= 3100 && t < 3105 ? 40 : 0)], Number.NaN);
      });
      const after = results.slice(3100);
      const over = after.filter((r) => r.score > 0.5).length;
      expect(over).toBeGreaterThan(0);
      expect(d.snapshot().calibration[0]!.scores.length - before).toBe(after.length - over);
    });

    it('alerts on a daily job the first time, not when the same time yesterday was over the threshold', () => {
      const job = (t: number) => t >= 1440 && t % 1440 >= 600 && t % 1440 < 610;
      const results = replay((t, v) => (job(t) ? v + 40 : v));
      const alertsOn = (day: number) =>
        results.slice(day * 1440 + 595, day * 1440 + 610).filter((r) => r.isAnomaly);
      expect(alertsOn(1).length).toBeGreaterThan(0);
      expect(alertsOn(2)).toHaveLength(0);
      expect(results.slice(2 * 1440 + 595, 2 * 1440 + 610).some((r) => r.recurring)).toBe(true);
    });

    it('alerts on a repeat that is rarer than the same time yesterday: worse than the routine', () => {
      // The job adds 25 on day 1 and 100 on day 2: yesterday's routine does not cover today's.
      const job = (t: number) => t >= 1440 && t % 1440 >= 600 && t % 1440 < 610;
      const results = replay((t, v) => (job(t) ? v + (t < 2 * 1440 ? 25 : 100) : v));
      const day = (d: number) => results.slice(d * 1440 + 595, d * 1440 + 615);
      const yesterday = Math.max(...day(1).map((r) => r.score));
      expect(yesterday).toBeGreaterThan(0.5);
      const worse = day(2).filter((r) => r.isAnomaly);
      expect(worse.length).toBeGreaterThan(0);
      for (const r of worse) expect(r.score).toBeGreaterThan(yesterday);
      // Rows over 0.5 no higher than yesterday's peak are still the routine.
      for (const r of day(2)) if (r.score > 0.5 && r.score <= yesterday) expect(r.recurring).toBe(true);
    });
  });
});

describe('StreamingDetector.pushMany', () => {
  // Short schedules, so that a run crosses the warm-up, many retrains and drift checks that retrain
  // between them (a level shift halfway), with missing values along the way.
  const options = {
    features: { fields: ['a', 'b'], delta: true },
    warmup: 64,
    retrainEvery: 90,
    driftCheckEvery: 40,
    window: 300,
    trees: 20,
    ensemble: 3,
    alertsPerDay: 20,
    seed: 5,
  };
  const data = rows(700, 11).map((r, i) => (i > 350 ? [r[0]! + 3, r[1]!] : r));
  data[100]![0] = Number.NaN;
  data[420]![1] = Number.NaN;
  data[500] = [40, 5];
  const times = data.map((_, i) => i * 60_000);

  it('gives what push gives, row for row, and leaves the same state', () => {
    const one = new StreamingDetector(options);
    const expected = data.map((r, i) => one.push(r, times[i]!));
    const many = new StreamingDetector(options);
    // In pieces of odd sizes, so that some start inside a retrain interval and some inside the warm-up.
    const got: ReturnType<StreamingDetector['push']>[] = [];
    for (const [from, to] of [
      [0, 10],
      [10, 333],
      [333, 334],
      [334, 700],
    ] as const)
      many.pushMany(data.slice(from, to).flat(), times.slice(from, to), got);
    expect(many.retrainsOnDrift).toBeGreaterThan(0);
    expect(got.some((r) => r.isAnomaly)).toBe(true);
    expect(got).toEqual(expected);
    expect(many.snapshot()).toEqual(one.snapshot());
  });

  it('takes the rows before a refused one, then throws what push throws', () => {
    const d = new StreamingDetector(options);
    const out: ReturnType<StreamingDetector['push']>[] = [];
    const values = data.slice(0, 100).flat();
    const withTime = new StreamingDetector({
      ...options,
      features: { ...options.features, timeOfDay: true },
    });
    const badTimes = times.slice(0, 100).map((t, i) => (i === 80 ? Number.NaN : t));
    expect(() => withTime.pushMany(values, badTimes, out)).toThrow(/needs a timestamp on every row/);
    expect(out.length).toBe(80);
    expect(() => d.pushMany(values.slice(1), times.slice(0, 100))).toThrow(
      /199 values for 100 rows of 2 fields/,
    );
  });
});
