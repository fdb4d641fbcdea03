import { Random } from '../forest/random.js';
import { driftReport, featureDrift, kolmogorovSf, smirnovSf } from './index.js';

function normal(n: number, mean: number, sd: number, seed: number): Float64Array {
  const rng = new Random(seed);
  return Float64Array.from({ length: n }, () => mean + sd * rng.normal());
}

describe('drift report', () => {
  it('says no drift for two windows of the same distribution', () => {
    const f = featureDrift('cpu', normal(2000, 50, 5, 1), normal(1000, 50, 5, 2));
    expect(f.votes).toBeLessThan(3);
    expect(f.drifted).toBe(false);
  });

  it('says drift, by consensus of all five tests, for a one-sigma shift', () => {
    const f = featureDrift('cpu', normal(2000, 50, 5, 1), normal(1000, 55, 5, 2));
    expect(f.verdicts).toEqual({
      ks: true,
      psi: true,
      jensenShannon: true,
      wasserstein: true,
      andersonDarling: true,
    });
    expect(f.drifted).toBe(true);
  });

  it('survives a constant feature in both windows (Anderson–Darling is undefined, not invented)', () => {
    const f = featureDrift('flag', new Float64Array(100).fill(1), new Float64Array(50).fill(1));
    expect(f.andersonDarling).toBeUndefined();
    expect(f.drifted).toBe(false);
  });

  it('ranks features and names the drifted ones', () => {
    const rows = 1000;
    const ref = { rows, cols: 2, data: new Float64Array(rows * 2) };
    const cur = { rows, cols: 2, data: new Float64Array(rows * 2) };
    const [a, b, c, d] = [
      normal(rows, 0, 1, 1),
      normal(rows, 0, 1, 2),
      normal(rows, 0, 1, 3),
      normal(rows, 3, 1, 4),
    ];
    for (let r = 0; r < rows; r++) {
      ref.data.set([a[r]!, b[r]!], r * 2);
      cur.data.set([c[r]!, d[r]!], r * 2);
    }
    const report = driftReport(['steady', 'moved'], ref, cur);
    expect(report.driftedFeatures).toEqual(['moved']);
    expect(report.ranking[0]).toBe('moved');
    expect(report.drifted).toBe(true);
    expect(() => driftReport(['only-one'], ref, cur)).toThrow('1 names, reference has 2 columns');
  });
});

describe('Kolmogorov distribution', () => {
  it('is a proper tail: 1 at 0, 0 at 1, decreasing', () => {
    expect(kolmogorovSf(100, 0)).toBe(1);
    expect(kolmogorovSf(100, 1)).toBe(0);
    let last = 1;
    for (let x = 0.01; x < 1; x += 0.01) {
      const p = kolmogorovSf(5000, x);
      expect(p).toBeLessThanOrEqual(last + 1e-12);
      last = p;
    }
  });

  it('has the exact one-sided tail for n = 1: P(D⁺ ≥ x) = 1 − x', () => {
    expect(smirnovSf(1, 0.3)).toBeCloseTo(0.7, 12);
  });
});
