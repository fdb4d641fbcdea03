import { EngineError } from '../errors.js';
import type { Matrix } from '../matrix.js';
import { featureNames, normalizeSpec, warmupRows, type FeatureSpec } from './spec.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday; shifting by 3 days makes Monday 00:00 UTC the start of the week. */
const MONDAY_OFFSET_MS = 3 * DAY_MS;

export interface FeatureState {
  /** Last `history` raw values per field, oldest first (after imputation). */
  history: number[][];
  /** Last value seen per field (for causal imputation), NaN before the first. */
  last: number[];
  lastTimeMs: number;
  /**
   * The last positive time step (ms), what a rate divides by when a row's time repeats or steps
   * back. Optional: snapshots from before it existed restore without it.
   */
  lastIntervalMs?: number;
  rowsSeen: number;
  imputed: number;
}

/**
 * Turns raw rows into feature vectors, one row at a time, keeping only the look-back it needs.
 * The same object serves a batch (training) and a stream (live scoring), so both compute the
 * exact same numbers. A missing value (NaN) is replaced by the field's last value and counted;
 * before any value was seen it stays missing and the row is not ready.
 *
 * Rows are taken in the order they come, whatever their times say: real files repeat a time
 * (two writers, a clock that ticks in seconds) and step back (the hour that repeats when daylight
 * saving ends in local time, an NTP step). The look-back (lags, delta, rolling z) is by row, so it
 * is unaffected; time of day and day of week use each row's own clock; a rate divides by the time
 * since the previous row, Δt, and when Δt ≤ 0 by the last positive Δt instead (0 before any), so a
 * repeated time neither divides by zero nor turns a rise into a fall. The callers that read files
 * warn about such rows; the transformer only needs to stay defined.
 */
export class FeatureTransformer {
  readonly spec: Required<FeatureSpec>;
  readonly names: string[];
  readonly warmup: number;
  private state: FeatureState;
  private readonly keep: number;

  constructor(spec: FeatureSpec, state?: FeatureState) {
    this.spec = normalizeSpec(spec);
    this.names = featureNames(this.spec);
    this.warmup = warmupRows(this.spec);
    this.keep = Math.max(this.warmup, 1);
    this.state = state
      ? structuredClone(state)
      : {
          history: this.spec.fields.map(() => []),
          last: this.spec.fields.map(() => Number.NaN),
          lastTimeMs: Number.NaN,
          rowsSeen: 0,
          imputed: 0,
        };
  }

  /** How many missing values were filled in so far. */
  get imputed(): number {
    return this.state.imputed;
  }

  snapshot(): FeatureState {
    return structuredClone(this.state);
  }

  /**
   * Takes the next row (raw field values in spec order, NaN = missing) and its time; returns the
   * feature vector, or undefined while the look-back is not yet full.
   */
  push(values: ArrayLike<number>, timeMs: number, out?: Float64Array): Float64Array | undefined {
    const { spec, state } = this;
    if (values.length !== spec.fields.length) {
      throw new EngineError(
        'FEATURE_MISMATCH',
        `a row has ${values.length} values, the feature spec has ${spec.fields.length} fields`,
      );
    }
    if ((spec.timeOfDay || spec.dayOfWeek || spec.rate) && !Number.isFinite(timeMs)) {
      throw new EngineError('NON_FINITE', 'features: this spec needs a timestamp on every row');
    }
    const current = new Array<number>(spec.fields.length);
    let complete = true;
    for (let f = 0; f < spec.fields.length; f++) {
      let v = values[f]!;
      if (!Number.isFinite(v)) {
        v = state.last[f]!;
        if (Number.isFinite(v)) state.imputed++;
        else complete = false;
      } else {
        state.last[f] = v;
      }
      current[f] = v;
    }
    const stepMs = timeMs - state.lastTimeMs;
    const dtSeconds = (stepMs > 0 ? stepMs : (state.lastIntervalMs ?? 0)) / 1000;
    const ready = complete && state.rowsSeen >= this.warmup;
    let result: Float64Array | undefined;
    if (ready) {
      result = out ?? new Float64Array(this.names.length);
      let k = 0;
      for (let f = 0; f < spec.fields.length; f++) {
        const x = current[f]!;
        const past = state.history[f]!;
        if (spec.raw) result[k++] = x;
        for (let lag = 1; lag < spec.shingle; lag++) result[k++] = past[past.length - lag]!;
        const previous = past[past.length - 1]!;
        if (spec.delta) result[k++] = x - previous;
        if (spec.rate) result[k++] = dtSeconds > 0 ? (x - previous) / dtSeconds : 0;
        if (spec.rollingWindow > 0) result[k++] = rollingZ(past, spec.rollingWindow, x);
      }
      if (spec.timeOfDay) {
        const angle = (2 * Math.PI * (((timeMs % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
        result[k++] = Math.sin(angle);
        result[k++] = Math.cos(angle);
      }
      if (spec.dayOfWeek) {
        const angle =
          (2 * Math.PI * ((((timeMs - MONDAY_OFFSET_MS) % WEEK_MS) + WEEK_MS) % WEEK_MS)) / WEEK_MS;
        result[k++] = Math.sin(angle);
        result[k++] = Math.cos(angle);
      }
    }
    if (complete) {
      for (let f = 0; f < spec.fields.length; f++) {
        const past = state.history[f]!;
        past.push(current[f]!);
        if (past.length > this.keep) past.shift();
      }
      state.rowsSeen++;
    }
    if (stepMs > 0) state.lastIntervalMs = stepMs;
    state.lastTimeMs = timeMs;
    return result;
  }
}

/**
 * z of x against the last `window` values. The spread has a floor (1e-6 of the level, or 1e-9)
 * so a perfectly flat stretch followed by a tiny wobble is not an infinite z.
 */
function rollingZ(past: number[], window: number, x: number): number {
  const n = Math.min(window, past.length);
  let sum = 0;
  for (let i = past.length - n; i < past.length; i++) sum += past[i]!;
  const mean = sum / n;
  let sq = 0;
  for (let i = past.length - n; i < past.length; i++) sq += (past[i]! - mean) ** 2;
  const std = Math.sqrt(sq / Math.max(1, n - 1));
  return (x - mean) / Math.max(std, 1e-6 * Math.abs(mean), 1e-9);
}

export interface FeatureBatch {
  matrix: Matrix;
  names: string[];
  /** For each feature row, the input row it came from (warm-up rows have none). */
  sourceRow: Int32Array;
  imputed: number;
}

/**
 * Transforms a whole batch of raw rows (rows × fields, NaN = missing) with the streaming code.
 * `series`, when given, says which series each row belongs to: rows of several series (a fleet's
 * hosts) may then interleave in time order, and every look-back (delta, rolling window, shingle)
 * stays within its own series, as if each had been transformed alone.
 */
export function transformBatch(
  spec: FeatureSpec,
  raw: Matrix,
  timeMs?: ArrayLike<number>,
  series?: ArrayLike<number>,
): FeatureBatch {
  const first = new FeatureTransformer(spec);
  if (raw.cols !== first.spec.fields.length) {
    throw new EngineError(
      'FEATURE_MISMATCH',
      `data has ${raw.cols} columns, the feature spec has ${first.spec.fields.length} fields`,
    );
  }
  if (series && series.length !== raw.rows)
    throw new EngineError('FEATURE_MISMATCH', `${series.length} series ids for ${raw.rows} rows`);
  const transformers = new Map<number, FeatureTransformer>();
  const transformerOf = (r: number): FeatureTransformer => {
    const id = series ? series[r]! : 0;
    let t = transformers.get(id);
    if (!t) transformers.set(id, (t = transformers.size === 0 ? first : new FeatureTransformer(spec)));
    return t;
  };
  const width = first.names.length;
  const data = new Float64Array(raw.rows * width);
  const sourceRow = new Int32Array(raw.rows);
  let rows = 0;
  for (let r = 0; r < raw.rows; r++) {
    const out = data.subarray(rows * width, (rows + 1) * width);
    const time = timeMs ? timeMs[r]! : r * 1000; // without times, rows are one second apart
    if (transformerOf(r).push(raw.data.subarray(r * raw.cols, (r + 1) * raw.cols), time, out))
      sourceRow[rows++] = r;
  }
  let imputed = 0;
  for (const t of transformers.values()) imputed += t.imputed;
  return {
    matrix: { rows, cols: width, data: data.slice(0, rows * width) },
    names: first.names,
    sourceRow: sourceRow.slice(0, rows),
    imputed,
  };
}
