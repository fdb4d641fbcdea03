import type { TreeArrays } from './tree-arrays.js';

/** Rows per block: a block of 16-feature rows (64 KiB) stays in L2 while every tree walks it. */
export const BLOCK_ROWS = 512;

/**
 * Adds each row's path length in every tree to `acc` (acc[r - rowStart] += Σ_t h_t(x_r)).
 *
 * The loop order is the point of this function: trees outside, a block of rows inside, so one
 * tree's nodes stay in L1 while the rows walk it; eight rows walk side by side so that their
 * independent load → compare → load chains overlap; and each walk takes exactly depth[t] steps,
 * because leaves point to themselves (see TreeArrays) — no "is this a leaf?" branch to mispredict.
 */
export function addPathLengths(
  nodes: TreeArrays,
  data: Float64Array,
  cols: number,
  rowStart: number,
  rowEnd: number,
  acc: Float64Array,
): void {
  const { feature, threshold, left, value, treeStart, depth } = nodes;
  const trees = treeStart.length - 1;
  for (let t = 0; t < trees; t++) {
    const root = treeStart[t]!;
    const steps = depth[t]!;
    let r = rowStart;
    // `+(a > b)` is a branch-free 0/1 in V8; a `?:` here costs a mispredicted branch per level.
    for (; r + 8 <= rowEnd; r += 8) {
      const o0 = r * cols;
      const o1 = o0 + cols;
      const o2 = o1 + cols;
      const o3 = o2 + cols;
      const o4 = o3 + cols;
      const o5 = o4 + cols;
      const o6 = o5 + cols;
      const o7 = o6 + cols;
      let n0 = root;
      let n1 = root;
      let n2 = root;
      let n3 = root;
      let n4 = root;
      let n5 = root;
      let n6 = root;
      let n7 = root;
      for (let s = 0; s < steps; s++) {
        n0 = left[n0]! + +(data[o0 + feature[n0]!]! > threshold[n0]!);
        n1 = left[n1]! + +(data[o1 + feature[n1]!]! > threshold[n1]!);
        n2 = left[n2]! + +(data[o2 + feature[n2]!]! > threshold[n2]!);
        n3 = left[n3]! + +(data[o3 + feature[n3]!]! > threshold[n3]!);
        n4 = left[n4]! + +(data[o4 + feature[n4]!]! > threshold[n4]!);
        n5 = left[n5]! + +(data[o5 + feature[n5]!]! > threshold[n5]!);
        n6 = left[n6]! + +(data[o6 + feature[n6]!]! > threshold[n6]!);
        n7 = left[n7]! + +(data[o7 + feature[n7]!]! > threshold[n7]!);
      }
      const a = r - rowStart;
      acc[a] = acc[a]! + value[n0]!;
      acc[a + 1] = acc[a + 1]! + value[n1]!;
      acc[a + 2] = acc[a + 2]! + value[n2]!;
      acc[a + 3] = acc[a + 3]! + value[n3]!;
      acc[a + 4] = acc[a + 4]! + value[n4]!;
      acc[a + 5] = acc[a + 5]! + value[n5]!;
      acc[a + 6] = acc[a + 6]! + value[n6]!;
      acc[a + 7] = acc[a + 7]! + value[n7]!;
    }
    for (; r < rowEnd; r++) {
      const o = r * cols;
      let n = root;
      for (let s = 0; s < steps; s++) n = left[n]! + +(data[o + feature[n]!]! > threshold[n]!);
      const a = r - rowStart;
      acc[a] = acc[a]! + value[n]!;
    }
  }
}

/**
 * Σ_t h_t(x) for one point. Four trees are walked side by side, each the deepest of the four's
 * steps (leaves point to themselves): one point has no block of rows to amortise a tree over, and
 * four independent walks overlap their cache misses. Path lengths are added in tree order.
 */
export function pathLengthSum(nodes: TreeArrays, row: ArrayLike<number>): number {
  const { feature, threshold, left, value, treeStart, depth } = nodes;
  const trees = treeStart.length - 1;
  let sum = 0;
  let t = 0;
  for (; t + 4 <= trees; t += 4) {
    let n0 = treeStart[t]!;
    let n1 = treeStart[t + 1]!;
    let n2 = treeStart[t + 2]!;
    let n3 = treeStart[t + 3]!;
    const steps = Math.max(depth[t]!, depth[t + 1]!, depth[t + 2]!, depth[t + 3]!);
    for (let k = 0; k < steps; k++) {
      n0 = left[n0]! + +(row[feature[n0]!]! > threshold[n0]!);
      n1 = left[n1]! + +(row[feature[n1]!]! > threshold[n1]!);
      n2 = left[n2]! + +(row[feature[n2]!]! > threshold[n2]!);
      n3 = left[n3]! + +(row[feature[n3]!]! > threshold[n3]!);
    }
    sum += value[n0]!;
    sum += value[n1]!;
    sum += value[n2]!;
    sum += value[n3]!;
  }
  for (; t < trees; t++) {
    let n = treeStart[t]!;
    let next = left[n]!;
    while (next !== n) {
      n = next + +(row[feature[n]!]! > threshold[n]!);
      next = left[n]!;
    }
    sum += value[n]!;
  }
  return sum;
}

/**
 * h(x) in the tree rooted at `root` when points beyond a node's training range may be isolated
 * there (`outOfRange: 'isolate'`).
 *
 * A node's split was drawn uniformly from [lo, hi], the range of its training points on the split
 * feature. Had x been among those points, with x_q > hi, the split would have been drawn from
 * [lo, x_q] and would have cut x off alone with probability
 *
 *     p = (x_q − hi) / (x_q − lo)        (and (lo − x_q) / (hi − x_q) when x_q < lo; 0 inside),
 *
 * ending its path at that node's depth + 1; otherwise the cut falls where the real one did and x
 * walks on. Along the walk x_0 … x_{L−1} to a leaf of value V, with S_i = Π_{j<i} (1 − p_j):
 *
 *     E[h(x)] = Σ_i S_i p_i (i + 1) + S_L V  =  V − Σ_i S_i p_i (V − i − 1)
 *
 * Inside every range all p are 0 and this is the usual path length; far outside, p → 1 at the
 * first node that splits on the feature, so a value ten times anything seen scores higher than
 * one just past the edge (the plain walk scores both like the most extreme training point).
 * The i-th term of the sum is what node i's feature shortened the path by: `reductions`, when
 * given, gets each added at its feature, for explanations.
 */
export function isolatingPathLength(
  nodes: TreeArrays,
  root: number,
  row: ArrayLike<number>,
  reductions?: Float64Array,
  /** Where the row starts in `row` (a batch's rows lie side by side). */
  offset = 0,
): number {
  const { feature, threshold, left, value, lo, hi } = nodes;
  // S and the first sum grow along the walk; the reductions need V, known only at the leaf.
  let n = root;
  let next = left[n]!;
  let depth = 0;
  let survive = 1; // S_i
  let ended = 0; // Σ S_i p_i (i + 1)
  const path: number[] | undefined = reductions ? [] : undefined;
  while (next !== n) {
    const v = row[offset + feature[n]!]!;
    const p = v > hi[n]! ? (v - hi[n]!) / (v - lo[n]!) : v < lo[n]! ? (lo[n]! - v) / (hi[n]! - v) : 0;
    depth++;
    if (p > 0) {
      const w = survive * p;
      ended += w * depth;
      survive -= w;
      path?.push(feature[n]!, w, depth);
    }
    n = next + +(v > threshold[n]!);
    next = left[n]!;
  }
  const leaf = value[n]!;
  if (reductions && path)
    for (let k = 0; k < path.length; k += 3) {
      const f = path[k]!;
      reductions[f] = reductions[f]! + path[k + 1]! * (leaf - path[k + 2]!);
    }
  return ended + survive * leaf;
}

/**
 * addPathLengths for a forest that isolates points beyond its ranges: isolatingPathLength's sums,
 * in the same order, so the same numbers to the bit, with addPathLengths' loop order (trees outside,
 * a block of rows inside, so one tree's nodes stay in cache). Eight rows walk side by side, each
 * exactly depth[t] steps (leaves point to themselves with the range (−∞, +∞), so the extra steps
 * cut nothing off), so their load chains overlap and no "is this a leaf?" branch is mispredicted.
 * A node takes the division only when x is beyond its range: about one node in fifteen on the
 * benchmark's and a stream's own training rows, so the branch is well predicted. Measured against
 * the walk one row at a time (see docs/engine.md): 1.7–1.9× faster with four rows; eight, as
 * addPathLengths walks, are 1.08× faster again on SMD rows (38 columns, 17 and 100 trees, one
 * process, the best of four runs each). Measured and not kept: a
 * branch-free p at every node (max(x − hi, 0) + max(lo − x, 0) over max(x − lo, hi − x), one
 * division a node: 1.4× slower than this).
 */
export function addIsolatingPathLengths(
  nodes: TreeArrays,
  data: Float64Array,
  cols: number,
  rowStart: number,
  rowEnd: number,
  acc: Float64Array,
): void {
  const { feature, threshold, left, value, treeStart, depth, lo, hi } = nodes;
  const trees = treeStart.length - 1;
  for (let t = 0; t < trees; t++) {
    const root = treeStart[t]!;
    const steps = depth[t]!;
    let r = rowStart;
    for (; r + 8 <= rowEnd; r += 8) {
      const o0 = r * cols;
      const o1 = o0 + cols;
      const o2 = o1 + cols;
      const o3 = o2 + cols;
      const o4 = o3 + cols;
      const o5 = o4 + cols;
      const o6 = o5 + cols;
      const o7 = o6 + cols;
      let n0 = root;
      let s0 = 1; // S_i
      let e0 = 0; // Σ S_i p_i (i + 1)
      let n1 = root;
      let s1 = 1;
      let e1 = 0;
      let n2 = root;
      let s2 = 1;
      let e2 = 0;
      let n3 = root;
      let s3 = 1;
      let e3 = 0;
      let n4 = root;
      let s4 = 1;
      let e4 = 0;
      let n5 = root;
      let s5 = 1;
      let e5 = 0;
      let n6 = root;
      let s6 = 1;
      let e6 = 0;
      let n7 = root;
      let s7 = 1;
      let e7 = 0;
      // At step k (from 1) a walk is at depth k − 1: a cut there ends its path at length k.
      for (let k = 1; k <= steps; k++) {
        let v: number;
        let l: number;
        let h: number;
        v = data[o0 + feature[n0]!]!;
        l = lo[n0]!;
        h = hi[n0]!;
        if (v > h || v < l) {
          const w = s0 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e0 += w * k;
          s0 -= w;
        }
        n0 = left[n0]! + +(v > threshold[n0]!);
        v = data[o1 + feature[n1]!]!;
        l = lo[n1]!;
        h = hi[n1]!;
        if (v > h || v < l) {
          const w = s1 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e1 += w * k;
          s1 -= w;
        }
        n1 = left[n1]! + +(v > threshold[n1]!);
        v = data[o2 + feature[n2]!]!;
        l = lo[n2]!;
        h = hi[n2]!;
        if (v > h || v < l) {
          const w = s2 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e2 += w * k;
          s2 -= w;
        }
        n2 = left[n2]! + +(v > threshold[n2]!);
        v = data[o3 + feature[n3]!]!;
        l = lo[n3]!;
        h = hi[n3]!;
        if (v > h || v < l) {
          const w = s3 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e3 += w * k;
          s3 -= w;
        }
        n3 = left[n3]! + +(v > threshold[n3]!);
        v = data[o4 + feature[n4]!]!;
        l = lo[n4]!;
        h = hi[n4]!;
        if (v > h || v < l) {
          const w = s4 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e4 += w * k;
          s4 -= w;
        }
        n4 = left[n4]! + +(v > threshold[n4]!);
        v = data[o5 + feature[n5]!]!;
        l = lo[n5]!;
        h = hi[n5]!;
        if (v > h || v < l) {
          const w = s5 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e5 += w * k;
          s5 -= w;
        }
        n5 = left[n5]! + +(v > threshold[n5]!);
        v = data[o6 + feature[n6]!]!;
        l = lo[n6]!;
        h = hi[n6]!;
        if (v > h || v < l) {
          const w = s6 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e6 += w * k;
          s6 -= w;
        }
        n6 = left[n6]! + +(v > threshold[n6]!);
        v = data[o7 + feature[n7]!]!;
        l = lo[n7]!;
        h = hi[n7]!;
        if (v > h || v < l) {
          const w = s7 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
          e7 += w * k;
          s7 -= w;
        }
        n7 = left[n7]! + +(v > threshold[n7]!);
      }
      const a = r - rowStart;
      acc[a] = acc[a]! + (e0 + s0 * value[n0]!);
      acc[a + 1] = acc[a + 1]! + (e1 + s1 * value[n1]!);
      acc[a + 2] = acc[a + 2]! + (e2 + s2 * value[n2]!);
      acc[a + 3] = acc[a + 3]! + (e3 + s3 * value[n3]!);
      acc[a + 4] = acc[a + 4]! + (e4 + s4 * value[n4]!);
      acc[a + 5] = acc[a + 5]! + (e5 + s5 * value[n5]!);
      acc[a + 6] = acc[a + 6]! + (e6 + s6 * value[n6]!);
      acc[a + 7] = acc[a + 7]! + (e7 + s7 * value[n7]!);
    }
    for (; r < rowEnd; r++) {
      const a = r - rowStart;
      acc[a] = acc[a]! + isolatingPathLength(nodes, root, data, undefined, r * cols);
    }
  }
}

/**
 * Σ_t h_t(x) with points beyond a node's range isolated there; see isolatingPathLength. Four trees
 * are walked side by side, each the deepest of the four's steps (a leaf points to itself with the
 * range (−∞, +∞), so extra steps cut nothing off): one point has no block to amortise, and with
 * several forests in memory (a stream's ensemble) each step waits on a cache miss, which four
 * independent walks overlap. The trees' path lengths are added in tree order, as one walk after
 * another would: the same number to the bit.
 */
export function isolatingPathLengthSum(nodes: TreeArrays, row: ArrayLike<number>): number {
  const { feature, threshold, left, value, treeStart, depth, lo, hi } = nodes;
  const trees = treeStart.length - 1;
  let sum = 0;
  let t = 0;
  for (; t + 4 <= trees; t += 4) {
    let n0 = treeStart[t + 0]!;
    let s0 = 1;
    let e0 = 0;
    let n1 = treeStart[t + 1]!;
    let s1 = 1;
    let e1 = 0;
    let n2 = treeStart[t + 2]!;
    let s2 = 1;
    let e2 = 0;
    let n3 = treeStart[t + 3]!;
    let s3 = 1;
    let e3 = 0;
    const steps = Math.max(depth[t]!, depth[t + 1]!, depth[t + 2]!, depth[t + 3]!);
    for (let k = 1; k <= steps; k++) {
      let v: number;
      let l: number;
      let h: number;
      v = row[feature[n0]!]!;
      l = lo[n0]!;
      h = hi[n0]!;
      if (v > h || v < l) {
        const w = s0 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
        e0 += w * k;
        s0 -= w;
      }
      n0 = left[n0]! + +(v > threshold[n0]!);
      v = row[feature[n1]!]!;
      l = lo[n1]!;
      h = hi[n1]!;
      if (v > h || v < l) {
        const w = s1 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
        e1 += w * k;
        s1 -= w;
      }
      n1 = left[n1]! + +(v > threshold[n1]!);
      v = row[feature[n2]!]!;
      l = lo[n2]!;
      h = hi[n2]!;
      if (v > h || v < l) {
        const w = s2 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
        e2 += w * k;
        s2 -= w;
      }
      n2 = left[n2]! + +(v > threshold[n2]!);
      v = row[feature[n3]!]!;
      l = lo[n3]!;
      h = hi[n3]!;
      if (v > h || v < l) {
        const w = s3 * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
        e3 += w * k;
        s3 -= w;
      }
      n3 = left[n3]! + +(v > threshold[n3]!);
    }
    sum += e0 + s0 * value[n0]!;
    sum += e1 + s1 * value[n1]!;
    sum += e2 + s2 * value[n2]!;
    sum += e3 + s3 * value[n3]!;
  }
  for (; t < trees; t++) sum += isolatingPathLength(nodes, treeStart[t]!, row);
  return sum;
}
