/**
 * One stored result explained by the runtime that produced it: a StreamingDetector restored from a
 * version's checkpoint (or started fresh with its options) takes the entity's rows from the
 * checkpoint's end up to the asked row, exactly as live scoring fed them (service == replay, to
 * the bit), and pushExplained explains that row with the forests that scored it. The CPU-heavy
 * part of an explanation (restoring the snapshot, scoring up to days of rows), so it runs here,
 * on a worker thread (explain-worker.ts) or on the calling thread, with the same code and bits.
 */
import {
  StreamingDetector,
  type RowExplanation,
  type StreamResult,
  type StreamSnapshot,
} from '../engine/index.js';
import { keptWorker } from './kept-worker.js';
import type { SessionStart } from './stream-session.js';
import { pushSeries } from './stream-run.js';

export interface ExplainTask {
  start: SessionStart;
  /** The entity's series (times, per field its values, NaN = missing), as the source reader gives it. */
  timeMs: Float64Array;
  values: Float64Array[];
  /** Rows with from ≤ time < at are replayed, then the first row at `at` is explained. */
  from: number;
  at: number;
}

export interface ExplainRun {
  /** Whether the series has a row at `at` (without it there is nothing to explain). */
  found: boolean;
  /** Rows replayed before the explained one. */
  replayed: number;
  result?: StreamResult;
  /** Undefined while the detector was still warming up. */
  explanation?: RowExplanation;
  /** The time of the row explained (see RowExplanation.rowsBack), when the replay saw it. */
  explainedTimeMs?: number;
  /** The snapshot format the detector was restored from (4: a release before the rolling forests). */
  snapshotFormat?: number;
}

export function replayExplain(task: ExplainTask): ExplainRun {
  let detector: StreamingDetector;
  let snapshotFormat: number | undefined;
  if ('snapshot' in task.start) {
    const snapshot = JSON.parse(task.start.snapshot) as StreamSnapshot;
    snapshotFormat = snapshot.format;
    detector = StreamingDetector.restore(snapshot);
  } else detector = new StreamingDetector(task.start.options);
  const row = task.timeMs.findIndex((t) => t === task.at);
  const format = snapshotFormat !== undefined ? { snapshotFormat } : {};
  if (row < 0) return { found: false, replayed: 0, ...format };
  const pushed = pushSeries(detector, task.timeMs, task.values, task.from, task.at);
  const { result, explanation } = detector.pushExplained(
    task.values.map((v) => v[row]!),
    task.at,
  );
  // rowsBack counts scored rows (a model and a full look-back: a threshold), newest last.
  const scored: number[] = [];
  pushed.results.forEach((r, i) => {
    if (r.modelVersion > 0 && r.threshold > 0) scored.push(pushed.times[i]!);
  });
  scored.push(task.at);
  const explainedTimeMs = explanation ? scored[scored.length - 1 - explanation.rowsBack] : undefined;
  return {
    found: true,
    replayed: pushed.times.length,
    result,
    ...(explanation ? { explanation } : {}),
    ...(explainedTimeMs !== undefined ? { explainedTimeMs } : {}),
    ...format,
  };
}

/** Explanations on a worker thread: `run` as replayExplain, `close` stops the worker. */
export interface ExplainWorker {
  run(task: ExplainTask): Promise<ExplainRun>;
  close(): Promise<void>;
}

/**
 * replayExplain on one worker thread kept between explanations (kept-worker.ts), so restoring a
 * detector and replaying days of rows never holds the API's event loop, and each explanation finds
 * the engine loaded and compiled (a fresh worker per request spent more on starting and warming up
 * than on the replay: docs/api.md). Requests are answered one at a time, in order: a burst of
 * explanations queues here instead of taking every core from scoring. The same run as on the
 * calling thread, to the bit (structured clone copies numbers exactly).
 */
export function explainWorker(): ExplainWorker {
  const worker = keptWorker<{ task: ExplainTask }>('explain-worker', 'the explain worker');
  return {
    run: (task) => worker.request<ExplainRun>({ task }),
    close: async () => worker.stop('the explain worker was closed'),
  };
}
