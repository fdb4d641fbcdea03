import type { Matrix } from '../matrix.js';
import { averagePathLength } from './path-length.js';
import type { Random } from './random.js';
import type { TreeArrays } from './tree-arrays.js';

/** Growable node storage; trimmed into TreeArrays once all trees are grown. */
export class NodeBuffer {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  cover: Int32Array;
  value: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.feature = new Int32Array(capacity);
    this.threshold = new Float64Array(capacity);
    this.left = new Int32Array(capacity);
    this.cover = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
    this.lo = new Float64Array(capacity);
    this.hi = new Float64Array(capacity);
  }

  /** Appends `count` nodes and returns the index of the first. */
  allocate(count: number): number {
    const first = this.size;
    this.size += count;
    if (this.size > this.left.length) this.grow(Math.max(this.size, this.left.length * 2));
    return first;
  }

  setLeaf(i: number, cover: number, depth: number): void {
    this.feature[i] = 0;
    this.threshold[i] = Infinity;
    this.left[i] = i;
    this.cover[i] = cover;
    this.value[i] = depth + averagePathLength(cover);
    this.lo[i] = -Infinity;
    this.hi[i] = Infinity;
  }

  /** An inner node; [lo, hi] is the split feature's range among the points that reached it. */
  setSplit(
    i: number,
    feature: number,
    threshold: number,
    left: number,
    cover: number,
    lo: number,
    hi: number,
  ): void {
    this.feature[i] = feature;
    this.threshold[i] = threshold;
    this.left[i] = left;
    this.cover[i] = cover;
    this.value[i] = 0;
    this.lo[i] = lo;
    this.hi[i] = hi;
  }

  toArrays(treeStart: Int32Array, depth: Int32Array): TreeArrays {
    const n = this.size;
    return {
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      cover: this.cover.slice(0, n),
      value: this.value.slice(0, n),
      lo: this.lo.slice(0, n),
      hi: this.hi.slice(0, n),
      treeStart,
      depth,
    };
  }

  private grow(capacity: number): void {
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.feature = grow(this.feature, (n) => new Int32Array(n));
    this.threshold = grow(this.threshold, (n) => new Float64Array(n));
    this.left = grow(this.left, (n) => new Int32Array(n));
    this.cover = grow(this.cover, (n) => new Int32Array(n));
    this.value = grow(this.value, (n) => new Float64Array(n));
    this.lo = grow(this.lo, (n) => new Float64Array(n));
    this.hi = grow(this.hi, (n) => new Float64Array(n));
  }
}

/**
 * Grows one isolation tree on the rows `sample` of `x` (Liu, Ting & Zhou 2008, iTree), the way
 * scikit-learn's ExtraTreeRegressor(max_features=1, splitter='random') does inside IsolationForest:
 * at each node, features are drawn at random without replacement until one is not constant in
 * the node; the split value is uniform between that feature's min and max there; points with
 * x <= split go left. A node becomes a leaf when it holds one point, reaches `depthLimit`, or
 * every feature is constant in it. Returns the depth of the deepest leaf.
 */
export function growTree(
  x: Matrix,
  sample: Int32Array,
  depthLimit: number,
  rng: Random,
  nodes: NodeBuffer,
): number {
  const { data, cols } = x;
  const order = new Int32Array(cols);
  // Explicit stack of (node, lo, hi, depth) over `sample`, which is partitioned in place.
  const stack: number[] = [];
  const root = nodes.allocate(1);
  stack.push(root, 0, sample.length, 0);
  let maxDepth = 0;

  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    const node = stack.pop()!;
    const size = hi - lo;
    if (size <= 1 || depth >= depthLimit) {
      nodes.setLeaf(node, size, depth);
      if (depth > maxDepth) maxDepth = depth;
      continue;
    }

    // Draw features without replacement until one varies in this node.
    for (let f = 0; f < cols; f++) order[f] = f;
    let feature = -1;
    let min = 0;
    let max = 0;
    for (let remaining = cols; remaining > 0; remaining--) {
      const j = rng.int(remaining);
      const f = order[j]!;
      order[j] = order[remaining - 1]!;
      min = Infinity;
      max = -Infinity;
      for (let k = lo; k < hi; k++) {
        const v = data[sample[k]! * cols + f]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (max > min) {
        feature = f;
        break;
      }
    }
    if (feature < 0) {
      nodes.setLeaf(node, size, depth);
      if (depth > maxDepth) maxDepth = depth;
      continue;
    }

    let threshold = rng.uniform(min, max);
    if (threshold >= max) threshold = min; // as scikit-learn: never a split that sends everything left

    // Partition sample[lo, hi) into x <= threshold | x > threshold.
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      if (data[sample[i]! * cols + feature]! <= threshold) {
        i++;
      } else {
        const t = sample[i]!;
        sample[i] = sample[j]!;
        sample[j] = t;
        j--;
      }
    }
    const left = nodes.allocate(2);
    nodes.setSplit(node, feature, threshold, left, size, min, max);
    stack.push(left + 1, i, hi, depth + 1);
    stack.push(left, lo, i, depth + 1);
  }
  return maxDepth;
}
