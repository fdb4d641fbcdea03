import type { TreeArrays } from '../forest/tree-arrays.js';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature
 * attribution for tree ensembles", Algorithm 2), for one tree whose leaf values are path lengths.
 *
 * The value of a coalition S of features is E[h(x) | x_S]: follow x at splits on features in S,
 * and at other splits take both branches weighted by the share of training points (covers) that
 * went each way. The Shapley values φ_i of that game satisfy Σ φ_i = h(x) − E[h], where E[h] is
 * the cover-weighted mean leaf value. Algorithm 2 computes all of them in O(L·D²) per tree
 * (L leaves, D depth) by carrying, down the path to each leaf, the weights of every subset size
 * ("extend"), and removing a feature's share again when it recurs or at the leaf ("unwind").
 * The variable names follow the paper and the shap package's C++ implementation.
 */
/** 1/k for small k: the recurrences divide by path positions, and multiplying is several times cheaper. */
const INV = Float64Array.from({ length: 130 }, (_, k) => (k === 0 ? 0 : 1 / k));

export class TreeShap {
  private readonly feature: Int32Array;
  private readonly zero: Float64Array;
  private readonly one: Float64Array;
  private readonly weight: Float64Array;

  constructor(
    private readonly nodes: TreeArrays,
    maxDepth: number,
  ) {
    // Each level of the recursion keeps its own copy of the path: (D+2)(D+3)/2 slots in all.
    const slots = ((maxDepth + 2) * (maxDepth + 3)) / 2;
    this.feature = new Int32Array(slots);
    this.zero = new Float64Array(slots);
    this.one = new Float64Array(slots);
    this.weight = new Float64Array(slots);
  }

  /** Adds tree `root`'s φ for point x into phi (one slot per feature). */
  accumulate(root: number, x: ArrayLike<number>, phi: Float64Array): void {
    this.recurse(root, x, phi, 0, 0, 1, 1, -1);
  }

  private recurse(
    node: number,
    x: ArrayLike<number>,
    phi: Float64Array,
    pathStart: number,
    uniqueDepth: number,
    parentZero: number,
    parentOne: number,
    parentFeature: number,
  ): void {
    const { feature, zero, one, weight } = this;
    const nodes = this.nodes;
    // This level's path is a copy of the parent's, placed right after it.
    const path = pathStart + uniqueDepth;
    if (uniqueDepth > 0) {
      for (let i = 0; i < uniqueDepth; i++) {
        feature[path + i] = feature[pathStart + i]!;
        zero[path + i] = zero[pathStart + i]!;
        one[path + i] = one[pathStart + i]!;
        weight[path + i] = weight[pathStart + i]!;
      }
    }
    this.extend(path, uniqueDepth, parentZero, parentOne, parentFeature);

    const left = nodes.left[node]!;
    if (left === node) {
      const value = nodes.value[node]!;
      // For an element x does not follow (one fraction 0) the unwound sum is
      // (d + 1) / zero_k · Σ_j weight_j / (d − j): the sum is the same for all of them, so it is
      // computed once per leaf instead of once per element.
      let coldSum = Number.NaN;
      for (let i = 1; i <= uniqueDepth; i++) {
        let w: number;
        if (one[path + i] === 0) {
          if (coldSum !== coldSum) {
            coldSum = 0;
            for (let j = uniqueDepth - 1; j >= 0; j--) coldSum += weight[path + j]! * INV[uniqueDepth - j]!;
          }
          w = (coldSum * (uniqueDepth + 1)) / zero[path + i]!;
        } else {
          w = this.unwoundSum(path, uniqueDepth, i);
        }
        phi[feature[path + i]!] += w * (one[path + i]! - zero[path + i]!) * value;
      }
      return;
    }

    const split = nodes.feature[node]!;
    const goesRight = x[split]! > nodes.threshold[node]!;
    const hot = goesRight ? left + 1 : left;
    const cold = goesRight ? left : left + 1;
    const cover = nodes.cover[node]!;
    const hotZero = nodes.cover[hot]! / cover;
    const coldZero = nodes.cover[cold]! / cover;
    let incomingZero = 1;
    let incomingOne = 1;
    let depth = uniqueDepth;
    // A feature met again on the path: undo its earlier split so it counts once.
    let k = 0;
    while (k <= depth && feature[path + k] !== split) k++;
    if (k <= depth) {
      incomingZero = zero[path + k]!;
      incomingOne = one[path + k]!;
      this.unwind(path, depth, k);
      depth -= 1;
    }
    this.recurse(hot, x, phi, path, depth + 1, hotZero * incomingZero, incomingOne, split);
    this.recurse(cold, x, phi, path, depth + 1, coldZero * incomingZero, 0, split);
  }

  /** Adds a feature to the path and updates every subset size's weight. */
  private extend(path: number, depth: number, zeroFraction: number, oneFraction: number, f: number): void {
    const { feature, zero, one, weight } = this;
    feature[path + depth] = f;
    zero[path + depth] = zeroFraction;
    one[path + depth] = oneFraction;
    weight[path + depth] = depth === 0 ? 1 : 0;
    const inv = INV[depth + 1]!;
    for (let i = depth - 1; i >= 0; i--) {
      weight[path + i + 1] += oneFraction * weight[path + i]! * (i + 1) * inv;
      weight[path + i] = zeroFraction * weight[path + i]! * (depth - i) * inv;
    }
  }

  /** Removes element k from the path, undoing `extend`. */
  private unwind(path: number, depth: number, k: number): void {
    const { feature, zero, one, weight } = this;
    const oneFraction = one[path + k]!;
    const zeroFraction = zero[path + k]!;
    let nextOnePortion = weight[path + depth]!;
    const inv = INV[depth + 1]!;
    if (oneFraction !== 0) {
      const invOne = 1 / oneFraction;
      for (let i = depth - 1; i >= 0; i--) {
        const tmp = weight[path + i]!;
        weight[path + i] = nextOnePortion * (depth + 1) * INV[i + 1]! * invOne;
        nextOnePortion = tmp - weight[path + i]! * zeroFraction * (depth - i) * inv;
      }
    } else {
      const invZero = 1 / zeroFraction;
      for (let i = depth - 1; i >= 0; i--)
        weight[path + i] = weight[path + i]! * (depth + 1) * invZero * INV[depth - i]!;
    }
    for (let i = k; i < depth; i++) {
      feature[path + i] = feature[path + i + 1]!;
      zero[path + i] = zero[path + i + 1]!;
      one[path + i] = one[path + i + 1]!;
    }
  }

  /** The total weight the path would have with element k unwound, without changing the path. */
  private unwoundSum(path: number, depth: number, k: number): number {
    const { zero, one, weight } = this;
    const oneFraction = one[path + k]!;
    const zeroFraction = zero[path + k]!;
    let nextOnePortion = weight[path + depth]!;
    let total = 0;
    const inv = INV[depth + 1]!;
    if (oneFraction !== 0) {
      const scale = (depth + 1) / oneFraction;
      for (let i = depth - 1; i >= 0; i--) {
        const tmp = nextOnePortion * scale * INV[i + 1]!;
        total += tmp;
        nextOnePortion = weight[path + i]! - tmp * zeroFraction * (depth - i) * inv;
      }
    } else {
      const scale = (depth + 1) / zeroFraction;
      for (let i = depth - 1; i >= 0; i--) total += weight[path + i]! * scale * INV[depth - i]!;
    }
    return total;
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
