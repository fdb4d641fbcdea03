import { explain } from '../explain/explain.js';
import type { IsolationForest } from '../forest/forest.js';
import { isLeaf } from '../forest/tree-arrays.js';
import { quantileSorted } from '../stats.js';

/**
 * One scored row of a stream explained by the forests that scored it (StreamingDetector's
 * pushExplained): the forest group that flagged it, TreeSHAP per feature of that group, and each
 * feature's value against what the group learnt.
 */
export interface RowExplanation {
  /** The group explained: 'levels' or 'changes' when the detector keeps them apart, else 'all'. */
  group: 'levels' | 'changes' | 'all';
  /**
   * Each group's calibrated score of the row (levels, then changes): the explained group is the one
   * that flagged it, the first with the highest, as the detector picks it.
   */
  groupScores: number[];
  /**
   * Which row was explained, counted back over the rows the detector scored: 0 is the row pushed.
   * With smoothing, a row's score is the mean of the last few, and the detector explains the one
   * of them its group found most anomalous (what the stored top feature names).
   */
  rowsBack: number;
  /** The stream's retrain that scored the row (its model version). */
  retrain: number;
  /** Trees of the group's rolling forest, all cohorts together. */
  trees: number;
  /** The group's features, their values in the explained row, and their contributions. */
  features: string[];
  values: number[];
  /**
   * Path length each feature removed (positive = towards anomalous). The group scores a row as one
   * forest of all its cohorts' trees, s = 2^(−Σ_m Σ_{t∈m} h_t / c_m / T); with w_m = |m| / c_m,
   * baseline, pathLength and each contribution are the w-weighted means of the cohorts' own
   * TreeSHAP terms, so Σ contributions = baseline − pathLength, and the group's score of the row is
   * 2^(−pathLength · Σ_m w_m / T) (with every c_m equal, 2^(−pathLength / c)).
   */
  contributions: number[];
  baseline: number;
  pathLength: number;
  /** The group's own (unsmoothed, uncalibrated) forest score of the explained row. */
  forestScore: number;
  /**
   * Per feature, the range the group's trees split it within: the smallest and largest value
   * among the training subsamples that reached a split on it (beyond it a value is isolated at
   * once). null when no tree splits on the feature (it did not vary where the trees looked).
   */
  learnt: Array<{ low: number; high: number } | null>;
  /**
   * Per feature, its distribution in the detector's window of recent normal rows (what the group's
   * cohorts are grown on) as it stood when the row came: 5th percentile, median, 95th, and where
   * the value sits among them (mid-rank share, 0 … 1).
   */
  window: Array<{ p5: number; median: number; p95: number; percentile: number }>;
}

/**
 * TreeSHAP of a row over a group's cohorts, combined as the group scores (see RowExplanation's
 * `contributions`). `raw` are the unnormalised Σ_m w_m φ_m terms the detector ranks its top feature
 * by, summed in the same order, so the largest is the same feature to the bit.
 */
export function explainCohorts(
  cohorts: readonly IsolationForest[],
  row: Float64Array,
): { raw: Float64Array; contributions: number[]; baseline: number; pathLength: number; forestScore: number } {
  const raw = new Float64Array(row.length);
  let weights = 0;
  let trees = 0;
  let baseline = 0;
  let pathLength = 0;
  for (const m of cohorts) {
    const e = explain(m, row);
    const weight = m.params.trees / m.normalizer;
    for (let i = 0; i < raw.length; i++) raw[i] = raw[i]! + weight * e.contributions[i]!;
    weights += weight;
    trees += m.params.trees;
    baseline += weight * e.baseline;
    pathLength += weight * e.pathLength;
  }
  const w = weights > 0 ? weights : 1;
  return {
    raw,
    contributions: Array.from(raw, (c) => c / w),
    baseline: baseline / w,
    pathLength: pathLength / w,
    forestScore: trees > 0 ? Math.pow(2, -pathLength / trees) : 0,
  };
}

/** Per column of the cohorts' features, the range their splits were drawn from (see RowExplanation.learnt). */
export function learntRanges(
  cohorts: readonly IsolationForest[],
  columns: number,
): Array<{ low: number; high: number } | null> {
  const low = new Float64Array(columns).fill(Infinity);
  const high = new Float64Array(columns).fill(-Infinity);
  for (const m of cohorts) {
    const { nodes } = m;
    const count = nodes.treeStart[nodes.treeStart.length - 1]!;
    for (let i = 0; i < count; i++) {
      if (isLeaf(nodes, i)) continue;
      const f = nodes.feature[i]!;
      if (nodes.lo[i]! < low[f]!) low[f] = nodes.lo[i]!;
      if (nodes.hi[i]! > high[f]!) high[f] = nodes.hi[i]!;
    }
  }
  return Array.from(low, (l, f) =>
    Number.isFinite(l) && Number.isFinite(high[f]!) ? { low: l, high: high[f]! } : null,
  );
}

/** One column's distribution over `rows` row-major rows of `width`, and where `value` sits in it. */
export function columnDistribution(
  rows: Float64Array,
  width: number,
  column: number,
  value: number,
): { p5: number; median: number; p95: number; percentile: number } {
  const n = rows.length / width;
  const sorted = new Float64Array(n);
  let below = 0;
  let equal = 0;
  for (let r = 0; r < n; r++) {
    const v = rows[r * width + column]!;
    sorted[r] = v;
    if (v < value) below++;
    else if (v === value) equal++;
  }
  sorted.sort();
  if (n === 0) return { p5: value, median: value, p95: value, percentile: 0.5 };
  return {
    p5: quantileSorted(sorted, 0.05),
    median: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    percentile: (below + equal / 2) / n,
  };
}
