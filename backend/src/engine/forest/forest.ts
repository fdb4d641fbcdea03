import { EngineError } from '../errors.js';
import { checkedMatrix, type Matrix } from '../matrix.js';
import { quantileSorted } from '../stats.js';
import { deserializeForest, serializeForest } from './format.js';
import { growTree, NodeBuffer } from './grow.js';
import { averagePathLength } from './path-length.js';
import { Random } from './random.js';
import {
  addIsolatingPathLengths,
  addPathLengths,
  BLOCK_ROWS,
  isolatingPathLengthSum,
  pathLengthSum,
} from './score-kernel.js';
import type { TreeArrays } from './tree-arrays.js';

export interface ForestOptions {
  /** Number of trees (scikit-learn's n_estimators). Default 100. */
  trees?: number;
  /** Points drawn (without replacement) to grow each tree. 'auto' = min(256, rows). */
  maxSamples?: number | 'auto';
  /**
   * Expected share of anomalies in the training data, in (0, 0.5]: the threshold becomes the
   * (1 - contamination) quantile of the training scores. 'auto' (default) = the paper's 0.5.
   */
  contamination?: number | 'auto';
  /** A score threshold in (0, 1], set directly; overrides contamination. */
  threshold?: number;
  /** Seed of the PRNG: the same seed and data give the same forest, bit for bit. Default 0. */
  seed?: number;
  /**
   * How a point beyond the values a node saw in training is scored. 'clamp' (default, as
   * scikit-learn): it follows the split like the most extreme training point, so a value ten times
   * anything seen scores no higher than that point. 'isolate': it is cut off at that node with the
   * probability a split drawn over the range widened to include it would have cut it off alone,
   * so the further out, the higher the score (see isolatingPathLength). Points inside every range
   * score the same either way. For data scored after training (streams, live metrics), where new
   * extremes are what matter; scoring the training data itself, keep 'clamp'.
   */
  outOfRange?: OutOfRange;
}

export type OutOfRange = 'clamp' | 'isolate';

/** What a fitted forest was built with; stored in its serialized form. */
export interface ForestParams {
  readonly trees: number;
  readonly maxSamples: number;
  readonly nFeatures: number;
  readonly seed: number;
  readonly contamination: number | 'auto';
  readonly outOfRange: OutOfRange;
}

/**
 * An isolation forest (Liu, Ting & Zhou 2008) with scikit-learn's semantics.
 *
 * Each tree isolates points by random axis-parallel splits, grown on `maxSamples` points drawn
 * without replacement, to a depth limit of ceil(log2(maxSamples)). Anomalies are few and
 * different, so they are isolated near the root: a short path h(x). The score normalises the
 * mean path length over trees by c(maxSamples), the mean path length of an unsuccessful search
 * in a binary search tree of that size:
 *
 *     s(x) = 2^(-E[h(x)] / c(maxSamples))   in (0, 1]
 *
 * E[h] → 0 gives s → 1 (anomalous); E[h] = c gives 0.5; deep paths give s < 0.5 (normal).
 * scikit-learn's `score_samples` returns -s(x).
 */
export class IsolationForest {
  private constructor(
    readonly params: ForestParams,
    /** Scores strictly above this are anomalies. */
    readonly threshold: number,
    /** The nodes, read by the explainer and the serializer. Do not mutate. */
    readonly nodes: TreeArrays,
  ) {}

  get nFeatures(): number {
    return this.params.nFeatures;
  }

  static fit(x: Matrix, options: ForestOptions = {}): IsolationForest {
    checkedMatrix(x);
    const trees = integerOption('trees', options.trees ?? 100, 1, 100_000);
    const seed = integerOption('seed', options.seed ?? 0, 0, 0xffffffff);
    const maxSamples = resolveMaxSamples(options.maxSamples ?? 'auto', x.rows);
    if (maxSamples < 2) {
      throw new EngineError(
        'TOO_FEW_ROWS',
        `a forest needs at least 2 training rows (got ${x.rows}): one point cannot define what is normal`,
      );
    }
    const contamination = resolveContamination(options.contamination ?? 'auto');
    const outOfRange = options.outOfRange ?? 'clamp';
    if (outOfRange !== 'clamp' && outOfRange !== 'isolate') {
      throw new EngineError(
        'BAD_OPTION',
        `outOfRange must be 'clamp' or 'isolate', got ${String(outOfRange)}`,
        {
          option: 'outOfRange',
        },
      );
    }
    if (options.threshold !== undefined) thresholdOption(options.threshold);

    const depthLimit = Math.ceil(Math.log2(maxSamples));
    const rng = new Random(seed);
    const buffer = new NodeBuffer(trees * (2 * maxSamples - 1));
    const treeStart = new Int32Array(trees + 1);
    const depth = new Int32Array(trees);
    // Partial Fisher–Yates on a persistent permutation: each tree's first `maxSamples` entries are
    // a uniform draw without replacement whatever order the previous trees left behind.
    const perm = new Int32Array(x.rows);
    for (let i = 0; i < perm.length; i++) perm[i] = i;
    const sample = new Int32Array(maxSamples);
    for (let t = 0; t < trees; t++) {
      for (let i = 0; i < maxSamples; i++) {
        const j = i + rng.int(x.rows - i);
        const v = perm[j]!;
        perm[j] = perm[i]!;
        perm[i] = v;
        sample[i] = v;
      }
      treeStart[t] = buffer.size;
      depth[t] = growTree(x, sample, depthLimit, rng, buffer);
    }
    treeStart[trees] = buffer.size;

    const params: ForestParams = { trees, maxSamples, nFeatures: x.cols, seed, contamination, outOfRange };
    const unthresholded = new IsolationForest(params, 0.5, buffer.toArrays(treeStart, depth));
    if (options.threshold !== undefined) return unthresholded.withThreshold(options.threshold);
    if (contamination === 'auto') return unthresholded;
    // As scikit-learn: the threshold is the training scores' (1 - contamination) quantile.
    const scores = unthresholded.scoreBatch(x).sort();
    return unthresholded.withThreshold(quantileSorted(scores, 1 - contamination));
  }

  /** Rebuilds a forest from its parts (the deserializer's door in). */
  static fromParts(params: ForestParams, threshold: number, nodes: TreeArrays): IsolationForest {
    return new IsolationForest(params, threshold, nodes);
  }

  /** The forest in Isoscope's versioned binary format (see format.ts); the round trip is bit-exact. */
  serialize(): Uint8Array {
    return serializeForest(this);
  }

  /** Reads a forest back; a truncated, corrupted or newer-version blob is refused with an EngineError. */
  static deserialize(bytes: Uint8Array): IsolationForest {
    return deserializeForest(bytes);
  }

  /** Trees from…to−1 as a forest of their own, with this one's parameters and threshold. */
  treeRange(from: number, to: number): IsolationForest {
    const { nodes } = this;
    if (!(
      Number.isInteger(from) &&
      Number.isInteger(to) &&
      from >= 0 &&
      to > from &&
      to <= this.params.trees
    ))
      throw new EngineError(
        'BAD_OPTION',
        `trees ${from}…${to} are not a range of this forest's ${this.params.trees}`,
      );
    const first = nodes.treeStart[from]!;
    const end = nodes.treeStart[to]!;
    // Child indices are absolute: they move with the nodes.
    const left = nodes.left.slice(first, end);
    for (let i = 0; i < left.length; i++) left[i] = left[i]! - first;
    const treeStart = nodes.treeStart.slice(from, to + 1);
    for (let t = 0; t < treeStart.length; t++) treeStart[t] = treeStart[t]! - first;
    return new IsolationForest({ ...this.params, trees: to - from }, this.threshold, {
      feature: nodes.feature.slice(first, end),
      threshold: nodes.threshold.slice(first, end),
      left,
      cover: nodes.cover.slice(first, end),
      value: nodes.value.slice(first, end),
      lo: nodes.lo.slice(first, end),
      hi: nodes.hi.slice(first, end),
      treeStart,
      depth: nodes.depth.slice(from, to),
    });
  }

  /** The same trees with another threshold (sensitivity tuning does not regrow the forest). */
  withThreshold(threshold: number): IsolationForest {
    return new IsolationForest(this.params, thresholdOption(threshold), this.nodes);
  }

  isAnomaly(score: number): boolean {
    return score > this.threshold;
  }

  /** c(maxSamples): the path length that scores 0.5. */
  get normalizer(): number {
    return averagePathLength(this.params.maxSamples);
  }

  /** Scores every row of `x` into `out` (allocated when absent). Rows are validated first. */
  scoreBatch(x: Matrix, out: Float64Array = new Float64Array(x.rows)): Float64Array {
    this.pathLengthSums(x, out);
    const denominator = this.params.trees * this.normalizer;
    for (let r = 0; r < x.rows; r++) out[r] = Math.pow(2, -out[r]! / denominator);
    return out;
  }

  /**
   * Σ_t h_t(x) of every row of `x` into `out` (allocated when absent): the path lengths summed over
   * the trees, before the score's normalisation, so that forests grown apart can be scored as one
   * (a stream's rolling forest). The same number to the bit as pathLengthTotal on each row.
   */
  pathLengthSums(x: Matrix, out: Float64Array = new Float64Array(x.rows)): Float64Array {
    checkedMatrix(x);
    this.checkFeatureCount(x.cols);
    if (out.length < x.rows)
      throw new EngineError('BAD_OPTION', `out has ${out.length} slots for ${x.rows} rows`);
    const acc = new Float64Array(Math.min(BLOCK_ROWS, x.rows));
    const add = this.params.outOfRange === 'isolate' ? addIsolatingPathLengths : addPathLengths;
    for (let start = 0; start < x.rows; start += BLOCK_ROWS) {
      const end = Math.min(start + BLOCK_ROWS, x.rows);
      acc.fill(0);
      add(this.nodes, x.data, x.cols, start, end, acc);
      for (let r = start; r < end; r++) out[r] = acc[r - start]!;
    }
    return out;
  }

  /** Scores one point; for streams, where there is no batch to amortise over. */
  scoreOne(row: ArrayLike<number>): number {
    return Math.pow(2, -this.pathLengthTotal(row) / (this.params.trees * this.normalizer));
  }

  /** Σ_t h_t(x) for one point (see pathLengthSums). */
  pathLengthTotal(row: ArrayLike<number>): number {
    this.checkFeatureCount(row.length);
    for (let c = 0; c < row.length; c++) {
      const v = row[c]!;
      if (v - v !== 0) {
        throw new EngineError('NON_FINITE', `column ${c} is ${v}: every value must be a finite number`, {
          column: c,
        });
      }
    }
    return this.pathLengthSum(row);
  }

  private pathLengthSum(row: ArrayLike<number>): number {
    return this.params.outOfRange === 'isolate'
      ? isolatingPathLengthSum(this.nodes, row)
      : pathLengthSum(this.nodes, row);
  }

  /** E[h(x)] for one point: the mean path length over trees (what the explanation decomposes). */
  meanPathLength(row: ArrayLike<number>): number {
    this.checkFeatureCount(row.length);
    return this.pathLengthSum(row) / this.params.trees;
  }

  private checkFeatureCount(cols: number): void {
    if (cols !== this.params.nFeatures) {
      throw new EngineError(
        'FEATURE_MISMATCH',
        `the forest was fitted on ${this.params.nFeatures} features, got rows with ${cols}`,
      );
    }
  }
}

function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EngineError('BAD_OPTION', `${name} must be an integer in [${min}, ${max}], got ${value}`, {
      option: name,
    });
  }
  return value;
}

function resolveMaxSamples(value: number | 'auto', rows: number): number {
  if (value === 'auto') return Math.min(256, rows);
  // As scikit-learn: a fraction in (0, 1) is a share of the rows; more than there are means all.
  if (typeof value === 'number' && value > 0 && value < 1) return Math.max(1, Math.floor(value * rows));
  return Math.min(integerOption('maxSamples', value, 1, 2 ** 31 - 1), rows);
}

function resolveContamination(value: number | 'auto'): number | 'auto' {
  if (value === 'auto') return value;
  if (typeof value !== 'number' || !(value > 0 && value <= 0.5)) {
    throw new EngineError(
      'BAD_OPTION',
      `contamination must be 'auto' or a number in (0, 0.5], got ${value}`,
      {
        option: 'contamination',
      },
    );
  }
  return value;
}

function thresholdOption(value: number): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new EngineError('BAD_OPTION', `threshold must be a score in (0, 1], got ${value}`, {
      option: 'threshold',
    });
  }
  return value;
}
