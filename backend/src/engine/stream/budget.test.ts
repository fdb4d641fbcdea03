import { Random } from '../forest/random.js';
import { effectiveMetrics } from './budget.js';

/** Rows of `cols` values: each column a mix of a shared signal (weight `shared`) and its own noise. */
function mixed(rows: number, cols: number, shared: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const common = rng.normal();
    for (let c = 0; c < cols; c++)
      out[r * cols + c] = 100 * c + shared * common + (1 - shared) * rng.normal();
  }
  return out;
}

const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('effectiveMetrics (Nyholt)', () => {
  it('counts independent metrics one each', () => {
    const m = effectiveMetrics(mixed(4000, 6, 0, 1), 4000, 6, all(6));
    expect(m).toBeGreaterThan(5.8);
    expect(m).toBeLessThanOrEqual(6);
  });

  it("equals Nyholt's formula on the correlation matrix's eigenvalues", () => {
    // Three metrics with correlations 0.6 (a, b), 0 (a, c), 0 (b, c): λ = 1.6, 0.4, 1.
    const rng = new Random(6);
    const rows = 20000;
    const data = new Float64Array(rows * 3);
    for (let r = 0; r < rows; r++) {
      const z = rng.normal();
      data[r * 3] = Math.sqrt(0.6) * z + Math.sqrt(0.4) * rng.normal();
      data[r * 3 + 1] = Math.sqrt(0.6) * z + Math.sqrt(0.4) * rng.normal();
      data[r * 3 + 2] = rng.normal();
    }
    const lambda = [1.6, 0.4, 1];
    const variance = lambda.reduce((s, l) => s + (l - 1) ** 2, 0) / 2;
    expect(effectiveMetrics(data, rows, 3, all(3))).toBeCloseTo(1 + 2 * (1 - variance / 3), 1);
  });

  it('counts metrics that are one signal as one', () => {
    expect(effectiveMetrics(mixed(2000, 5, 1, 2), 2000, 5, all(5))).toBeCloseTo(1, 6);
  });

  it('counts metrics that mostly follow one signal as between one and their number', () => {
    const m = effectiveMetrics(mixed(4000, 5, 0.8, 3), 4000, 5, all(5));
    expect(m).toBeGreaterThan(1.05);
    expect(m).toBeLessThan(2.5);
  });

  it('leaves out a constant metric and looks only at the columns asked for', () => {
    const cols = 4;
    const data = mixed(3000, cols, 0, 4);
    for (let r = 0; r < 3000; r++) data[r * cols + 1] = 7;
    // Column 1 constant, column 3 not asked for: two independent metrics remain.
    expect(effectiveMetrics(data, 3000, cols, [0, 1, 2])).toBeGreaterThan(1.9);
    expect(effectiveMetrics(data, 3000, cols, [0, 1, 2])).toBeLessThanOrEqual(2);
    expect(effectiveMetrics(data, 3000, cols, [1])).toBe(1);
  });

  it('is 1 for one metric, no rows, or values that are all missing', () => {
    expect(effectiveMetrics(mixed(100, 1, 0, 5), 100, 1, [0])).toBe(1);
    expect(effectiveMetrics(new Float64Array(0), 0, 3, all(3))).toBe(1);
    expect(effectiveMetrics(new Float64Array(30).fill(Number.NaN), 10, 3, all(3))).toBe(1);
  });
});
