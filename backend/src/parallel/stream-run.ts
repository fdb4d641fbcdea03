/**
 * One stream run over a series: a fresh StreamingDetector takes every row with from ≤ time < to,
 * in the series' order, exactly as the service feeds it. It is the CPU-heavy part of a
 * training job (the forests the stream trains as it goes), so it runs here, where it can run on a
 * worker thread (train-worker.ts) or on the calling thread, with the same code and so the same bits.
 */
import { StreamingDetector, type StreamOptions, type StreamResult } from '../engine/index.js';

export interface StreamTask {
  options: StreamOptions;
  /** The series: times, and per field its values (NaN = missing), as the source reader gives them. */
  timeMs: Float64Array;
  values: Float64Array[];
  from: number;
  to: number;
}

export interface StreamRun {
  /** One result per row taken, and that row's time. */
  results: StreamResult[];
  times: Float64Array;
  /** The detector's snapshot after the last row (JSON text, as the registry stores it). */
  snapshot: string;
  /** The options the detector resolved (defaults filled in), for the version's parameters. */
  options: Required<StreamOptions>;
}

/** Rows between two progress reports (and, in a worker, chances to be stopped). */
export const STREAM_BLOCK = 2048;

export function runStream(
  task: StreamTask,
  onRows: (done: number, total: number) => void = () => undefined,
): StreamRun {
  const detector = new StreamingDetector(task.options);
  const cols = task.values.length;
  const picked: number[] = [];
  for (let i = 0; i < task.timeMs.length; i++) {
    const t = task.timeMs[i]!;
    if (t >= task.from && t < task.to) picked.push(i);
  }
  const results: StreamResult[] = [];
  const times = new Float64Array(picked.length);
  // A block at a time through pushMany (the same results as row by row, faster), reporting between.
  const values = new Float64Array(STREAM_BLOCK * cols);
  for (let start = 0; start < picked.length; start += STREAM_BLOCK) {
    const n = Math.min(STREAM_BLOCK, picked.length - start);
    for (let k = 0; k < n; k++) {
      const i = picked[start + k]!;
      times[start + k] = task.timeMs[i]!;
      for (let c = 0; c < cols; c++) values[k * cols + c] = task.values[c]![i]!;
    }
    detector.pushMany(values.subarray(0, n * cols), times.subarray(start, start + n), results);
    if (n === STREAM_BLOCK) onRows(start + n, picked.length);
  }
  return {
    results,
    times,
    snapshot: JSON.stringify(detector.snapshot()),
    options: detector.options,
  };
}

/** What a detector gave for a series' rows in [from, to): one result per row, and its time. */
export interface StreamPush {
  results: StreamResult[];
  times: Float64Array;
}

/**
 * Pushes a series' rows with from ≤ time < to, in the series' order, through one pushMany (the
 * rows between two possible retrains scored in one batch: the same results as one row at a time).
 * Rows are the raw field values in the spec's order (NaN = missing), as the source reader gives
 * them. The service's live scoring and backfills run it, on a worker (stream-session.ts) or here.
 */
export function pushSeries(
  detector: StreamingDetector,
  timeMs: Float64Array,
  values: Float64Array[],
  from: number,
  to: number,
): StreamPush {
  const cols = values.length;
  const picked: number[] = [];
  for (let i = 0; i < timeMs.length; i++) {
    const t = timeMs[i]!;
    if (t >= from && t < to) picked.push(i);
  }
  const rows = new Float64Array(picked.length * cols);
  const times = new Float64Array(picked.length);
  picked.forEach((i, r) => {
    times[r] = timeMs[i]!;
    for (let c = 0; c < cols; c++) rows[r * cols + c] = values[c]![i]!;
  });
  return { results: detector.pushMany(rows, times), times };
}
