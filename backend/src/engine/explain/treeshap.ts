import type { TreeArrays } from '../forest/tree-arrays.js';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018) with the work that depends only on
 * the forest done once, per leaf, as in Fast TreeSHAP v2 (Yang 2021, "Fast TreeSHAP: Accelerating
 * SHAP Value Computation for Trees"), so that explaining a point is two passes over each tree's
 * nodes and a few table reads per leaf.
 *
 * The value of a coalition S of features is E[h(x) | x_S]: follow x at splits on features in S,
 * and at other splits take both branches weighted by the share of training points (covers) that
 * went each way. The game is a sum over leaves. For leaf l with value v (its path length) and P the
 * distinct features on its path (d = |P|), let z_j be the product of the cover ratios of the path's
 * splits on j and o_j ∈ {0, 1} whether x satisfies all of them; the leaf's game is
 * u(S) = v Π_{j∈S} o_j Π_{j∈P∖S} z_j, and with H = {j ∈ P : o_j = 1} its Shapley values are
 *
 *     φ_i = v (o_i − z_i) / z_i · A(H ∖ {i}),     A(T) = Σ_{S⊆T} w(|S|, d) Π_{j∈P∖S} z_j,
 *     w(s, d) = s! (d − s − 1)! / d!
 *
 * (only S ⊆ H have u(S ∪ {i}) ≠ u(S); dividing by z_i puts i back into the product). So
 * φ_i = −v A(H) for every feature x fails (i ∉ H) and v (1 − z_i)/z_i · A(H ∖ {i}) for every
 * feature it satisfies. A depends on x only through H, a subset of P: the table of v·A over all 2^d
 * subsets is computed once per leaf (`ShapTables.build`, a subset-sum transform, O(d 2^d)).
 *
 * Explaining x (`accumulate`) walks each tree's nodes in order (parents before children),
 * carrying down the set of path positions x failed as a bit mask; at each leaf it reads v·A(H)
 * and, for each satisfied feature, v·A(H ∖ {i}). The failed features' share, −v·A(H) once for each
 * of them, is summed bottom-up instead: Q(n) = Σ of v·A(H) over the leaves below n, and each inner
 * node n on feature i that x fails, with no ancestor on i failed already (the first failure on the
 * path, so a leaf counts once per feature), gives φ_i −= Q(child x does not take). Per point and
 * tree this is O(nodes + Σ_leaves |H|), against O(leaves · depth²) for Algorithm 2.
 *
 * Memory: Σ_leaves 2^d doubles (about 41 KiB a tree for 256 samples on 16 features: paths hold
 * 5.8 distinct features on average). Leaves whose table would push the forest past
 * `maxTableBytes` get none and compute A(T) from their z's when needed, O(d²) each
 * (Σ_k w(k, d) e_{|T|−k}(z_T) Π_{j∈P∖T} z_j, e the elementary symmetric polynomials), so deep
 * forests stay within the bound at some cost in speed, not in exactness.
 */
export class ShapTables {
  /** Bytes held by the tables and per-node arrays. */
  readonly bytes: number;
  /** Leaves that compute A on the fly (their table did not fit). */
  readonly untabled: number;

  private constructor(
    private readonly nodes: TreeArrays,
    /** Inner node: 1 << (its feature's position on the path). Leaf: 2^d − 1, all of its path's positions. */
    private readonly bit: Int32Array,
    /** Leaf: offset of its v·A table in `values`, −1 when it has none. */
    private readonly table: Int32Array,
    /** Leaf: offset of its path's features, ratios and z's. */
    private readonly pathAt: Int32Array,
    private readonly values: Float64Array,
    /** Per leaf and path position: the feature, (1 − z)/z and z. */
    private readonly pathFeature: Int32Array,
    private readonly pathRatio: Float64Array,
    private readonly pathZero: Float64Array,
    /** Scratch per tree: failed positions per node, and Q. */
    private readonly fail: Int32Array,
    private readonly q: Float64Array,
    untabled: number,
  ) {
    this.untabled = untabled;
    this.bytes = [bit, table, pathAt, values, pathFeature, pathRatio, pathZero, fail, q].reduce(
      (sum, a) => sum + a.byteLength,
      0,
    );
  }

  /** Precomputes every leaf's table, within `maxTableBytes` for the v·A values. */
  static build(nodes: TreeArrays, maxTableBytes = 32 * 1024 * 1024): ShapTables {
    const { feature, left, cover, treeStart } = nodes;
    const nodeCount = left.length;
    const trees = treeStart.length - 1;
    const bit = new Int32Array(nodeCount);
    const table = new Int32Array(nodeCount).fill(-1);
    const pathAt = new Int32Array(nodeCount);
    const features: number[] = [];
    const zeros: number[] = [];
    const leaves: number[] = [];
    let maxTreeNodes = 1;

    // Depth-first over each tree, keeping the path's distinct features (in order of first
    // occurrence) and their z's; a feature met again multiplies its z by the new ratio.
    const pathFeature: number[] = [];
    const pathZ: number[] = [];
    const visit = (n: number): void => {
      const ln = left[n]!;
      const d = pathFeature.length;
      if (ln === n) {
        bit[n] = 2 ** d - 1;
        pathAt[n] = features.length;
        for (let p = 0; p < d; p++) {
          features.push(pathFeature[p]!);
          zeros.push(pathZ[p]!);
        }
        leaves.push(n);
        return;
      }
      const f = feature[n]!;
      let pos = pathFeature.indexOf(f);
      const seen = pos >= 0;
      if (!seen) {
        pos = d;
        pathFeature.push(f);
        pathZ.push(1);
      }
      bit[n] = 1 << pos;
      const before = pathZ[pos]!;
      pathZ[pos] = (before * cover[ln]!) / cover[n]!;
      visit(ln);
      pathZ[pos] = (before * cover[ln + 1]!) / cover[n]!;
      visit(ln + 1);
      pathZ[pos] = before;
      if (!seen) {
        pathFeature.pop();
        pathZ.pop();
      }
    };
    for (let t = 0; t < trees; t++) {
      visit(treeStart[t]!);
      maxTreeNodes = Math.max(maxTreeNodes, treeStart[t + 1]! - treeStart[t]!);
    }

    // The largest path length whose tables all fit: shorter paths first, they are the cheap ones.
    const bySize = new Float64Array(33);
    const distinct = (l: number): number => 32 - Math.clz32(bit[l]!);
    for (const l of leaves) bySize[distinct(l)] += 2 ** distinct(l);
    let cap = -1;
    let doubles = 0;
    while (cap < 31 && (doubles + bySize[cap + 1]!) * 8 <= maxTableBytes) doubles += bySize[++cap]!;

    const values = new Float64Array(doubles);
    const zs = Float64Array.from(zeros);
    const scratch = new Float64Array(cap >= 0 ? 2 ** cap : 1);
    let at = 0;
    let untabled = 0;
    for (const l of leaves) {
      const d = distinct(l);
      if (d > cap) {
        untabled++;
        continue;
      }
      table[l] = at;
      fillTable(values, at, d, zs, pathAt[l]!, nodes.value[l]!, scratch);
      at += 1 << d;
    }

    const ratios = zs.map((z) => (1 - z) / z);
    return new ShapTables(
      nodes,
      bit,
      table,
      pathAt,
      values,
      Int32Array.from(features),
      ratios,
      zs,
      new Int32Array(maxTreeNodes),
      new Float64Array(maxTreeNodes),
      untabled,
    );
  }

  /** Adds every tree's φ for point x into phi (one slot per feature). */
  accumulate(x: Float64Array, phi: Float64Array): void {
    const trees = this.nodes.treeStart.length - 1;
    for (let t = 0; t < trees; t++) this.accumulateTree(t, x, 0, phi, 0);
  }

  /**
   * Adds tree t's φ for the point at x[offset …] into phi[phiOffset …]. Batches call it with
   * trees outside and rows inside, so that one tree's tables stay in cache while the rows use them.
   */
  accumulateTree(t: number, x: Float64Array, offset: number, phi: Float64Array, phiOffset: number): void {
    const { feature, threshold, left, treeStart } = this.nodes;
    const { bit, table, pathAt, values, pathFeature, pathRatio, fail, q } = this;
    const start = treeStart[t]!;
    const end = treeStart[t + 1]!;
    fail[0] = 0;
    for (let n = start; n < end; n++) {
      const ln = left[n]!;
      const failed = fail[n - start]!;
      if (ln !== n) {
        // b = 1 when x goes right: the left child is the one it fails.
        const b = +(x[offset + feature[n]!]! > threshold[n]!);
        const k = bit[n]!;
        fail[ln - start] = failed | (k & -b);
        fail[ln + 1 - start] = failed | (k & (b - 1));
        continue;
      }
      const h = bit[n]! & ~failed;
      const path = pathAt[n]!;
      const base = table[n]!;
      if (base >= 0) {
        q[n - start] = values[base + h]!;
        for (let s = h; s !== 0; s &= s - 1) {
          const low = s & -s;
          const p = path + 31 - Math.clz32(low);
          phi[phiOffset + pathFeature[p]!] += pathRatio[p]! * values[base + (h ^ low)]!;
        }
      } else {
        const v = this.nodes.value[n]!;
        const d = 32 - Math.clz32(bit[n]!);
        q[n - start] = v * this.subsetSum(path, d, h);
        for (let s = h; s !== 0; s &= s - 1) {
          const low = s & -s;
          const p = path + 31 - Math.clz32(low);
          phi[phiOffset + pathFeature[p]!] += pathRatio[p]! * v * this.subsetSum(path, d, h ^ low);
        }
      }
    }
    for (let n = end - 1; n >= start; n--) {
      const ln = left[n]!;
      if (ln === n) continue;
      const l = q[ln - start]!;
      const r = q[ln + 1 - start]!;
      q[n - start] = l + r;
      if ((fail[n - start]! & bit[n]!) === 0) {
        const f = feature[n]!;
        phi[phiOffset + f] -= x[offset + f]! > threshold[n]! ? l : r;
      }
    }
  }

  /** A(T) for a leaf without a table, from the z's at `path` (see the class comment). */
  private subsetSum(path: number, d: number, t: number): number {
    const e = ELEMENTARY;
    e[0] = 1;
    let m = 0;
    let outside = 1;
    for (let p = 0; p < d; p++) {
      const z = this.pathZero[path + p]!;
      if ((t >> p) & 1) {
        m++;
        e[m] = 0;
        for (let j = m; j > 0; j--) e[j] += z * e[j - 1]!;
      } else outside *= z;
    }
    // S of size k inside T leaves T ∖ S, of size m − k, in the product.
    let sum = 0;
    for (let k = 0; k <= m; k++) sum += shapleyWeight(k, d) * e[m - k]!;
    return sum * outside;
  }
}

const ELEMENTARY = new Float64Array(33);

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
  if (d === 0) {
    values[at] = 0; // no feature on the path: nothing to attribute
    return;
  }
  const full = count - 1;
  prodIn[0] = 1;
  for (let s = 1; s < count; s++) {
    const low = s & -s;
    prodIn[s] = prodIn[s ^ low]! * z[zAt + 31 - Math.clz32(low)]!;
  }
  const w = d * 33;
  for (let s = 0; s < count; s++) values[at + s] = v * WEIGHTS[w + popcount(s)]! * prodIn[full ^ s]!;
  for (let s = at; s < at + count; s += 2) values[s + 1] += values[s]!;
  for (let b = 2; b < count; b <<= 1)
    for (let block = at; block < at + count; block += 2 * b)
      for (let s = block; s < block + b; s++) values[s + b] += values[s]!;
}

function popcount(s: number): number {
  s -= (s >>> 1) & 0x55555555;
  s = (s & 0x33333333) + ((s >>> 2) & 0x33333333);
  return (((s + (s >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** w(s, d) = s! (d − s − 1)! / d! = 1 / (d · C(d − 1, s)), for d ≤ 32 (a path has at most 31 features). */
const WEIGHTS = new Float64Array(33 * 33);
for (let d = 1; d <= 32; d++) {
  let choose = 1;
  for (let s = 0; s < d; s++) {
    WEIGHTS[d * 33 + s] = 1 / (d * choose);
    choose = (choose * (d - 1 - s)) / (s + 1);
  }
}

function shapleyWeight(s: number, d: number): number {
  return WEIGHTS[d * 33 + s]!;
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
