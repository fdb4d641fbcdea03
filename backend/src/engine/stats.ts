/**
 * The q-quantile of sorted values with linear interpolation between order statistics, computed
 * as numpy's default (`method="linear"`): position q·(n − 1), and numpy's two-sided lerp (from b
 * downwards when the fraction is ≥ 0.5) so that results agree with numpy to the last bit.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.max(0, Math.min(Math.floor(pos), n - 1));
  const hi = Math.min(lo + 1, n - 1);
  const t = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
