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
 * a score for the same rows): E_g is "at or above the group's own level u_g", the score of which
 * k = max(16, ⌈q n⌉) of the n scores are at or above, and G_eff = |∪ E_g| / mean_g |E_g|. Any
 * monotone transform of the scores gives the same events, so raw scores and the calibration's tail
 * values serve alike. q is 0.2 %: the most extreme level at which the default history (8192
 * scores) still holds the 16 exceedances the calibration fits its tail to at the least, so as
 * close to the budget's level as the history can measure.
 *
 * The budget's level is rarer still (one row in a few thousand per group on a server of many
 * metrics, a few in a hundred thousand on a single series), and the estimate
 * is assumed to hold there. Tail dependence usually weakens at more extreme levels (for
 * Gaussian-like dependence it vanishes in the limit): groups that share their top 2 % of rows
 * share fewer of their rarest ones, so G_eff grows as q falls, and the true G_eff at the budget is
 * at least as large as measured. Dividing by the measured one errs towards spending more than the
 * budget, never less (docs/pipeline.md has it measured at 2 %, 0.5 % and 0.2 %).
 */

/** Share of each group's history at or above its level u_g (see the module docstring). */
const TAIL_SHARE = 0.002;
/** Fewest scores of each group at or above its level: the fewest the calibration fits its tail to. */
const MIN_EXCEEDANCES = 16;

/**
 * G_eff of the groups whose histories are given (see the module docstring), aligned index by index
 * (the detector's calibrations hold the same rows in the same slots); the first n of each, n the
 * shortest. G (the even split) when n < 2·MIN_EXCEEDANCES: too few rows to measure.
 */
export function effectiveGroups(histories: ArrayLike<number>[]): number {
  const groups = histories.length;
  if (groups <= 1) return 1;
  const n = Math.min(...histories.map((h) => h.length));
  if (n < 2 * MIN_EXCEEDANCES) return groups;
  const k = Math.max(MIN_EXCEEDANCES, Math.ceil(TAIL_SHARE * n));
  const any = new Uint8Array(n);
  const top = new Float64Array(k);
  let single = 0;
  for (const h of histories) {
    const u = kthLargest(h, n, k, top);
    for (let i = 0; i < n; i++)
      if (h[i]! >= u) {
        any[i] = 1;
        single++;
      }
  }
  let union = 0;
  for (let i = 0; i < n; i++) union += any[i]!;
  return Math.min(groups, Math.max(1, (union * groups) / single));
}

/**
 * The k-th largest of the first n values of h (k ≤ n), in one pass: `top` (k long) keeps the k
 * largest so far in ascending order, and a value enters only when above its smallest, which in a
 * history of thousands of scores and k of a few dozen happens a few hundred times.
 */
function kthLargest(h: ArrayLike<number>, n: number, k: number, top: Float64Array): number {
  for (let i = 0; i < k; i++) top[i] = h[i]!;
  top.sort();
  for (let i = k; i < n; i++) {
    const x = h[i]!;
    if (!(x > top[0]!)) continue;
    // Drops the smallest and inserts x where it belongs.
    let j = 1;
    while (j < k && top[j]! < x) {
      top[j - 1] = top[j]!;
      j++;
    }
    top[j - 1] = x;
  }
  return top[0]!;
}
