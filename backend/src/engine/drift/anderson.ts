import { EngineError } from '../errors.js';
import { lowerBound, sortedCopy, upperBound } from './sorted.js';

export interface AndersonResult {
  statistic: number;
  /** Interpolated from Scholz & Stephens' table, capped to [0.001, 0.25] as scipy does. */
  significanceLevel: number;
}

/** Least-squares polynomial of degree 2 through (x, y), highest power first (numpy.polyfit(x, y, 2)). */
function quadraticFit(x: number[], y: number[]): [number, number, number] {
  // Normal equations on centred x keep the 3×3 system well conditioned.
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const s = [0, 0, 0, 0, 0];
  const t = [0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    const u = x[i]! - mean;
    let p = 1;
    for (let k = 0; k < 5; k++) {
      s[k] += p;
      if (k < 3) t[k] += p * y[i]!;
      p *= u;
    }
  }
  // Solve [[s0 s1 s2][s1 s2 s3][s2 s3 s4]] · [c0 c1 c2] = t by Cramer's rule.
  const det3 = (m: number[][]): number =>
    m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
    m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
    m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  const M = [
    [s[0]!, s[1]!, s[2]!],
    [s[1]!, s[2]!, s[3]!],
    [s[2]!, s[3]!, s[4]!],
  ];
  const D = det3(M);
  const c = [0, 1, 2].map((col) => det3(M.map((row, r) => row.map((v, k) => (k === col ? t[r]! : v)))) / D);
  // c0 + c1·u + c2·u², u = x − mean → back to powers of x.
  const [c0, c1, c2] = c as [number, number, number];
  return [c2, c1 - 2 * c2 * mean, c0 - c1 * mean + c2 * mean * mean];
}

const B0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
const SIG = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/**
 * The k-sample Anderson–Darling test (Scholz & Stephens 1987, midrank version for ties) on two
 * samples, as `scipy.stats.anderson_ksamp([reference, current])`. The standardised statistic is
 * compared with the paper's critical values; the significance level is interpolated on a
 * quadratic in log(level) and capped to [0.001, 0.25] beyond the table. When every value is the
 * same the statistic is undefined, and it is refused rather than invented.
 */
export function andersonKsamp(reference: ArrayLike<number>, current: ArrayLike<number>): AndersonResult {
  const samples = [sortedCopy(reference), sortedCopy(current)];
  const k = samples.length;
  const n = samples.map((s) => s.length);
  if (n.some((v) => v === 0))
    throw new EngineError('EMPTY_DATA', 'anderson_ksamp: a sample has no observations');
  const Z = sortedCopy([...samples[0]!, ...samples[1]!]);
  const N = Z.length;
  const Zstar: number[] = [];
  for (let i = 0; i < N; i++) if (i === 0 || Z[i] !== Z[i - 1]) Zstar.push(Z[i]!);
  if (Zstar.length < 2) {
    throw new EngineError('BAD_OPTION', 'anderson_ksamp needs more than one distinct observation');
  }
  // Midrank statistic A²_akN.
  const left = Zstar.map((z) => lowerBound(Z, z));
  const lj = Zstar.map((z, j) => (N === Zstar.length ? 1 : upperBound(Z, z) - left[j]!));
  const Bj = left.map((l, j) => l + lj[j]! / 2);
  let A2 = 0;
  for (let i = 0; i < k; i++) {
    const s = samples[i]!;
    let inner = 0;
    for (let j = 0; j < Zstar.length; j++) {
      const right = upperBound(s, Zstar[j]!);
      const f = right - lowerBound(s, Zstar[j]!);
      const M = right - f / 2;
      inner += ((lj[j]! / N) * (N * M - Bj[j]! * n[i]!) ** 2) / (Bj[j]! * (N - Bj[j]!) - (N * lj[j]!) / 4);
    }
    A2 += inner / n[i]!;
  }
  A2 *= (N - 1) / N;

  const H = n.reduce((acc, v) => acc + 1 / v, 0);
  // hs_cs = cumsum(1 / [N−1, N−2, …, 2]); h = hs_cs[-1] + 1; g = Σ hs_cs / [2 … N−1]
  let cs = 0;
  let g = 0;
  for (let idx = 0, v = N - 1; v >= 2; idx++, v--) {
    cs += 1 / v;
    g += cs / (idx + 2);
  }
  const h = cs + 1;
  const a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
  const b = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
  const c = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
  const d = (2 * h + 6) * k ** 2 - 4 * h * k;
  const sigmasq = (a * N ** 3 + b * N ** 2 + c * N + d) / ((N - 1) * (N - 2) * (N - 3));
  const m = k - 1;
  const statistic = (A2 - m) / Math.sqrt(sigmasq);

  const critical = B0.map((b0, i) => b0 + B1[i]! / Math.sqrt(m) + B2[i]! / m);
  let significanceLevel: number;
  if (statistic < Math.min(...critical)) significanceLevel = 0.25;
  else if (statistic > Math.max(...critical)) significanceLevel = 0.001;
  else {
    const [p2, p1, p0] = quadraticFit(critical, SIG.map(Math.log));
    significanceLevel = Math.exp(p2 * statistic * statistic + p1 * statistic + p0);
  }
  return { statistic, significanceLevel };
}
