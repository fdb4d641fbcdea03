import { IsolationForest, type OutOfRange } from '../forest/forest.js';
import { Random } from '../forest/random.js';
import type { Matrix } from '../matrix.js';
import { quantileSorted } from '../stats.js';

/**
 * The mass–volume criterion (Goix 2016, "How to evaluate the quality of unsupervised anomaly
 * detection algorithms?"): for a scoring function s (here: normality = −anomaly score), MV(α) is
 * the volume of the smallest level set {s ≥ u} that holds a share α of the data. A good detector
 * wraps the data tightly, so the area under MV over α ∈ [0.9, 0.999] is small: lower is better.
 *
 * Volumes are estimated by Monte Carlo with uniform points in the data's bounding box. In more
 * than a few dimensions almost no uniform point falls in any level set, so, as Goix proposes, the
 * criterion is averaged over random subsets of `subsetSize` features, each with its own model.
 */
export interface MassVolumeOptions {
  trees: number;
  maxSamples: number | 'auto';
  seed: number;
  /** How the forests score beyond their ranges; the model being chosen should be judged as it will score. */
  outOfRange?: OutOfRange;
  subsets?: number;
  subsetSize?: number;
  uniformPoints?: number;
}

function columns(x: Matrix, picked: number[]): Matrix {
  const data = new Float64Array(x.rows * picked.length);
  for (let r = 0; r < x.rows; r++)
    for (let k = 0; k < picked.length; k++) data[r * picked.length + k] = x.data[r * x.cols + picked[k]!]!;
  return { rows: x.rows, cols: picked.length, data };
}

/** Area under the mass–volume curve for α in [0.9, 0.999] (relative to the box volume; lower is better). */
export function massVolumeArea(train: Matrix, evaluate: Matrix, options: MassVolumeOptions): number {
  const rng = new Random(options.seed ^ 0x5bd1e995);
  const subsets = train.cols <= (options.subsetSize ?? 5) ? 1 : (options.subsets ?? 10);
  const size = Math.min(train.cols, options.subsetSize ?? 5);
  const uniformPoints = options.uniformPoints ?? 4000;
  const alphas = Array.from({ length: 50 }, (_, i) => 0.9 + (0.099 * i) / 49);
  let total = 0;
  for (let s = 0; s < subsets; s++) {
    const all = Array.from({ length: train.cols }, (_, i) => i);
    for (let i = 0; i < size; i++) {
      const j = i + rng.int(all.length - i);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const picked = all.slice(0, size).sort((a, b) => a - b);
    const sub = columns(train, picked);
    const forest = IsolationForest.fit(sub, {
      trees: options.trees,
      maxSamples: options.maxSamples,
      outOfRange: options.outOfRange ?? 'clamp',
      seed: options.seed + s,
    });
    const data = columns(evaluate, picked);
    const normality = Float64Array.from(forest.scoreBatch(data), (v) => -v).sort();
    // Uniform points in the bounding box of the evaluated data.
    const lo = new Float64Array(size).fill(Infinity);
    const hi = new Float64Array(size).fill(-Infinity);
    for (let r = 0; r < data.rows; r++) {
      for (let c = 0; c < size; c++) {
        const v = data.data[r * size + c]!;
        lo[c] = Math.min(lo[c]!, v);
        hi[c] = Math.max(hi[c]!, v);
      }
    }
    const uniform = new Float64Array(uniformPoints * size);
    for (let i = 0; i < uniformPoints; i++)
      for (let c = 0; c < size; c++)
        uniform[i * size + c] = rng.uniform(lo[c]!, hi[c]! > lo[c]! ? hi[c]! : lo[c]! + 1);
    const uniformNormality = Float64Array.from(
      forest.scoreBatch({ rows: uniformPoints, cols: size, data: uniform }),
      (v) => -v,
    ).sort();
    // MV(α): the level u holding a share α of the data is its (1 − α) quantile; the volume is the
    // share of uniform points at or above u.
    let area = 0;
    let previous: number | undefined;
    for (const alpha of alphas) {
      const u = quantileSorted(normality, 1 - alpha);
      let above = uniformNormality.length;
      let lo2 = 0;
      let hi2 = uniformNormality.length;
      while (lo2 < hi2) {
        const mid = (lo2 + hi2) >>> 1;
        if (uniformNormality[mid]! < u) lo2 = mid + 1;
        else hi2 = mid;
      }
      above -= lo2;
      const volume = above / uniformNormality.length;
      if (previous !== undefined) area += ((previous + volume) / 2) * (0.099 / 49);
      previous = volume;
    }
    total += area;
  }
  return total / subsets;
}
