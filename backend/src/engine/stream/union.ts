/**
 * How many forest groups alert independently: the share of the alert budget each group spends.
 *
 * A stream's forest groups (levels, changes, and any forests over metrics) each calibrate their
 * own scores, and a row alerts when any group's score is rare enough. Split evenly, each of G
 * groups spends b/G of the stream's budget b (Bonferroni), which is right when the groups alert
 * on different rows. When they alert on the same rows, the union of their alerts, which is what
 * the operator hears, comes at less than b: the stream spends less than it was given. With E_g
 * the event "group g's score exceeds its own level of probability q" (every group at the same q),
 *
 *     q ≤ P(E_1 ∪ … ∪ E_G) ≤ G · q,       G_eff = P(E_1 ∪ … ∪ E_G) / q  ∈ [1, G]
 *
 * is the number of independent alert streams among the groups, as M_eff counts metrics (budget.ts):
 * G for groups that never alert together (disjoint events; independent ones give
 * (1 − (1 − q)^G)/q, a little under G at small q), 1 for groups that always do. Each group then
 * spends b / G_eff, so that the union comes at about b.
 *
 * It is measured on the groups' aligned histories of normal scores (every group of a stream adds
 * a score for the same rows): E_g is "at or above the group's own tail start u_g", the score of
 * which k = max(16, ⌈q₀ n⌉) of the n scores are at or above (q₀ = 2 %, as the calibration fits its
 * tail), and G_eff = |∪ E_g| / mean_g |E_g|. Any monotone transform of the scores gives the same
 * events, so raw scores and the calibration's tail values serve alike.
 *
 * The estimate is of dependence at the tail's start (2 % of rows) and is assumed to hold at the
 * budget's level, which is far rarer (a few in ten thousand rows). Tail dependence usually weakens
 * at more extreme levels (for Gaussian-like dependence it vanishes in the limit): groups that
 * share 2 % exceedances often share fewer of their most extreme ones, so the true G_eff at the
 * budget is at least as large as measured, and dividing by the measured one errs towards
 * spending more than the budget, never less.
 */

/** Share of each group's history taken as its tail (as the calibration's tail start). */
const TAIL_SHARE = 0.02;
/** Fewest scores of each group above its tail start. */
const MIN_EXCEEDANCES = 16;

/**
 * G_eff of the groups whose histories are given (see the module docstring): each history oldest
 * first, aligned at its newest end (the last rows of the shortest are the rows all of them saw).
 * G (the even split) when fewer than 2·MIN_EXCEEDANCES rows are shared: too few to measure.
 */
export function effectiveGroups(histories: ArrayLike<number>[]): number {
  const groups = histories.length;
  if (groups <= 1) return 1;
  const n = Math.min(...histories.map((h) => h.length));
  if (n < 2 * MIN_EXCEEDANCES) return groups;
  const k = Math.max(MIN_EXCEEDANCES, Math.ceil(TAIL_SHARE * n));
  const any = new Uint8Array(n);
  let single = 0;
  const scratch = new Float64Array(n);
  for (const h of histories) {
    const from = h.length - n;
    for (let i = 0; i < n; i++) scratch[i] = h[from + i]!;
    const u = kthLargest(scratch, k);
    for (let i = 0; i < n; i++)
      if (h[from + i]! >= u) {
        any[i] = 1;
        single++;
      }
  }
  let union = 0;
  for (let i = 0; i < n; i++) union += any[i]!;
  return Math.min(groups, Math.max(1, (union * groups) / single));
}

/** The k-th largest value of `a` (1 ≤ k ≤ a.length), found by selection; reorders `a`. */
function kthLargest(a: Float64Array, k: number): number {
  // The (n − k)-th smallest, 0-based: Hoare's selection with the median of three as pivot.
  let target = a.length - k;
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  target = Math.max(lo, Math.min(target, hi));
  return a[target]!;
}
