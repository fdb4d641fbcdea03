import fc from 'fast-check';
import { FeatureTransformer, featureNames, normalizeSpec, transformBatch } from './index.js';

const matrix = (rows: number[][]): { rows: number; cols: number; data: Float64Array } => ({
  rows: rows.length,
  cols: rows[0]!.length,
  data: Float64Array.from(rows.flat()),
});

describe('feature spec', () => {
  it('names every feature after its field, in vector order', () => {
    const spec = normalizeSpec({
      fields: ['cpu', 'mem'],
      delta: true,
      rollingWindow: 60,
      shingle: 3,
      timeOfDay: true,
    });
    expect(featureNames(spec)).toEqual([
      'cpu',
      'cpu.lag1',
      'cpu.lag2',
      'cpu.delta',
      'cpu.z60',
      'mem',
      'mem.lag1',
      'mem.lag2',
      'mem.delta',
      'mem.z60',
      'time.hour_sin',
      'time.hour_cos',
    ]);
  });

  it.each([
    [{ fields: [] }, 'at least one field'],
    [{ fields: ['a', 'a'] }, "field 'a' is listed twice"],
    [{ fields: ['a'], rollingWindow: 1 }, 'rollingWindow must be 0 (off) or an integer from 2'],
    [{ fields: ['a'], shingle: 2.5 }, 'shingle must be an integer'],
    [{ fields: ['a'], raw: false }, 'turns every feature off'],
  ])('refuses %j', (spec, message) => {
    expect(() => normalizeSpec(spec)).toThrow(message);
  });
});

describe('transformBatch', () => {
  it('computes delta, rate, lags and the rolling z against the previous rows only', () => {
    const t = [0, 60_000, 120_000, 180_000];
    const b = transformBatch(
      { fields: ['x'], delta: true, rate: true, rollingWindow: 2, shingle: 2 },
      matrix([[1], [3], [5], [11]]),
      t,
    );
    expect(b.names).toEqual(['x', 'x.lag1', 'x.delta', 'x.rate', 'x.z2']);
    expect(Array.from(b.sourceRow)).toEqual([2, 3]); // two rows of warm-up for the window
    // row 2: x=5, previous [1, 3] → mean 2, sample std √2, z = 3/√2
    expect(Array.from(b.matrix.data.subarray(0, 5))).toEqual([5, 3, 2, 2 / 60, 3 / Math.SQRT2]);
    // row 3: x=11, previous [3, 5] → mean 4, std √2, z = 7/√2
    expect(b.matrix.data[9]).toBeCloseTo(7 / Math.SQRT2, 12);
  });

  it('places times of day on a circle (midnight and noon opposite)', () => {
    const day = 86_400_000;
    const b = transformBatch({ fields: ['x'], raw: false, timeOfDay: true }, matrix([[1], [1]]), [
      day * 100,
      day * 100 + day / 2,
    ]);
    expect(b.matrix.data[0]).toBeCloseTo(0, 12);
    expect(b.matrix.data[1]).toBeCloseTo(1, 12);
    expect(b.matrix.data[3]).toBeCloseTo(-1, 12);
  });

  it('fills a missing value with the last one and counts it', () => {
    const b = transformBatch(
      { fields: ['x', 'y'] },
      matrix([
        [NaN, 1],
        [2, NaN],
        [NaN, 3],
      ]),
    );
    expect(Array.from(b.sourceRow)).toEqual([1, 2]); // row 0 has no earlier x to fall back on
    expect(Array.from(b.matrix.data)).toEqual([2, 1, 2, 3]);
    expect(b.imputed).toBe(2);
  });

  it('is causal: changing later rows never changes earlier features', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 12, maxLength: 40 }),
        fc.nat(),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (values, cut, replacement) => {
          const spec = { fields: ['x'], delta: true, rollingWindow: 5, shingle: 3 };
          const at = cut % values.length;
          const changed = values.map((v, i) => (i >= at ? replacement : v));
          const a = transformBatch(spec, matrix(values.map((v) => [v])));
          const b = transformBatch(spec, matrix(changed.map((v) => [v])));
          const width = a.names.length;
          for (let r = 0; r < a.sourceRow.length && a.sourceRow[r]! < at; r++) {
            expect(Array.from(b.matrix.data.subarray(r * width, (r + 1) * width))).toEqual(
              Array.from(a.matrix.data.subarray(r * width, (r + 1) * width)),
            );
          }
        },
      ),
    );
  });

  it('streams the same numbers as the batch, also across a snapshot and restore', () => {
    const spec = { fields: ['x'], delta: true, rollingWindow: 4 };
    const values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const batch = transformBatch(spec, matrix(values.map((v) => [v])));
    const first = new FeatureTransformer(spec);
    const out: number[] = [];
    values.slice(0, 6).forEach((v, i) => out.push(...(first.push([v], i * 1000) ?? [])));
    const second = new FeatureTransformer(spec, first.snapshot());
    values.slice(6).forEach((v, i) => out.push(...(second.push([v], (i + 6) * 1000) ?? [])));
    expect(out).toEqual(Array.from(batch.matrix.data));
  });

  it('refuses rows of the wrong width', () => {
    const t = new FeatureTransformer({ fields: ['x'] });
    t.push([1], 1000);
    expect(() => t.push([1, 2], 2000)).toThrow('a row has 2 values, the feature spec has 1 fields');
  });

  it('takes repeated and backward times in row order: look-back by row, time features by the row clock, rates over the last positive step', () => {
    const spec = { fields: ['x'], delta: true, rate: true, shingle: 2, timeOfDay: true };
    const t = new FeatureTransformer(spec);
    const hour = 3_600_000;
    // 01:00, 01:30, 01:30 again, then back to 01:00 (daylight saving ends), then 01:30.
    const times = [1 * hour, 1.5 * hour, 1.5 * hour, 1 * hour, 1.5 * hour];
    const values = [10, 16, 22, 19, 25];
    const rows = values.map((v, i) => t.push([v], times[i]!));
    expect(rows[0]).toBeUndefined();
    const named = (row: Float64Array | undefined): Record<string, number> =>
      Object.fromEntries(t.names.map((n, i) => [n, row![i]!]));
    // Half an hour between the first two rows: 6 per 1800 s.
    expect(named(rows[1])).toMatchObject({ x: 16, 'x.lag1': 10, 'x.delta': 6, 'x.rate': 6 / 1800 });
    // The same time again: the rate divides by the last positive step, not by zero.
    expect(named(rows[2])).toMatchObject({ x: 22, 'x.lag1': 16, 'x.delta': 6, 'x.rate': 6 / 1800 });
    // Back half an hour: still the last positive step, so a fall stays a fall.
    expect(named(rows[3])).toMatchObject({ x: 19, 'x.lag1': 22, 'x.delta': -3, 'x.rate': -3 / 1800 });
    // The row's own clock: 01:00 is 1/24 of the way round the day.
    expect(named(rows[3])['time.hour_sin']).toBeCloseTo(Math.sin((2 * Math.PI) / 24), 12);
    // And forwards from the stepped-back time.
    expect(named(rows[4])).toMatchObject({ x: 25, 'x.delta': 6, 'x.rate': 6 / 1800 });
    for (const row of rows.slice(1)) for (const v of row!) expect(Number.isFinite(v)).toBe(true);
  });

  it('gives a repeated time a rate of 0 before any positive step, and keeps the step across a snapshot', () => {
    const spec = { fields: ['x'], rate: true };
    const t = new FeatureTransformer(spec);
    t.push([1], 5000);
    expect(Array.from(t.push([3], 5000)!)).toEqual([3, 0]);
    expect(Array.from(t.push([5], 7000)!)).toEqual([5, 1]);
    const restored = new FeatureTransformer(spec, t.snapshot());
    expect(Array.from(restored.push([9], 7000)!)).toEqual([9, 2]);
    // A snapshot written before the step was kept restores as "no step seen yet".
    const { lastIntervalMs: _old, ...older } = t.snapshot();
    expect(Array.from(new FeatureTransformer(spec, older).push([9], 7000)!)).toEqual([9, 0]);
  });

  it('keeps each series its own look-back when rows of several interleave in time', () => {
    const spec = { fields: ['x'], delta: true, rollingWindow: 3, shingle: 2 };
    const a = [1, 4, 2, 8, 5, 7];
    const b = [100, 90, 95, 120, 80, 85];
    // Host a at 0, 60, 120 … s; host b 30 s later each time: a, b, a, b, …
    const rows = a.flatMap((v, i) => [[v], [b[i]!]]);
    const times = a.flatMap((_, i) => [i * 60_000, i * 60_000 + 30_000]);
    const series = a.flatMap(() => [0, 1]);
    const both = transformBatch(spec, matrix(rows), times, series);
    const alone = [a, b].map((values, k) =>
      transformBatch(
        spec,
        matrix(values.map((v) => [v])),
        times.filter((_, i) => series[i] === k),
      ),
    );
    const width = both.matrix.cols;
    const rowsOf = (k: number): number[][] =>
      Array.from(both.sourceRow)
        .map((source, i) => [source, i] as const)
        .filter(([source]) => series[source] === k)
        .map(([, i]) => Array.from(both.matrix.data.subarray(i * width, (i + 1) * width)));
    for (const k of [0, 1]) {
      const expected = Array.from({ length: alone[k]!.matrix.rows }, (_, i) =>
        Array.from(alone[k]!.matrix.data.subarray(i * width, (i + 1) * width)),
      );
      expect(rowsOf(k)).toEqual(expected);
    }
    expect(() => transformBatch(spec, matrix(rows), times, [0, 1])).toThrow('2 series ids for 12 rows');
  });
});
