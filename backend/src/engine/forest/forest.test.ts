import { EngineError } from '../errors.js';
import { matrixFromRows, type Matrix } from '../matrix.js';
import { IsolationForest } from './forest.js';
import { averagePathLength } from './path-length.js';
import { Random } from './random.js';
import { isolatingPathLength } from './score-kernel.js';

/** Ranges that hold every point: isolatingPathLength then walks as scikit-learn does. */
function noRange(like: Float64Array, sign: number): Float64Array {
  return new Float64Array(like.length).fill(sign * Infinity);
}

function gaussian(rows: number, cols: number, seed: number): Matrix {
  const rng = new Random(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { rows, cols, data };
}

function expectEngineError(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected an EngineError ${code}`);
}

describe('IsolationForest', () => {
  const x = gaussian(2000, 4, 1);

  it('c(n) matches scikit-learn _average_path_length', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // numpy: 2*(np.log(255)+np.euler_gamma) - 2*255/256
    expect(averagePathLength(256)).toBeCloseTo(10.244770920119917, 12);
  });

  it('grows trees to the depth limit ceil(log2(maxSamples)) with maxSamples points each', () => {
    const forest = IsolationForest.fit(x, { trees: 20, seed: 3 });
    expect(forest.params.maxSamples).toBe(256);
    const { depth, treeStart, cover } = forest.nodes;
    for (let t = 0; t < 20; t++) {
      expect(depth[t]).toBeLessThanOrEqual(8);
      expect(cover[treeStart[t]!]).toBe(256);
    }
  });

  it('gives the same model bit for bit for the same seed and data, and another for another seed', () => {
    const a = IsolationForest.fit(x, { seed: 42 }).serialize();
    const b = IsolationForest.fit(x, { seed: 42 }).serialize();
    const c = IsolationForest.fit(x, { seed: 43 }).serialize();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('scores outliers near 1 and inliers below 0.5, in (0, 1]', () => {
    const forest = IsolationForest.fit(x, { seed: 1 });
    const scores = forest.scoreBatch(x);
    for (const s of scores) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    const far = forest.scoreOne([8, -8, 8, -8]);
    const centre = forest.scoreOne([0, 0, 0, 0]);
    expect(far).toBeGreaterThan(0.7);
    expect(centre).toBeLessThan(0.5);
    expect(forest.isAnomaly(far)).toBe(true);
    expect(forest.isAnomaly(centre)).toBe(false);
  });

  it.each(['clamp', 'isolate'] as const)(
    'scores one point (%s) with trees walked four at a time as one after another, to the bit',
    (outOfRange) => {
      // 7 trees: one group of four, then three walked alone; uneven depths (maxSamples 50).
      const forest = IsolationForest.fit(x, { seed: 6, trees: 7, maxSamples: 50, outOfRange });
      const { nodes } = forest;
      const test = gaussian(200, 4, 13);
      for (let i = 0; i < test.data.length; i += 5) test.data[i] = test.data[i]! * 8;
      for (let r = 0; r < test.rows; r++) {
        const row = test.data.subarray(r * 4, r * 4 + 4);
        let sum = 0;
        for (let t = 0; t < 7; t++)
          sum +=
            outOfRange === 'isolate'
              ? isolatingPathLength(nodes, nodes.treeStart[t]!, row)
              : isolatingPathLength(
                  { ...nodes, lo: noRange(nodes.lo, -1), hi: noRange(nodes.hi, 1) },
                  nodes.treeStart[t]!,
                  row,
                );
        expect(forest.meanPathLength(row)).toBe(sum / 7);
      }
    },
  );

  it('scores a batch exactly as it scores each point alone (block kernel = single walk)', () => {
    const forest = IsolationForest.fit(x, { seed: 5 });
    const test = gaussian(1037, 4, 9); // not a multiple of the 8-row interleave or the block
    const batch = forest.scoreBatch(test);
    for (let r = 0; r < test.rows; r++) {
      expect(batch[r]).toBe(forest.scoreOne(test.data.subarray(r * 4, r * 4 + 4)));
    }
  });

  describe("outOfRange 'isolate'", () => {
    const clamp = IsolationForest.fit(x, { seed: 3 });
    const isolate = IsolationForest.fit(x, { seed: 3, outOfRange: 'isolate' });

    it('grows the same trees, and scores points inside every range on their path as scikit-learn does', () => {
      expect(Array.from(isolate.nodes.threshold)).toEqual(Array.from(clamp.nodes.threshold));
      // With every row in every tree's sample, each row is inside the ranges along its own path.
      const small = gaussian(200, 4, 12);
      const all = { seed: 4, maxSamples: 200 };
      const plain = IsolationForest.fit(small, all).scoreBatch(small);
      const widened = IsolationForest.fit(small, { ...all, outOfRange: 'isolate' }).scoreBatch(small);
      expect(Array.from(widened)).toEqual(Array.from(plain));
    });

    it('scores a value further beyond anything seen higher, where clamping scores them alike', () => {
      const [near, farther, farthest] = [5, 50, 500].map((v) => [v, 0, 0, 0]);
      expect(clamp.scoreOne(farther!)).toBe(clamp.scoreOne(farthest!));
      expect(isolate.scoreOne(near!)).toBeGreaterThanOrEqual(clamp.scoreOne(near!));
      expect(isolate.scoreOne(farther!)).toBeGreaterThan(isolate.scoreOne(near!));
      expect(isolate.scoreOne(farthest!)).toBeGreaterThan(isolate.scoreOne(farther!));
      // One feature of four: a tree cuts on it within a few levels, not always at the root.
      expect(isolate.scoreOne(farthest!)).toBeGreaterThan(0.65);
      expect(clamp.scoreOne(farthest!)).toBeLessThan(0.6);
    });

    it('scores a batch exactly as it scores each point alone', () => {
      const test = gaussian(303, 4, 10); // not a multiple of the four rows walked side by side
      for (let i = 0; i < test.data.length; i += 7) test.data[i] = test.data[i]! * 6;
      const batch = isolate.scoreBatch(test);
      for (let r = 0; r < test.rows; r++) {
        expect(batch[r]).toBe(isolate.scoreOne(test.data.subarray(r * 4, r * 4 + 4)));
      }
    });

    it('refuses a mode it does not know, naming it', () => {
      expect(() => IsolationForest.fit(x, { outOfRange: 'wrap' as 'clamp' })).toThrow(
        "outOfRange must be 'clamp' or 'isolate', got wrap",
      );
    });
  });

  it('sets the threshold from contamination as the (1 - c) quantile of training scores', () => {
    const forest = IsolationForest.fit(x, { seed: 2, contamination: 0.05 });
    const flagged = forest.scoreBatch(x).filter((s) => forest.isAnomaly(s)).length;
    expect(flagged).toBeGreaterThanOrEqual(95);
    expect(flagged).toBeLessThanOrEqual(100);
    expect(IsolationForest.fit(x, { seed: 2 }).threshold).toBe(0.5);
    expect(IsolationForest.fit(x, { seed: 2, threshold: 0.61 }).threshold).toBe(0.61);
  });

  it('treats constant columns as scikit-learn does: never split on, and all-constant data scores 0.5', () => {
    const withConstant = matrixFromRows(Array.from({ length: 300 }, (_, i) => [7, (i * 37) % 101]));
    const forest = IsolationForest.fit(withConstant, { seed: 1 });
    const { feature, left } = forest.nodes;
    for (let i = 0; i < left.length; i++) if (left[i] !== i) expect(feature[i]).toBe(1);
    const constant = matrixFromRows(Array.from({ length: 50 }, () => [1, 2, 3]));
    const flat = IsolationForest.fit(constant, { seed: 1 });
    expect(Array.from(flat.scoreBatch(constant), (s) => s.toFixed(12))).toEqual(
      Array(50).fill((0.5).toFixed(12)),
    );
  });

  describe('refuses bad input with a typed error that names the problem', () => {
    it.each([
      [
        'empty data',
        () => IsolationForest.fit({ rows: 0, cols: 3, data: new Float64Array(0) }),
        'EMPTY_DATA',
      ],
      ['no columns', () => matrixFromRows([[], []]), 'EMPTY_DATA'],
      ['ragged rows', () => matrixFromRows([[1, 2], [3]]), 'RAGGED_ROWS'],
      ['NaN', () => IsolationForest.fit(matrixFromRows([[1], [NaN]])), 'NON_FINITE'],
      ['Infinity', () => IsolationForest.fit(matrixFromRows([[1], [Infinity]])), 'NON_FINITE'],
      ['a single row', () => IsolationForest.fit(matrixFromRows([[1, 2]])), 'TOO_FEW_ROWS'],
      ['trees = 0', () => IsolationForest.fit(x, { trees: 0 }), 'BAD_OPTION'],
      ['contamination 0.7', () => IsolationForest.fit(x, { contamination: 0.7 }), 'BAD_OPTION'],
      ['threshold 2', () => IsolationForest.fit(x, { threshold: 2 }), 'BAD_OPTION'],
      ['seed -1', () => IsolationForest.fit(x, { seed: -1 }), 'BAD_OPTION'],
    ])('%s', (_name, fn, code) => expectEngineError(fn, code));

    it('mismatched feature counts between fit and score', () => {
      const forest = IsolationForest.fit(x, { trees: 5 });
      expectEngineError(() => forest.scoreBatch(gaussian(3, 5, 1)), 'FEATURE_MISMATCH', /4 features.*5/);
      expectEngineError(() => forest.scoreOne([1, 2]), 'FEATURE_MISMATCH');
    });

    it('NaN at score time names the row and column', () => {
      const forest = IsolationForest.fit(x, { trees: 5 });
      const bad = gaussian(3, 4, 2);
      bad.data[6] = NaN;
      expectEngineError(() => forest.scoreBatch(bad), 'NON_FINITE', /row 1, column 2/);
      expectEngineError(() => forest.scoreOne([0, Infinity, 0, 0]), 'NON_FINITE', /column 1/);
    });
  });

  it('uses all rows when maxSamples exceeds them, and a fraction as a share of rows', () => {
    const small = gaussian(50, 2, 3);
    expect(IsolationForest.fit(small, { maxSamples: 1000 }).params.maxSamples).toBe(50);
    expect(IsolationForest.fit(small, { maxSamples: 0.5 }).params.maxSamples).toBe(25);
  });
});
