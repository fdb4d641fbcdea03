/**
 * The alert budget's unit: how many series' worth of alerts an entity's budget stands for.
 *
 * The budget b (alerts a day on normal data) was first spent per entity, whatever its metrics: a
 * 38-metric server got the alerts of one disk gauge. An operator who watched each metric with a
 * rule of its own at b would hear from the server up to m·b times a day, but metrics that move
 * together (cpu, load and bytes following the same traffic) alert together, as one episode: what
 * the operator gets is b times the number of *independent* alert streams, the effective number of
 * metrics. We estimate it as multiple-testing corrections for correlated tests do (Nyholt, Am. J.
 * Hum. Genet. 74, 2004), from the eigenvalues λ₁ … λ_M of the metrics' correlation matrix:
 *
 *     M_eff = 1 + (M − 1) · (1 − Var(λ) / M)
 *
 * with Var the sample variance (M − 1 in the denominator) and M the metrics that vary. Independent
 * metrics have every λ = 1, so M_eff = M; metrics that are one signal have λ = (M, 0, …, 0), whose
 * variance is M, so M_eff = 1; a metric held constant carries no test and is not counted. No
 * eigenvalue is needed: they average 1 (Σλ = tr R = M) and Σλ² = tr R² = M + 2 Σ_{i<j} r_ij², so
 *
 *     Var(λ) = 2 Σ_{i<j} r_ij² / (M − 1),   M_eff = M − (M − 1) · mean_{i<j} r_ij²
 *
 * (a host of a few hundred metrics costs the correlations, O(rows · M²), and nothing more). On the
 * quiet corpus's host whose five metrics follow load this gives about 1.4 (it stays at the budget
 * of one series), on SMD's 38-metric servers about 24, on ASD's 19-metric ones about 8
 * (docs/pipeline.md has what that moved).
 */

/**
 * The effective number of metrics (see the module docstring) among `columns` of `rows` rows of
 * `width` values each (row-major in `data`). Non-finite values are left out pairwise. At least 1.
 */
export function effectiveMetrics(
  data: ArrayLike<number>,
  rows: number,
  width: number,
  columns: ArrayLike<number>,
): number {
  const keep: number[] = [];
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < columns.length; j++) {
    const col = columns[j]!;
    let n = 0;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const x = data[r * width + col]!;
      if (Number.isFinite(x)) {
        sum += x;
        n++;
      }
    }
    if (n < 3) continue;
    const m = sum / n;
    let ss = 0;
    for (let r = 0; r < rows; r++) {
      const x = data[r * width + col]!;
      if (Number.isFinite(x)) ss += (x - m) ** 2;
    }
    const sdev = Math.sqrt(ss / n);
    // Constant up to rounding: no test, no share of the budget.
    if (!(sdev > 1e-9 * Math.max(1, Math.abs(m)))) continue;
    keep.push(col);
    mean.push(m);
    sd.push(sdev);
  }
  const k = keep.length;
  if (k <= 1) return 1;
  let squares = 0;
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++) {
      let n = 0;
      let s = 0;
      for (let r = 0; r < rows; r++) {
        const x = data[r * width + keep[a]!]!;
        const y = data[r * width + keep[b]!]!;
        if (Number.isFinite(x) && Number.isFinite(y)) {
          s += (x - mean[a]!) * (y - mean[b]!);
          n++;
        }
      }
      const c = n > 0 ? Math.max(-1, Math.min(1, s / n / (sd[a]! * sd[b]!))) : 0;
      squares += c * c;
    }
  return Math.min(k, Math.max(1, k - (2 * squares) / k));
}
