import { flaggedRuns, medianStep, movingAverage, representativeMoment } from './peak';

const MIN = 60_000;
const minutes = (n: number) => Array.from({ length: n }, (_, i) => i * MIN);

describe('representativeMoment', () => {
  // The demo's web-1 cpu: a one-minute blip (0.767) an hour before a 48-minute runaway that peaks at 0.748.
  const time = minutes(180);
  const score: number[] = time.map(() => 0.45);
  const anomaly: boolean[] = time.map(() => false);
  score[30] = 0.767;
  anomaly[30] = true;
  for (let i = 90; i < 138; i++) {
    score[i] = 0.7 + 0.001 * (i % 7);
    anomaly[i] = true;
  }
  score[119] = 0.73;
  score[120] = 0.748;
  score[121] = 0.72;

  it('explains the sustained incident, not the higher one-minute blip', () => {
    const m = representativeMoment(time, score, anomaly)!;
    expect(Math.max(...score)).toBe(0.767);
    expect(m.run).toEqual({ first: 90, last: 137 });
    expect(m.start).toBe(90 * MIN);
    expect(m.end).toBe(137 * MIN);
    // The smoothed peak: 0.748 with its neighbours 0.73 and 0.72.
    expect(m.index).toBe(120);
    expect(m.time).toBe(120 * MIN);
    expect(m.score).toBe(0.748);
    expect(m.smoothed).toBeCloseTo((0.73 + 0.748 + 0.72) / 3, 12);
  });

  it('still explains a blip when it is the only flagged point', () => {
    const only = anomaly.map((_, i) => i === 30);
    expect(representativeMoment(time, score, only)).toMatchObject({
      index: 30,
      score: 0.767,
      run: { first: 30, last: 30 },
    });
  });

  it('keeps to flagged points inside `within`, smoothing with neighbours outside it', () => {
    const m = representativeMoment(time, score, anomaly, [100 * MIN, 110 * MIN])!;
    expect(m.time).toBeGreaterThanOrEqual(100 * MIN);
    expect(m.time).toBeLessThan(110 * MIN);
    expect(m.run).toEqual({ first: 100, last: 109 });
    expect(representativeMoment(time, score, anomaly, [0, 10 * MIN])).toBeUndefined();
  });

  it('has nothing to explain without flagged points', () => {
    expect(
      representativeMoment(
        time,
        score,
        time.map(() => false)
      )
    ).toBeUndefined();
    expect(representativeMoment([], [], [])).toBeUndefined();
  });

  it('averages a lone flagged point down with its normal neighbours', () => {
    const t = minutes(10);
    const s = [0.2, 0.9, 0.2, 0.2, 0.8, 0.8, 0.8, 0.2, 0.2, 0.2];
    const m = representativeMoment(
      t,
      s,
      s.map((v) => v > 0.5)
    )!;
    expect(m.index).toBe(5);
    expect(m.smoothed).toBeCloseTo(0.8, 12);
  });

  it('on equal smoothed peaks, prefers the longer run', () => {
    const t = minutes(12);
    const s = [0.25, 0.5, 0.5, 0.5, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25];
    const m = representativeMoment(
      t,
      s,
      s.map((v) => v > 0.3)
    )!;
    expect(m.smoothed).toBe(0.5);
    expect(m.run).toEqual({ first: 5, last: 9 });
    expect(m.index).toBe(6);
  });
});

describe('movingAverage', () => {
  it('averages three points, shrinking at the ends and at gaps, skipping nulls', () => {
    const t = [0, 1, 2, 3, 10, 11].map((m) => m * MIN);
    const s = [1, 2, null, 6, 8, 10];
    expect(movingAverage(t, s)).toEqual([1.5, 1.5, null, 6, 9, 9]);
  });

  it('finds the interval and the runs', () => {
    expect(medianStep([0, 60, 120, 600])).toBe(60);
    expect(medianStep([5])).toBe(0);
    expect(flaggedRuns([true, true, false, true, false, false, true])).toEqual([
      { first: 0, last: 1 },
      { first: 3, last: 3 },
      { first: 6, last: 6 },
    ]);
  });
});
