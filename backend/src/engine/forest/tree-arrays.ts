/**
 * The forest's nodes, all trees in one set of flat typed arrays (no object per node).
 *
 * Node i of the forest: it sends a point to `left[i] + 1` (its right child) when
 * `x[feature[i]] > threshold[i]`, else to `left[i]` — scikit-learn's `x <= threshold` goes left.
 * A leaf points to itself with threshold +Infinity, so a walk that reaches a leaf stays there:
 * every point can take exactly `depth[t]` steps in tree t with no test for "am I at a leaf?",
 * which keeps the scoring loop free of unpredictable branches.
 * Children are allocated side by side and a tree's nodes are contiguous, so one tree of 256
 * samples (at most 511 nodes) sits in a few kilobytes of cache while a block of points walks it.
 */
export interface TreeArrays {
  /** Split feature of each node; 0 at leaves (never decisive there: the threshold is +Infinity). */
  readonly feature: Int32Array;
  /** Split value; +Infinity at leaves. */
  readonly threshold: Float64Array;
  /** Absolute index of the left child; the right child is left + 1; a leaf points to itself. */
  readonly left: Int32Array;
  /** Training points (of the tree's subsample) that reached the node: TreeSHAP's covers. */
  readonly cover: Int32Array;
  /** At a leaf, the path length h(x) = depth + c(cover); 0 at inner nodes. */
  readonly value: Float64Array;
  /**
   * At an inner node, the split feature's smallest and largest value among the training points
   * that reached it (the range the split was drawn from); −∞ and +∞ at leaves. Forests read from format
   * version 1, which did not store them, get −∞ and +∞: no point is beyond them.
   */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** Where tree t's nodes start; treeStart[trees] is the node count. Tree t's root is treeStart[t]. */
  readonly treeStart: Int32Array;
  /** The deepest leaf of each tree: how many steps a walk takes. */
  readonly depth: Int32Array;
}

export function isLeaf(nodes: TreeArrays, i: number): boolean {
  return nodes.left[i] === i;
}

export function treeCount(nodes: TreeArrays): number {
  return nodes.treeStart.length - 1;
}
