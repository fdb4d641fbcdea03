import type { TreeArrays } from '../forest/tree-arrays.js';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018) reorganised around leaves, as Fast
 * TreeSHAP v2 does (Yang 2021, "Fast TreeSHAP: Accelerating SHAP Value Computation for Trees"):
 * what depends only on the forest, each leaf's distinct path features and their cover products, is
 * computed once (`ShapPaths.build`); explaining a point is then a pass down and a pass up each
 * tree's nodes and O(d + m²) arithmetic per leaf, with no path to extend and unwind per leaf.
 *
 * The value of a coalition S of features is E[h(x) | x_S]: follow x at splits on features in S,
 * and at other splits take both branches weighted by the share of training points (covers) that
 * went each way. The game is a sum over leaves. For leaf l with value v (its path length, which
 * includes the c(n) correction for the points it holds) and P the distinct features on its path
 * (d = |P|), let z_j be the product of the cover ratios of the path's splits on j and o_j ∈ {0, 1}
 * whether x satisfies all of them; the leaf's game is u(S) = v Π_{j∈S} o_j Π_{j∈P∖S} z_j, and with
 * H = {j ∈ P : o_j = 1} (m = |H|) its Shapley values are
 *
 *     φ_i = v (o_i − z_i) / z_i · A(H ∖ {i}),     A(T) = Σ_{S⊆T} w(|S|, d) Π_{j∈P∖S} z_j,
 *     w(s, d) = s! (d − s − 1)! / d!
 *
 * (only S ⊆ H have u(S ∪ {i}) ≠ u(S); dividing by z_i puts i back into the product). So every
 * feature x fails (i ∉ H) gets the same −v A(H), and every feature it satisfies
 * v (1 − z_i)/z_i · A(H ∖ {i}); grouping S by size, A(T) = Π_{j∈P∖T} z_j Σ_k w(k, d) e_{|T|−k}(z_T),
 * e the elementary symmetric polynomials (see `leaf`).
 *
 * Explaining x (`accumulateTree`) walks a tree's inner nodes in index order (parents come before
 * children), carrying down the set of path positions x failed as a bit mask; each leaf adds its
 * satisfied features' φ and returns v·A(H). The failed features' share is summed bottom-up instead:
 * Q(n) = Σ v·A(H) over the leaves below n, and each inner node on feature i that x fails, with no
 * ancestor on i failed already (the first failure on the path, so a leaf counts once per feature),
 * gives φ_i −= Q(the child x does not take). Per point and tree: O(nodes + Σ_leaves (d + m²)),
 * against O(leaves · depth²) for Algorithm 2's extend and unwind.
 *
 * Fast TreeSHAP v2 keeps a table of A over all 2^d subsets of every leaf of the forest instead:
 * megabytes per forest, read at random, so a single row waits on memory about as long as it takes
 * to compute A (docs/engine.md), and single rows keep no tables. Batches use tables over
 * subtrees instead (TreeTables, tables.ts), built from `leafTable`.
 *
 * Every point's φ depends on which side of every split it falls (a point on the other side of any
 * one split changes the leaves below it), so no exact method can look at fewer than all of a
 * tree's splits: for 100 trees of about 64 splits each that is 6,400 comparisons a point, against
 * the 800 steps of scoring it.
 */
export class ShapPaths {
  /** Bytes held between batches: a few per node, and per leaf its path's features and z's. */
  readonly bytes: number;
  /** The most nodes of any one tree. */
  readonly maxTreeNodes: number;
  private constructor(
    readonly nodes: TreeArrays,
    /** Inner node: 1 << (its feature's position on the path). Leaf: 2^d − 1, all of its path's positions. */
    readonly bit: Int32Array,
    /** Leaf: where its path's features and z's start. */
    readonly pathAt: Int32Array,
    /** Per leaf and path position (in order of first occurrence): the feature and its z. */
    readonly pathFeature: Int32Array,
    readonly pathZero: Float64Array,
    /** Per tree, its inner nodes in index order, then its leaves in index order. */
    private readonly order: Int32Array,
    /** Per tree, where its leaves start in `order`. */
    private readonly firstLeaf: Int32Array,
    /** Scratch for one tree: the failed positions at each node, Q, and the child x does not take. */
    private readonly fail: Int32Array,
    private readonly q: Float64Array,
    private readonly cold: Int32Array,
  ) {
    this.maxTreeNodes = fail.length;
    this.bytes = [bit, pathAt, pathFeature, pathZero, order, firstLeaf, fail, q, cold].reduce(
      (sum, a) => sum + a.byteLength,
      0,
    );
  }

  static build(nodes: TreeArrays): ShapPaths {
    const { feature, left, cover, treeStart } = nodes;
    const nodeCount = left.length;
    const trees = treeStart.length - 1;
    const bit = new Int32Array(nodeCount);
    const pathAt = new Int32Array(nodeCount);
    let maxTreeNodes = 1;
    // Room for every leaf's path: at most its depth in distinct features (parents come first).
    const depth = new Int32Array(nodeCount);
    let room = 0;
    for (let n = 0; n < nodeCount; n++) {
      const ln = left[n]!;
      if (ln === n) room += depth[n]!;
      else depth[ln] = depth[ln + 1] = depth[n]! + 1;
    }
    const features = new Int32Array(room);
    const zeros = new Float64Array(room);
    let used = 0;

    // Depth-first over each tree, keeping the path's distinct features (in order of first
    // occurrence) and their z's; a feature met again multiplies its z by the new ratio.
    const pathFeature = new Int32Array(32);
    const pathZ = new Float64Array(32);
    const visit = (n: number, d: number): void => {
      const ln = left[n]!;
      if (ln === n) {
        bit[n] = 2 ** d - 1;
        pathAt[n] = used;
        features.set(pathFeature.subarray(0, d), used);
        zeros.set(pathZ.subarray(0, d), used);
        used += d;
        return;
      }
      const f = feature[n]!;
      let pos = 0;
      while (pos < d && pathFeature[pos] !== f) pos++;
      const seen = pos < d;
      if (!seen) {
        pathFeature[pos] = f;
        pathZ[pos] = 1;
      }
      const inner = seen ? d : d + 1;
      bit[n] = 1 << pos;
      const before = pathZ[pos]!;
      pathZ[pos] = (before * cover[ln]!) / cover[n]!;
      visit(ln, inner);
      pathZ[pos] = (before * cover[ln + 1]!) / cover[n]!;
      visit(ln + 1, inner);
      pathZ[pos] = before;
    };
    // Inner nodes first, so that the passes over a tree test no "is this a leaf?" per node: parents
    // come before children in index order, so every node's mask is set before it is read.
    const order = new Int32Array(nodeCount);
    const firstLeaf = new Int32Array(trees);
    for (let t = 0; t < trees; t++) {
      visit(treeStart[t]!, 0);
      maxTreeNodes = Math.max(maxTreeNodes, treeStart[t + 1]! - treeStart[t]!);
      let at = treeStart[t]!;
      for (let n = treeStart[t]!; n < treeStart[t + 1]!; n++) if (left[n] !== n) order[at++] = n;
      firstLeaf[t] = at;
      for (let n = treeStart[t]!; n < treeStart[t + 1]!; n++) if (left[n] === n) order[at++] = n;
    }
    return new ShapPaths(
      nodes,
      bit,
      pathAt,
      features.slice(0, used),
      zeros.slice(0, used),
      order,
      firstLeaf,
      new Int32Array(maxTreeNodes),
      new Float64Array(maxTreeNodes),
      new Int32Array(maxTreeNodes),
    );
  }

  /** Leaf n's table at out[at …]: line h holds each path position's φ when x satisfies the positions in h. */
  leafTable(n: number, d: number, out: Float64Array, at: number, scratch: Float64Array): void {
    const { pathZero } = this;
    const count = 1 << d;
    const path = this.pathAt[n]!;
    fillTable(scratch, 0, d, pathZero, path, this.nodes.value[n]!, scratch.subarray(count));
    for (let h = 0; h < count; h++, at += d)
      for (let p = 0; p < d; p++)
        out[at + p] =
          (h >> p) & 1
            ? ((1 - pathZero[path + p]!) / pathZero[path + p]!) * scratch[h ^ (1 << p)]!
            : -scratch[h]!;
  }

  /** Adds every tree's φ for point x into phi (one slot per feature). */
  accumulate(x: Float64Array, phi: Float64Array): void {
    const trees = this.nodes.treeStart.length - 1;
    for (let t = 0; t < trees; t++) this.accumulateTree(t, x, 0, phi, 0);
  }

  /**
   * Adds tree t's φ for the point at x[offset …] into phi[phiOffset …]: single rows, and the rows of
   * a batch in a tree too large for TreeTables.
   */
  accumulateTree(t: number, x: Float64Array, offset: number, phi: Float64Array, phiOffset: number): void {
    const { feature, threshold, left, treeStart } = this.nodes;
    const { bit, fail, q, cold, order } = this;
    const start = treeStart[t]!;
    const leaves = this.firstLeaf[t]!;
    const end = treeStart[t + 1]!;
    fail[0] = 0;
    for (let i = start; i < leaves; i++) {
      const n = order[i]!;
      const ln = left[n]! - start;
      const failed = fail[n - start]!;
      // b = 1 when x goes right: the left child is the one it fails.
      const b = +(x[offset + feature[n]!]! > threshold[n]!);
      const k = bit[n]!;
      fail[ln] = failed | (k & -b);
      fail[ln + 1] = failed | (k & (b - 1));
      cold[n - start] = ln + 1 - b;
    }
    for (let i = leaves; i < end; i++) {
      const n = order[i]!;
      q[n - start] = this.leaf(n, fail[n - start]!, phi, phiOffset);
    }
    for (let i = leaves - 1; i >= start; i--) {
      const n = order[i]!;
      const ln = left[n]! - start;
      q[n - start] = q[ln]! + q[ln + 1]!;
      // Branch-free: whether an ancestor already failed this feature is close to a coin toss.
      const first = +((fail[n - start]! & bit[n]!) === 0);
      const f = phiOffset + feature[n]!;
      phi[f] -= first * q[cold[n - start]!]!;
    }
  }

  /**
   * Leaf n's share for a point that failed the path positions in `failed`: adds the satisfied
   * features' φ into phi and returns v·A(H), which the failed features share. With m = |H|, F = P ∖ H
   * and e the elementary symmetric polynomials of {z_j : j ∈ H},
   *
   *     A(H) = Π_{j∈F} z_j · Σ_{k=0}^{m} w(k, d) e_{m−k}(z_H),
   *     v (1 − z_i)/z_i · A(H ∖ {i}) = v (1 − z_i) Π_{j∈F} z_j · Σ_{k=0}^{m−1} w(k, d) e_{m−1−k}(z_{H∖i}),
   *
   * and e(z_{H∖i}) comes from e(z_H) by dividing Π (y + z_j) by (y + z_i): e'_j = e_j − z_i e'_{j−1},
   * each step scaling earlier rounding by z_i ≤ 1, so it stays accurate. O(d + m²) per leaf.
   */
  private leaf(n: number, failed: number, phi: Float64Array, phiOffset: number): number {
    const { pathFeature, pathZero } = this;
    const e = ELEMENTARY;
    const at = this.pathAt[n]!;
    const all = this.bit[n]!;
    const w = (32 - Math.clz32(all)) * 33;
    let outside = 1;
    for (let s = failed & all; s !== 0; s &= s - 1) outside *= pathZero[at + 31 - Math.clz32(s & -s)]!;
    const satisfied = all & ~failed;
    let m = 0;
    e[0] = 1;
    for (let s = satisfied; s !== 0; s &= s - 1) {
      const z = pathZero[at + 31 - Math.clz32(s & -s)]!;
      m++;
      e[m] = z * e[m - 1]!;
      for (let j = m - 1; j > 0; j--) e[j] += z * e[j - 1]!;
    }
    const v = this.nodes.value[n]! * outside;
    for (let s = satisfied; s !== 0; s &= s - 1) {
      const p = at + 31 - Math.clz32(s & -s);
      const z = pathZero[p]!;
      let prev = 1;
      let sum = WEIGHTS[w + m - 1]!;
      for (let j = 1; j < m; j++) {
        prev = e[j]! - z * prev;
        sum += WEIGHTS[w + m - 1 - j]! * prev;
      }
      phi[phiOffset + pathFeature[p]!] += v * (1 - z) * sum;
    }
    let total = 0;
    for (let k = 0; k <= m; k++) total += WEIGHTS[w + k]! * e[m - k]!;
    return v * total;
  }
}

/**
 * Writes v·A(T) for every subset T of a leaf's d path positions at values[at …]: first
 * a(S) = v w(|S|, d) Π_{j∈P∖S} z_j, with Π_{j∈T} z_j built from T without its lowest element,
 * then A(T) = Σ_{S⊆T} a(S) by summing over one position at a time (the subset-sum transform).
 */
function fillTable(
  values: Float64Array,
  at: number,
  d: number,
  z: Float64Array,
  zAt: number,
  v: number,
  prodIn: Float64Array,
): void {
  const count = 1 << d;
  const full = count - 1;
  prodIn[0] = 1;
  for (let s = 1; s < count; s++) {
    const low = s & -s;
    prodIn[s] = prodIn[s ^ low]! * z[zAt + 31 - Math.clz32(low)]!;
  }
  const w = d * 33;
  for (let s = 0; s < count; s++) values[at + s] = v * WEIGHTS[w + popcount(s)]! * prodIn[full ^ s]!;
  for (let b = 1; b < count; b <<= 1)
    for (let block = at; block < at + count; block += 2 * b)
      for (let s = block; s < block + b; s++) values[s + b] += values[s]!;
}

function popcount(s: number): number {
  s -= (s >>> 1) & 0x55555555;
  s = (s & 0x33333333) + ((s >>> 2) & 0x33333333);
  return (((s + (s >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** e_0 … e_m for `leaf` (a path has at most 31 distinct features: the depth limit is ≤ 31). */
const ELEMENTARY = new Float64Array(33);

/** w(s, d) = s! (d − s − 1)! / d! = 1 / (d · C(d − 1, s)) at [d · 33 + s]; 0 where undefined. */
const WEIGHTS = new Float64Array(33 * 33);
for (let d = 1; d <= 32; d++) {
  let choose = 1;
  for (let s = 0; s < d; s++) {
    WEIGHTS[d * 33 + s] = 1 / (d * choose);
    choose = (choose * (d - 1 - s)) / (s + 1);
  }
}

/** E[h] of one tree: its leaves' values weighted by the share of training points that reached them. */
export function expectedTreeValue(nodes: TreeArrays, root: number): number {
  const rootCover = nodes.cover[root]!;
  let sum = 0;
  const stack = [root];
  while (stack.length > 0) {
    const i = stack.pop()!;
    const left = nodes.left[i]!;
    if (left === i) sum += nodes.cover[i]! * nodes.value[i]!;
    else stack.push(left, left + 1);
  }
  return sum / rootCover;
}
