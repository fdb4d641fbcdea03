import { kolmogorovSf } from './kolmogorov.js';
import { sortedCopy, upperBound } from './sorted.js';

export interface KsResult {
  statistic: number;
  pvalue: number;
  method: 'exact' | 'asymp';
}

/** scipy switches from exact to asymptotic p-values above this sample size (`method="auto"`). */
export const KS_EXACT_MAX_N = 10_000;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Pr(D_{n,n} ≥ h/n) for equal sizes: the reflection sum in a Horner form (scipy's `_compute_prob_outside_square`). */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * Pr(D_{m,n} ≥ h/lcm) for unequal sizes: the share of lattice paths from (0,0) to (m,n) that leave
 * the band |x/m − y/n| < h/lcm, computed directly as 1 − p with Viehmann's (2021) recursion so
 * small p-values keep their precision (scipy's `_compute_outer_prob_inside_method`).
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(Math.max(lenA, n + 1)).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    for (let k = curlen; k < lastlen; k++) A[k] = 1;
  }
  return A[maxj - minj - 1]!;
}

/**
 * Two-sample two-sided Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(a, b, method="auto")`:
 * D = max |F_a − F_b|; the p-value is exact (lattice-path counting) when both samples have at
 * most 10000 points, otherwise from the Kolmogorov distribution at n = round(m·n/(m+n)). An exact
 * computation that overflows falls back to the asymptotic one, as scipy does.
 */
export function ks2samp(reference: ArrayLike<number>, current: ArrayLike<number>): KsResult {
  const a = sortedCopy(reference);
  const b = sortedCopy(current);
  const n1 = a.length;
  const n2 = b.length;
  let d = 0;
  for (const v of [...a, ...b]) d = Math.max(d, Math.abs(upperBound(a, v) / n1 - upperBound(b, v) / n2));
  let method: KsResult['method'] = Math.max(n1, n2) <= KS_EXACT_MAX_N ? 'exact' : 'asymp';
  if (method === 'exact') {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pvalue: 1, method };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: d, pvalue: p, method };
    method = 'asymp';
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pvalue: Math.min(1, Math.max(0, kolmogorovSf(roundHalfEven(en), d))), method };
}

/** numpy's round: halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
