import { IsolationForest } from '../forest/forest.js';
import { Random } from '../forest/random.js';
import type { TreeArrays } from '../forest/tree-arrays.js';
import { explain, topFeatures } from './explain.js';

/** v(S) = E[h(x) | x_S] for one tree: follow x on features in S, else average children by cover. */
function conditionalValue(nodes: TreeArrays, i: number, x: ArrayLike<number>, inS: boolean[]): number {
  const left = nodes.left[i]!;
  if (left === i) return nodes.value[i]!;
  const f = nodes.feature[i]!;
  if (inS[f]) return conditionalValue(nodes, x[f]! > nodes.threshold[i]! ? left + 1 : left, x, inS);
  const c = nodes.cover[i]!;
  return (
    (nodes.cover[left]! / c) * conditionalValue(nodes, left, x, inS) +
    (nodes.cover[left + 1]! / c) * conditionalValue(nodes, left + 1, x, inS)
  );
}

/** Shapley values by enumerating all 2^d coalitions, on the forest's mean path length. */
function bruteForceShapley(forest: IsolationForest, x: ArrayLike<number>): Float64Array {
  const d = forest.nFeatures;
  const { nodes, params } = forest;
  const value = (mask: number): number => {
    const inS = Array.from({ length: d }, (_, f) => (mask & (1 << f)) !== 0);
    let sum = 0;
    for (let t = 0; t < params.trees; t++) sum += conditionalValue(nodes, nodes.treeStart[t]!, x, inS);
    return sum / params.trees;
  };
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const phi = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    for (let mask = 0; mask < 1 << d; mask++) {
      if (mask & (1 << i)) continue;
      let size = 0;
      for (let m = mask; m; m &= m - 1) size++;
      const weight = (factorial(size) * factorial(d - size - 1)) / factorial(d);
      phi[i] += weight * (value(mask | (1 << i)) - value(mask));
    }
  }
  return phi;
}

describe('TreeSHAP explanations', () => {
  it.each([1, 2, 3, 4, 5, 6])('match brute-force Shapley values to 1e-9 with d = %i', (d) => {
    const rng = new Random(100 + d);
    const rows = 200;
    const data = new Float64Array(rows * d);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    // Small forests with repeated features on a path (few features, deep trees) exercise unwind.
    const forest = IsolationForest.fit({ rows, cols: d, data }, { trees: 7, maxSamples: 64, seed: d });
    for (let p = 0; p < 8; p++) {
      const x = Array.from({ length: d }, () => rng.normal() * 2);
      const exact = bruteForceShapley(forest, x);
      const { contributions } = explain(forest, x);
      for (let f = 0; f < d; f++) expect(Math.abs(-contributions[f]! - exact[f]!)).toBeLessThan(1e-9);
    }
  });

  /** A forest on d standard normal features, and 20 points (every third far out) to explain. */
  function expectAdditive(d: number, outOfRange: 'clamp' | 'isolate'): IsolationForest {
    const rng = new Random(8);
    const data = new Float64Array(1000 * d).map(() => rng.normal());
    const forest = IsolationForest.fit({ rows: 1000, cols: d, data }, { seed: 4, outOfRange });
    for (let p = 0; p < 20; p++) {
      const x = Array.from({ length: d }, () => rng.normal() * (p % 3 === 0 ? 5 : 1));
      const e = explain(forest, x);
      const sum = e.contributions.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(e.baseline - e.pathLength, 9);
      expect(e.score).toBeCloseTo(forest.scoreOne(x), 12);
    }
    return forest;
  }

  it('is additive: contributions sum to baseline − E[h(x)], and the score matches scoreOne', () => {
    expectAdditive(12, 'clamp');
  });

  it('stays additive when the forest isolates points beyond its ranges, blaming the feature beyond', () => {
    const forest = expectAdditive(6, 'isolate');
    const { contributions } = explain(forest, [0, 0, 0, 80, 0, 0]);
    expect(topFeatures(contributions, ['a', 'b', 'c', 'd', 'e', 'f'], 1)[0]!.feature).toBe('d');
  });

  it('blames the feature that is out of place', () => {
    const rng = new Random(21);
    const data = new Float64Array(2000 * 5).map(() => rng.normal());
    const forest = IsolationForest.fit({ rows: 2000, cols: 5, data }, { seed: 2 });
    const names = ['cpu', 'mem', 'net_in', 'net_out', 'disk'];
    const top = topFeatures(explain(forest, [0.1, -0.2, 9, 0.3, 0]).contributions, names, 3);
    expect(top[0]!.feature).toBe('net_in');
    expect(top[0]!.contribution).toBeGreaterThan(0);
    expect(top.length).toBe(3);
    const shares = topFeatures(explain(forest, [0, 0, 9, 0, 0]).contributions, names, 5);
    expect(shares.reduce((a, b) => a + b.share, 0)).toBeCloseTo(1, 12);
  });

  it('refuses a mismatched row and mismatched names', () => {
    const forest = IsolationForest.fit({
      rows: 10,
      cols: 2,
      data: new Float64Array(20).map((_, i) => i % 7),
    });
    expect(() => explain(forest, [1, 2, 3])).toThrow(/2 features/);
    expect(() => explain(forest, [1, NaN])).toThrow(/finite/);
    expect(() => topFeatures([1, 2], ['a'])).toThrow(/1 feature names for 2/);
  });
});
