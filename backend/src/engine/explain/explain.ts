import { EngineError } from '../errors.js';
import type { IsolationForest } from '../forest/forest.js';
import { isolatingPathLength } from '../forest/score-kernel.js';
import type { TreeArrays } from '../forest/tree-arrays.js';
import { expectedTreeValue, TreeShap } from './treeshap.js';

/**
 * Why one point scored as it did, in path-length units.
 *
 * TreeSHAP decomposes the forest's mean path length E[h(x)] against its mean over the training
 * subsamples, `baseline`. Short paths are anomalous, so each contribution is the path length a
 * feature *removed*: contribution_i = −φ_i. Positive contributions push towards anomalous,
 * negative ones towards normal, and they add up exactly: Σ contributions = baseline − pathLength.
 * In a forest that isolates points beyond its ranges (outOfRange 'isolate'), TreeSHAP explains the
 * walk, and each feature also gets what cutting x off beyond its range removed from the path
 * (isolatingPathLength's terms), so the sum still holds.
 */
export interface Explanation {
  /** Per feature, in the forest's feature order. */
  contributions: Float64Array;
  /** The cover-weighted mean path length over the forest: what an average training point gets. */
  baseline: number;
  /** E[h(x)] for this point. */
  pathLength: number;
  /** The point's score, 2^(−pathLength / c(maxSamples)). */
  score: number;
}

export interface FeatureContribution {
  feature: string;
  index: number;
  contribution: number;
  /** |contribution| as a share of Σ|contributions|, for bars that add up to 100 %. */
  share: number;
}

/**
 * What explaining needs that depends on the forest alone: the TreeSHAP scratch space, sized for the
 * deepest tree, and the baseline (mean over trees of E[h]). Computed once per forest; forests are
 * immutable, so the cache never goes stale.
 */
const preparedForests = new WeakMap<TreeArrays, { shap: TreeShap; baseline: number }>();

function prepared(nodes: TreeArrays, trees: number): { shap: TreeShap; baseline: number } {
  let hit = preparedForests.get(nodes);
  if (!hit) {
    let maxDepth = 0;
    let baseline = 0;
    for (let t = 0; t < trees; t++) {
      maxDepth = Math.max(maxDepth, nodes.depth[t]!);
      baseline += expectedTreeValue(nodes, nodes.treeStart[t]!);
    }
    hit = { shap: new TreeShap(nodes, maxDepth), baseline: baseline / trees };
    preparedForests.set(nodes, hit);
  }
  return hit;
}

/** Explains one point with exact path-dependent TreeSHAP over every tree of the forest. */
export function explain(forest: IsolationForest, row: ArrayLike<number>): Explanation {
  const pathLength = forest.meanPathLength(row); // validates the row's width
  for (let c = 0; c < row.length; c++) {
    const v = row[c]!;
    if (v - v !== 0) throw new EngineError('NON_FINITE', `column ${c} is ${v}: every value must be finite`);
  }
  const { nodes, params } = forest;
  const { shap, baseline } = prepared(nodes, params.trees);
  const phi = new Float64Array(params.nFeatures);
  for (let t = 0; t < params.trees; t++) shap.accumulate(nodes.treeStart[t]!, row, phi);
  const beyond = new Float64Array(params.nFeatures);
  if (params.outOfRange === 'isolate')
    for (let t = 0; t < params.trees; t++) isolatingPathLength(nodes, nodes.treeStart[t]!, row, beyond);
  const contributions = new Float64Array(params.nFeatures);
  for (let i = 0; i < phi.length; i++) contributions[i] = (-phi[i]! + beyond[i]!) / params.trees;
  return {
    contributions,
    baseline,
    pathLength,
    score: Math.pow(2, -pathLength / forest.normalizer),
  };
}

/** The k features that pushed hardest towards anomalous (largest positive contributions first). */
export function topFeatures(
  contributions: ArrayLike<number>,
  names: readonly string[],
  k = 3,
): FeatureContribution[] {
  if (names.length !== contributions.length) {
    throw new EngineError(
      'FEATURE_MISMATCH',
      `${names.length} feature names for ${contributions.length} contributions`,
    );
  }
  let absTotal = 0;
  for (let i = 0; i < contributions.length; i++) absTotal += Math.abs(contributions[i]!);
  const order = Array.from({ length: contributions.length }, (_, i) => i).sort(
    (a, b) => contributions[b]! - contributions[a]! || a - b,
  );
  return order.slice(0, k).map((index) => ({
    feature: names[index]!,
    index,
    contribution: contributions[index]!,
    share: absTotal > 0 ? Math.abs(contributions[index]!) / absTotal : 0,
  }));
}
