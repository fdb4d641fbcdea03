import { quantileSorted } from '../stats.js';

/**
 * Wasserstein-1 (earth mover's) distance between two samples with equal weights: the area between
 * their empirical CDFs, as `scipy.stats.wasserstein_distance`. In the data's own units.
 */
export function wasserstein1(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const a = Float64Array.from(u).sort();
  const b = Float64Array.from(v).sort();
  const all = Float64Array.from([...a, ...b]).sort();
  let ia = 0;
  let ib = 0;
  let sum = 0;
  for (let i = 0; i + 1 < all.length; i++) {
    const x = all[i]!;
    while (ia < a.length && a[ia]! <= x) ia++;
    while (ib < b.length && b[ib]! <= x) ib++;
    sum += Math.abs(ia / a.length - ib / b.length) * (all[i + 1]! - x);
  }
  return sum;
}

export const DRIFT_BINS = 10;
export const SHARE_EPSILON = 1e-6;

export interface Binned {
  /** The 9 interior edges: the reference's deciles (numpy's linear quantiles). */
  edges: number[];
  referenceShare: number[];
  currentShare: number[];
}

/** Shares of values per bin; a value goes to bin i = number of edges strictly below it (ties fall low). */
function shares(values: ArrayLike<number>, edges: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    let bin = 0;
    while (bin < edges.length && edges[bin]! < x) bin++;
    counts[bin]!++;
  }
  return counts.map((c) => c / values.length);
}

/** Bins both samples on the reference's deciles, the convention PSI and JS are computed on. */
export function decileBins(reference: ArrayLike<number>, current: ArrayLike<number>): Binned {
  const sorted = Float64Array.from(reference).sort();
  const edges = Array.from({ length: DRIFT_BINS - 1 }, (_, i) =>
    quantileSorted(sorted, (i + 1) / DRIFT_BINS),
  );
  return { edges, referenceShare: shares(reference, edges), currentShare: shares(current, edges) };
}

/**
 * Population stability index: Σ (q − p)·ln(q / p) over bins, shares floored at 1e-6 so an empty
 * bin is a large but finite contribution. Rule of thumb: < 0.1 stable, 0.1–0.2 moderate, > 0.2 shifted.
 */
export function psi(p: number[], q: number[]): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const a = Math.max(p[i]!, SHARE_EPSILON);
    const b = Math.max(q[i]!, SHARE_EPSILON);
    sum += (b - a) * Math.log(b / a);
  }
  return sum;
}

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/** Jensen–Shannon distance with log base 2 (in [0, 1]), as `scipy.spatial.distance.jensenshannon(p, q, base=2)`. */
export function jensenShannon(p0: number[], q0: number[]): number {
  const sp = p0.reduce((s, v) => s + v, 0);
  const sq = q0.reduce((s, v) => s + v, 0);
  const p = p0.map((v) => v / sp);
  const q = q0.map((v) => v / sq);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    left += relEntr(p[i]!, m);
    right += relEntr(q[i]!, m);
  }
  return Math.sqrt((left + right) / Math.log(2) / 2);
}
