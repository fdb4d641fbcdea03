import { IsolationForest, type ForestOptions } from '../forest/forest.js';
import { Random } from '../forest/random.js';
import { isolatingPathLength } from '../forest/score-kernel.js';
import type { TreeArrays } from '../forest/tree-arrays.js';
import { explain, explainCacheBytes, explainRows, setExplainCacheBytes } from './explain.js';
import { useKernel } from './kernel.js';

/**
 * The test oracle: the TreeSHAP the product used before ShapPaths, kept verbatim. Exact
 * path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature
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

class TreeShap {
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

/** The contributions the product must give: the oracle's φ, and in 'isolate' mode what isolation removed. */
function oracleContributions(forest: IsolationForest, x: ArrayLike<number>): Float64Array {
  const { nodes, params } = forest;
  let maxDepth = 0;
  for (let t = 0; t < params.trees; t++) maxDepth = Math.max(maxDepth, nodes.depth[t]!);
  const shap = new TreeShap(nodes, maxDepth);
  const phi = new Float64Array(params.nFeatures);
  for (let t = 0; t < params.trees; t++) shap.accumulate(nodes.treeStart[t]!, x, phi);
  const beyond = new Float64Array(params.nFeatures);
  if (params.outOfRange === 'isolate')
    for (let t = 0; t < params.trees; t++) isolatingPathLength(nodes, nodes.treeStart[t]!, x, beyond);
  return phi.map((p, i) => (-p + beyond[i]!) / params.trees);
}

/** A forest on `cols` features of mixed scales (one constant column, one with few values), and rows to explain. */
function randomCase(seed: number, cols: number, options: ForestOptions, count: number, rows = 600) {
  const rng = new Random(seed);
  const scale = Array.from({ length: cols }, () => Math.exp(rng.normal() * 2));
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      data[r * cols + c] = c === 0 ? 3 : c === 1 ? rng.int(3) : rng.normal() * scale[c]!;
  const forest = IsolationForest.fit({ rows, cols, data }, { seed, ...options });
  // Inside the ranges, on training values exactly (ties with thresholds), and far outside.
  const points = new Float64Array(count * cols);
  for (let p = 0; p < count; p++)
    for (let c = 0; c < cols; c++) {
      const kind = (p + c) % 5;
      points[p * cols + c] =
        kind === 0 ? data[rng.int(rows) * cols + c]! : rng.normal() * scale[c]! * (kind === 4 ? 20 : 1.5);
    }
  return { forest, x: { rows: count, cols, data: points } };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(expected[i]!)),
    );
}

describe('ShapPaths against the extend/unwind TreeSHAP it replaced', () => {
  it.each([
    [1, 3, 'clamp', 16],
    [2, 5, 'clamp', 64],
    [3, 16, 'clamp', 256],
    [4, 2, 'isolate', 32],
    [5, 9, 'isolate', 256],
    [6, 30, 'isolate', 128],
  ] as const)(
    'seed %i, %i features, %s, maxSamples %i: every row to 1e-9',
    (seed, cols, outOfRange, maxSamples) => {
      const { forest, x } = randomCase(seed, cols, { trees: 12, maxSamples, outOfRange }, 40);
      for (let r = 0; r < x.rows; r++) {
        const row = x.data.subarray(r * cols, (r + 1) * cols);
        expectClose(explain(forest, row).contributions, oracleContributions(forest, row));
      }
    },
  );

  // Two features: splits on a feature already on the path, so sibling leaves share tables whose
  // split position an ancestor may have failed already.
  // maxSamples 16: trees small enough to be one table each (a group at the root, nothing above).
  it.each([
    ['clamp', 12, 256],
    ['isolate', 12, 256],
    ['clamp', 2, 256],
    ['isolate', 5, 16],
  ] as const)(
    'explains a batch (%s, %i features, maxSamples %i) with per-tree tables to the same numbers',
    (outOfRange, cols, maxSamples) => {
      const { forest, x } = randomCase(7, cols, { trees: 10, outOfRange, maxSamples }, 300);
      const batch = explainRows(forest, x);
      expect(batch.length).toBe(x.rows);
      for (let r = 0; r < x.rows; r++) {
        const row = x.data.subarray(r * x.cols, (r + 1) * x.cols);
        const one = explain(forest, row);
        expectClose(batch[r]!.contributions, oracleContributions(forest, row));
        expect(batch[r]!.pathLength).toBe(one.pathLength);
        expect(batch[r]!.score).toBe(one.score);
        expect(batch[r]!.baseline).toBe(one.baseline);
      }
      // A chosen subset, in the order asked for.
      const picked = explainRows(forest, x, [299, 3, 3]);
      expectClose(picked[0]!.contributions, batch[299]!.contributions);
      expectClose(picked[2]!.contributions, batch[3]!.contributions);
    },
  );

  // Batches run the tables through the WebAssembly kernel; accumulateChunk is the same loops in
  // JavaScript, kept for runtimes without WebAssembly. Same operations, same order: same bits.
  // Odd row counts: the kernel takes rows two at a time.
  it.each([
    ['clamp', 12, 256, 300],
    ['isolate', 30, 128, 700],
    ['clamp', 2, 256, 259],
    ['isolate', 5, 16, 301],
    ['isolate', 8, 1024, 300],
  ] as const)(
    'the WebAssembly kernel explains a batch (%s, %i features, maxSamples %i, %i rows) to the bit as the JavaScript loops',
    (outOfRange, cols, maxSamples, count) => {
      const { forest, x } = randomCase(11, cols, { trees: 10, outOfRange, maxSamples }, count, 1500);
      const kernel = explainRows(forest, x);
      const previous = useKernel(false);
      try {
        const loops = explainRows(forest, x);
        for (let r = 0; r < x.rows; r++) {
          expect(Array.from(kernel[r]!.contributions)).toEqual(Array.from(loops[r]!.contributions));
          expect(kernel[r]!.pathLength).toBe(loops[r]!.pathLength);
        }
      } finally {
        useKernel(previous);
      }
    },
  );

  it('stays exact where a tree is too large to tabulate whole (leaves beyond compute A)', () => {
    // 5000 samples: about 2500 leaves a tree with paths of up to 13 features, far over the table's bound.
    const { forest, x } = randomCase(8, 20, { trees: 2, maxSamples: 5000 }, 260, 5000);
    expect(forest.nodes.depth[0]).toBe(13);
    const batch = explainRows(forest, x);
    for (let r = 0; r < x.rows; r += 13) {
      const row = x.data.subarray(r * x.cols, (r + 1) * x.cols);
      expectClose(batch[r]!.contributions, oracleContributions(forest, row));
    }
  });

  it("keeps a forest's tables between batches within the budget, and explains the same when they are let go", () => {
    const { forest, x } = randomCase(10, 8, { trees: 10, outOfRange: 'isolate' }, 300);
    const previous = setExplainCacheBytes(64 * 1024 * 1024);
    try {
      explain(forest, x.data.subarray(0, 8));
      const pathsOnly = explainCacheBytes();
      const first = explainRows(forest, x);
      // The tables stay: the next batch reads them instead of building them.
      expect(explainCacheBytes()).toBeGreaterThan(pathsOnly + 10 * 1024);
      const second = explainRows(forest, x);
      const tableBytes = explainCacheBytes() - pathsOnly;
      // A budget that keeps about half the trees' tables (a forest keeps at most half the budget),
      // then one too small to keep any: every batch builds the others' and lets them go.
      setExplainCacheBytes(tableBytes);
      const halfKept = IsolationForest.deserialize(forest.serialize());
      explainRows(halfKept, x);
      const half = explainRows(halfKept, x);
      setExplainCacheBytes(1);
      const unkept = explainRows(IsolationForest.deserialize(forest.serialize()), x);
      for (let r = 0; r < x.rows; r += 7) {
        const row = x.data.subarray(r * x.cols, (r + 1) * x.cols);
        const expected = oracleContributions(forest, row);
        expectClose(first[r]!.contributions, expected);
        expect(Array.from(second[r]!.contributions)).toEqual(Array.from(first[r]!.contributions));
        expect(Array.from(unkept[r]!.contributions)).toEqual(Array.from(first[r]!.contributions));
        expect(Array.from(half[r]!.contributions)).toEqual(Array.from(first[r]!.contributions));
      }
    } finally {
      setExplainCacheBytes(previous);
    }
  });

  it('refuses rows that are not in the matrix, or not finite', () => {
    const { forest, x } = randomCase(9, 4, { trees: 3 }, 5);
    expect(() => explainRows(forest, x, [5])).toThrow(/row 5 is not a row of a 5-row matrix/);
    x.data[2 * 4 + 1] = Infinity;
    expect(() => explainRows(forest, x)).toThrow(/row 2, column 1 is Infinity/);
    expect(() => explainRows(forest, { rows: 1, cols: 3, data: new Float64Array(3) })).toThrow(/4 features/);
  });

  it('holds what it precomputes within its budget, least recently explained forest out first', () => {
    const forests = [1, 2, 3].map((seed) => randomCase(seed, 6, { trees: 20 }, 1));
    const previous = setExplainCacheBytes(0);
    try {
      explain(forests[0]!.forest, forests[0]!.x.data);
      const one = explainCacheBytes();
      expect(one).toBeGreaterThan(0);
      // A budget of two forests' worth: the third evicts the first, explaining it again rebuilds it.
      setExplainCacheBytes(2.5 * one);
      explain(forests[1]!.forest, forests[1]!.x.data);
      explain(forests[2]!.forest, forests[2]!.x.data);
      expect(explainCacheBytes()).toBeLessThanOrEqual(2.5 * one);
      const again = explain(forests[0]!.forest, forests[0]!.x.data).contributions;
      expectClose(again, oracleContributions(forests[0]!.forest, forests[0]!.x.data));
      expect(explainCacheBytes()).toBeLessThanOrEqual(2.5 * one);
    } finally {
      setExplainCacheBytes(previous);
    }
  });
});
