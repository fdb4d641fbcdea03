import { EngineError } from '../errors.js';
import { averagePrecision, bestF1, eventRecall, pointMetrics, rocAuc } from '../evaluate/metrics.js';
import { transformBatch, type FeatureBatch } from '../features/transform.js';
import { normalizeSpec, type FeatureSpec } from '../features/spec.js';
import { IsolationForest, type ForestParams, type OutOfRange } from '../forest/forest.js';
import { Random } from '../forest/random.js';
import type { Matrix } from '../matrix.js';
import { quantileSorted } from '../stats.js';
import { validateData, type ValidationReport } from '../validate/checks.js';
import { massVolumeArea } from './mass-volume.js';

export interface TrainInput {
  /** Raw rows × fields (NaN = missing), in time order. */
  raw: Matrix;
  timeMs?: Float64Array;
  /** 0/1 per row, when known: the grid search then maximises F1 on the validation part. */
  labels?: Uint8Array;
  /**
   * Which series each row belongs to, when the rows interleave several in time order (one model
   * for a fleet of alike hosts): look-back features stay within each series, and the split stays
   * by time, so the test part is every series' latest stretch.
   */
  series?: Int32Array;
}

export interface Grid {
  contamination: number[];
  trees: number[];
  maxSamples: Array<number | 'auto'>;
  shingle: number[];
}

export interface TrainOptions {
  features: FeatureSpec;
  grid?: Partial<Grid>;
  seed?: number;
  /**
   * How the model scores values beyond its training ranges (ForestOptions.outOfRange). Default
   * 'isolate': a model is trained to score data that comes after, where a value beyond anything
   * in training is the first thing an operator wants to see. On SMD and ASD it lifts a batch
   * forest's PR-AUC on every machine (docs/pipeline.md).
   */
  outOfRange?: OutOfRange;
  onProgress?: (done: number, total: number) => void;
}

export interface GridRow {
  trees: number;
  maxSamples: number | 'auto';
  shingle: number;
  contamination: number;
  /** F1 on the validation part (with labels), or the mass–volume area (without; lower is better). */
  value: number;
}

export interface TestMetrics {
  rows: number;
  flaggedShare: number;
  rocAuc?: number;
  prAuc?: number;
  bestF1?: number;
  precision?: number;
  recall?: number;
  f1?: number;
  incidentsFound?: string;
  massVolume?: number;
}

export interface RobustnessRow {
  scenario: 'gaussian-noise' | 'missing-values' | 'injected-outliers' | 'distribution-shift';
  strength: number;
  rocAuc: number;
  prAuc: number;
  f1: number;
}

/** Everything a trained model is, in one JSON-safe object: what the registry stores. */
export interface ModelBundle {
  format: 'isoscope-model';
  version: 1;
  features: Required<FeatureSpec>;
  featureNames: string[];
  params: ForestParams;
  threshold: number;
  /** The forest in the ISOF binary format, base64. */
  model: string;
  seed: number;
  criterion: 'f1' | 'mass-volume';
  grid: GridRow[];
  chosen: GridRow;
  /** Row ranges [start, end) of the raw input. */
  split: { train: [number, number]; validation: [number, number]; test: [number, number] };
  test: TestMetrics;
  /** Per feature: 101 quantiles and an evenly spaced sample of training values, for drift tests and the explanation view. */
  reference: Array<{ feature: string; quantiles: number[]; sample: number[] }>;
  validation: ValidationReport;
  robustness?: RobustnessRow[];
}

export const DEFAULT_GRID: Grid = {
  contamination: [0.005, 0.01, 0.02, 0.05],
  trees: [100, 200],
  maxSamples: ['auto', 512],
  shingle: [1],
};

const SPLIT = [0.7, 0.85] as const;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Feature rows whose source row lies in [from, to). */
function slice(batch: FeatureBatch, from: number, to: number): { x: Matrix; rows: Int32Array } {
  let a = 0;
  while (a < batch.sourceRow.length && batch.sourceRow[a]! < from) a++;
  let b = a;
  while (b < batch.sourceRow.length && batch.sourceRow[b]! < to) b++;
  const w = batch.matrix.cols;
  return {
    x: { rows: b - a, cols: w, data: batch.matrix.data.subarray(a * w, b * w) },
    rows: batch.sourceRow.subarray(a, b),
  };
}

function labelsOf(labels: Uint8Array, rows: Int32Array): Uint8Array {
  return Uint8Array.from(rows, (r) => labels[r]!);
}

function evaluate(
  forest: IsolationForest,
  x: Matrix,
  labels: Uint8Array | undefined,
  mv: () => number,
): TestMetrics {
  const scores = forest.scoreBatch(x);
  const flags = Array.from(scores, (s): number => (forest.isAnomaly(s) ? 1 : 0));
  const flaggedShare = flags.reduce((s, v) => s + v, 0) / Math.max(1, x.rows);
  if (!labels || !labels.includes(1) || !labels.includes(0))
    return { rows: x.rows, flaggedShare, massVolume: mv() };
  const m = pointMetrics(flags, labels);
  const e = eventRecall(flags, labels);
  return {
    rows: x.rows,
    flaggedShare,
    rocAuc: rocAuc(scores, labels),
    prAuc: averagePrecision(scores, labels),
    bestF1: bestF1(scores, labels).f1,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    incidentsFound: `${e.found}/${e.events.length}`,
  };
}

/**
 * The training pipeline: a chronological 70 / 15 / 15 split (never shuffled: the future must not
 * leak into the past), a grid search on the validation part (F1 when labels exist, otherwise the
 * mass–volume criterion, which cannot pick a contamination: that stays at 0.01), a final model on
 * train + validation, and metrics on the untouched test part.
 */
export function trainPipeline(input: TrainInput, options: TrainOptions): ModelBundle {
  const spec = normalizeSpec(options.features);
  const n = input.raw.rows;
  if (n < 30)
    throw new EngineError('TOO_FEW_ROWS', `training needs at least 30 rows for a 70/15/15 split, got ${n}`);
  if (input.labels && input.labels.length !== n)
    throw new EngineError('FEATURE_MISMATCH', `${input.labels.length} labels for ${n} rows`);
  const seed = options.seed ?? 0;
  const outOfRange = options.outOfRange ?? 'isolate';
  const trainEnd = Math.floor(SPLIT[0] * n);
  const validationEnd = Math.floor(SPLIT[1] * n);
  const labelled = input.labels !== undefined && input.labels.includes(1);
  const criterion: ModelBundle['criterion'] = labelled ? 'f1' : 'mass-volume';
  const grid: Grid = {
    ...DEFAULT_GRID,
    ...(spec.shingle > 1 ? { shingle: [spec.shingle] } : {}),
    ...options.grid,
  };
  const contaminations = criterion === 'f1' ? grid.contamination : [0.01];
  const total = grid.shingle.length * grid.trees.length * grid.maxSamples.length * contaminations.length;

  const batches = new Map<number, FeatureBatch>();
  const featuresFor = (shingle: number): FeatureBatch => {
    if (!batches.has(shingle))
      batches.set(shingle, transformBatch({ ...spec, shingle }, input.raw, input.timeMs, input.series));
    return batches.get(shingle)!;
  };

  const rows: GridRow[] = [];
  let done = 0;
  for (const shingle of grid.shingle) {
    const batch = featuresFor(shingle);
    const train = slice(batch, 0, trainEnd).x;
    const validation = slice(batch, trainEnd, validationEnd);
    if (train.rows < 2 || validation.x.rows < 1)
      throw new EngineError('TOO_FEW_ROWS', 'too few rows left after the feature warm-up for a split');
    for (const trees of grid.trees) {
      for (const maxSamples of grid.maxSamples) {
        if (criterion === 'mass-volume') {
          const value = massVolumeArea(train, validation.x, { trees, maxSamples, seed, outOfRange });
          rows.push({ trees, maxSamples, shingle, contamination: 0.01, value });
          options.onProgress?.(++done, total);
          continue;
        }
        const base = IsolationForest.fit(train, { trees, maxSamples, seed, outOfRange });
        const trainScores = base.scoreBatch(train).sort();
        const validationScores = base.scoreBatch(validation.x);
        const labels = labelsOf(input.labels!, validation.rows);
        for (const contamination of contaminations) {
          const threshold = quantileSorted(trainScores, 1 - contamination);
          const f1 = pointMetrics(
            Array.from(validationScores, (s) => (s > threshold ? 1 : 0)),
            labels,
          ).f1;
          rows.push({ trees, maxSamples, shingle, contamination, value: f1 });
          options.onProgress?.(++done, total);
        }
      }
    }
  }
  // Best value; ties go to the simpler model (fewer trees, smaller samples, shorter shingles): the grid order.
  const chosen = rows.reduce((best, row) =>
    (criterion === 'f1' ? row.value > best.value : row.value < best.value) ? row : best,
  );

  const batch = featuresFor(chosen.shingle);
  const fitPart = slice(batch, 0, validationEnd).x;
  const test = slice(batch, validationEnd, n);
  const forest = IsolationForest.fit(fitPart, {
    trees: chosen.trees,
    maxSamples: chosen.maxSamples,
    contamination: chosen.contamination,
    outOfRange,
    seed,
  });
  const testLabels = input.labels ? labelsOf(input.labels, test.rows) : undefined;
  const testMetrics = evaluate(forest, test.x, testLabels, () =>
    massVolumeArea(fitPart, test.x, {
      trees: chosen.trees,
      maxSamples: chosen.maxSamples,
      seed,
      outOfRange,
    }),
  );

  const names = batch.names;
  const reference = names.map((feature, c) => {
    const column = Float64Array.from({ length: fitPart.rows }, (_, r) => fitPart.data[r * fitPart.cols + c]!);
    const sorted = Float64Array.from(column).sort();
    const step = Math.max(1, Math.floor(column.length / 2000));
    const sample: number[] = [];
    for (let r = 0; r < column.length; r += step) sample.push(column[r]!);
    return {
      feature,
      quantiles: Array.from({ length: 101 }, (_, q) => quantileSorted(sorted, q / 100)),
      sample,
    };
  });
  const fitColumns = names.map((_, c) =>
    Float64Array.from({ length: fitPart.rows }, (_, r) => fitPart.data[r * fitPart.cols + c]!),
  );
  const validation = validateData({ columns: names, values: fitColumns });

  const bundle: ModelBundle = {
    format: 'isoscope-model',
    version: 1,
    features: { ...spec, shingle: chosen.shingle },
    featureNames: names,
    params: forest.params,
    threshold: forest.threshold,
    model: toBase64(forest.serialize()),
    seed,
    criterion,
    grid: rows,
    chosen,
    split: { train: [0, trainEnd], validation: [trainEnd, validationEnd], test: [validationEnd, n] },
    test: testMetrics,
    reference,
    validation,
  };
  if (testLabels && testLabels.includes(1) && testLabels.includes(0)) {
    bundle.robustness = robustness(input, { ...spec, shingle: chosen.shingle }, forest, validationEnd, seed);
  }
  return bundle;
}

/**
 * How the test metrics move when the test part is perturbed: gaussian noise (σ = k × the column's
 * σ), missing values (a share of cells blanked, then filled causally), injected outliers (a share
 * of cells moved by 5 σ), distribution shift (every column moved by k σ), three strengths each.
 */
export function robustness(
  input: TrainInput,
  spec: Required<FeatureSpec>,
  forest: IsolationForest,
  testStart: number,
  seed: number,
): RobustnessRow[] {
  const { rows, cols, data } = input.raw;
  const sd = Array.from({ length: cols }, (_, c) => {
    const v = Float64Array.from({ length: testStart }, (_, r) => data[r * cols + c]!).filter(Number.isFinite);
    const m = v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
    return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, v.length - 1)) || 1;
  });
  const scenarios: Array<
    [RobustnessRow['scenario'], number[], (v: number, c: number, rng: Random, k: number) => number]
  > = [
    ['gaussian-noise', [0.1, 0.3, 1], (v, c, rng, k) => v + k * sd[c]! * rng.normal()],
    ['missing-values', [0.05, 0.2, 0.5], (v, _c, rng, k) => (rng.next() < k ? Number.NaN : v)],
    ['injected-outliers', [0.01, 0.05, 0.1], (v, c, rng, k) => (rng.next() < k ? v + 5 * sd[c]! : v)],
    ['distribution-shift', [0.5, 1, 2], (v, c, _rng, k) => v + k * sd[c]!],
  ];
  const out: RobustnessRow[] = [];
  for (const [scenario, strengths, perturb] of scenarios) {
    for (const strength of strengths) {
      const rng = new Random(seed + 17);
      const perturbed = Float64Array.from(data);
      for (let r = testStart; r < rows; r++) {
        for (let c = 0; c < cols; c++)
          perturbed[r * cols + c] = perturb(data[r * cols + c]!, c, rng, strength);
      }
      const batch = transformBatch(spec, { rows, cols, data: perturbed }, input.timeMs, input.series);
      const test = slice(batch, testStart, rows);
      const labels = labelsOf(input.labels!, test.rows);
      const scores = forest.scoreBatch(test.x);
      const flags = Array.from(scores, (s) => (forest.isAnomaly(s) ? 1 : 0));
      out.push({
        scenario,
        strength,
        rocAuc: rocAuc(scores, labels),
        prAuc: averagePrecision(scores, labels),
        f1: pointMetrics(flags, labels).f1,
      });
    }
  }
  return out;
}
