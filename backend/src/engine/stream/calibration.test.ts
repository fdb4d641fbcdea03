import { Random } from '../forest/random.js';
import { RowRate, TailCalibration } from './calibration.js';

/** The score whose tail value −ln(−log₂ s) is y. */
const scoreOf = (y: number): number => Math.pow(2, -Math.exp(-y));

/** n scores whose tail values are Exp(β): an exponential tail whose true probabilities are known. */
function exponentialScores(n: number, beta: number, seed = 1): Float64Array {
  const rng = new Random(seed);
  return Float64Array.from({ length: n }, () => scoreOf(-beta * Math.log(1 - rng.next())));
}

function rate(intervalMs: number): RowRate {
  const r = new RowRate();
  for (let i = 0; i < 10; i++) r.observe(intervalMs);
  return r;
}

function minuteCalibration(alertsPerDay = 0.01): TailCalibration {
  return new TailCalibration(8192, alertsPerDay, rate(60_000));
}

describe('TailCalibration', () => {
  it('refits from the merged history exactly as from a fresh sort of it', () => {
    // Repeated values (a flat series) and a window that wraps many times: the merge's hard cases.
    const scores = exponentialScores(3000, 0.1, 4).map((s, i) => (i % 7 === 0 ? 0.4 : s));
    const merged = new TailCalibration(300, 1, rate(60_000));
    merged.seed(scores.subarray(0, 100));
    for (let i = 100; i < scores.length; i++) {
      merged.add(scores[i]!);
      if (i % 250 !== 0) continue;
      // A restored calibration sorts its history at its first refit: it must then agree bit for bit.
      const sorted = new TailCalibration(300, 1, rate(60_000), merged.snapshot());
      for (let k = 1; k <= 64; k++) {
        merged.add(scores[(i + k) % scores.length]!);
        sorted.add(scores[(i + k) % scores.length]!);
      }
      expect(sorted.snapshot()).toEqual(merged.snapshot());
    }
  });

  it('scores exactly 0.5 at its raw threshold, and is monotone around it', () => {
    const c = minuteCalibration();
    c.seed(exponentialScores(8192, 0.1));
    const t = c.rawThreshold;
    expect(c.calibrate(t)).toBeCloseTo(0.5, 12);
    const grid = Array.from({ length: 200 }, (_, i) => 0.3 + i * 0.0035);
    const calibrated = grid.map((s) => c.calibrate(s));
    for (let i = 1; i < calibrated.length; i++)
      expect(calibrated[i]!).toBeGreaterThanOrEqual(calibrated[i - 1]!);
    expect(c.calibrate(0)).toBe(0);
    expect(c.calibrate(1)).toBeLessThan(1);
  });

  it('extrapolates an exponential tail to the right probability', () => {
    const c = minuteCalibration();
    c.seed(exponentialScores(8192, 0.1));
    // True P(y > 0.9) = e^-9 ≈ 1.2e-4: far beyond the 2 % of scores the fit sees.
    const p = c.tailProbability(scoreOf(0.9));
    expect(p / Math.exp(-9)).toBeGreaterThan(0.6);
    expect(p / Math.exp(-9)).toBeLessThan(1.6);
  });

  it('puts the threshold where a normal row alerts at the budgeted rate per day', () => {
    for (const [intervalMs, perDay] of [
      [60_000, 1440],
      [300_000, 288],
    ] as const) {
      const c = new TailCalibration(8192, 0.05, rate(intervalMs));
      c.seed(exponentialScores(8192, 0.1, 2));
      // For this exponential tail, P(y > y*) = exp(-y* / 0.1) should be 0.05 / perDay.
      const expected = 0.1 * Math.log(perDay / 0.05);
      const got = -Math.log(-Math.log2(c.rawThreshold));
      expect(Math.abs(got / expected - 1)).toBeLessThan(0.1);
    }
  });

  it('a stricter budget raises the threshold', () => {
    const scores = exponentialScores(4096, 0.2);
    const loose = minuteCalibration(1);
    const strict = minuteCalibration(0.001);
    loose.seed(scores);
    strict.seed(scores);
    expect(strict.rawThreshold).toBeGreaterThan(loose.rawThreshold);
    expect(strict.calibrate(0.6)).toBeLessThan(loose.calibrate(0.6));
  });

  it('restores from a snapshot to the same calibration', () => {
    const c = minuteCalibration();
    c.seed(exponentialScores(1000, 0.1));
    for (const s of exponentialScores(100, 0.1, 3)) c.add(s);
    const restored = new TailCalibration(8192, 0.01, rate(60_000), JSON.parse(JSON.stringify(c.snapshot())));
    for (const s of [0.3, 0.45, 0.5, 0.7]) expect(restored.calibrate(s)).toBe(c.calibrate(s));
  });

  it('counts rows per day from the median interval, ignoring repeated and backward times', () => {
    const r = new RowRate();
    expect(r.rowsPerDay).toBe(1440);
    for (const ms of [300_000, 300_000, 0, -3_600_000, 300_000, 600_000]) r.observe(ms);
    expect(r.rowsPerDay).toBe(288);
  });

  it('refuses a budget that is not a positive number', () => {
    expect(() => new TailCalibration(10, 0, new RowRate())).toThrow(/alertsPerDay/);
    expect(() => new TailCalibration(10, Number.NaN, new RowRate())).toThrow(/alertsPerDay/);
  });
});
