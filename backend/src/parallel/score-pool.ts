import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkedMatrix, type IsolationForest, type Matrix } from '../engine/index.js';
import { forEachTopFeature } from './top-feature.js';
import type { WorkerTask } from './score-worker.js';

/**
 * Below this much work (point-tree visits when scoring; explaining a row in a tree costs about as
 * much as EXPLAIN_COST_PER_TREE visits with explainRows' tables, see docs/engine.md) a batch runs
 * on the calling thread: starting a worker and rebuilding the forest in it costs a few
 * milliseconds, which small batches never win back.
 */
export const PARALLEL_MIN_WORK = 5_000_000;
const EXPLAIN_COST_PER_TREE = 130;

export interface BatchOptions {
  /** Threads to use; default: as many as the batch is worth, up to the machine's parallelism. */
  workers?: number;
  /** Also find the top feature (TreeSHAP) of every flagged row. */
  explainFlagged?: boolean;
  onProgress?: (stage: 'scoring' | 'explaining', done: number, total: number) => void;
}

export interface BatchResult {
  scores: Float64Array;
  /** Index of the feature that pushed hardest towards anomalous, for flagged rows; −1 for the rest. */
  topFeature: Int32Array;
  /** Threads used for scoring and for explaining. */
  threads: { scoring: number; explaining: number };
}

/** How many threads an amount of work is worth: one per PARALLEL_MIN_WORK, at most `limit`. */
export function threadsFor(work: number, limit = availableParallelism()): number {
  return Math.max(1, Math.min(limit, Math.floor(work / PARALLEL_MIN_WORK)));
}

/**
 * Scores a batch (and explains its flagged rows) across worker threads. Results are identical to
 * `forest.scoreBatch(x)` and `explain(forest, row)` on one thread: each row depends only on itself
 * (explainRows, which explains flagged rows here, gives the same numbers as explain).
 */
export async function scoreBatchParallel(
  forest: IsolationForest,
  x: Matrix,
  options: BatchOptions = {},
): Promise<BatchResult> {
  checkedMatrix(x);
  const { trees } = forest.params;
  const scoringThreads = Math.min(options.workers ?? threadsFor(x.rows * trees), x.rows);
  const progress = options.onProgress ?? (() => undefined);
  const shared = new SharedArrayBuffer(x.data.byteLength);
  new Float64Array(shared).set(x.data);
  const model = scoringThreads > 1 || options.explainFlagged ? forest.serialize() : new Uint8Array(0);

  let scores: Float64Array;
  if (scoringThreads <= 1) {
    scores = forest.scoreBatch(x);
    progress('scoring', x.rows, x.rows);
  } else {
    const out = new SharedArrayBuffer(x.rows * 8);
    await runWorkers(
      Array.from({ length: scoringThreads }, (_, k) => ({
        kind: 'score' as const,
        model,
        data: shared,
        cols: x.cols,
        out,
        from: Math.floor((k * x.rows) / scoringThreads),
        to: Math.floor(((k + 1) * x.rows) / scoringThreads),
      })),
      x.rows,
      (done, total) => progress('scoring', done, total),
    );
    scores = new Float64Array(out);
  }

  const topFeature = new Int32Array(x.rows).fill(-1);
  const flagged: number[] = [];
  if (options.explainFlagged)
    for (let r = 0; r < x.rows; r++) if (forest.isAnomaly(scores[r]!)) flagged.push(r);
  const explainingThreads = Math.min(
    options.workers ?? threadsFor(flagged.length * trees * EXPLAIN_COST_PER_TREE),
    flagged.length,
  );
  if (explainingThreads <= 1) {
    let done = 0;
    forEachTopFeature(
      forest,
      x,
      flagged,
      (r, best) => (topFeature[r] = best),
      (n) => progress('explaining', (done += n), flagged.length),
    );
  } else {
    const out = new SharedArrayBuffer(x.rows * 4);
    new Int32Array(out).fill(-1);
    // Interleaved, not contiguous: anomalies cluster in time, and each thread should get a fair share.
    await runWorkers(
      Array.from({ length: explainingThreads }, (_, k) => ({
        kind: 'explain' as const,
        model,
        data: shared,
        cols: x.cols,
        out,
        rows: Int32Array.from(flagged.filter((_, i) => i % explainingThreads === k)),
      })),
      flagged.length,
      (done, total) => progress('explaining', done, total),
    );
    topFeature.set(new Int32Array(out));
  }
  return {
    scores,
    topFeature,
    threads: { scoring: Math.max(1, scoringThreads), explaining: Math.max(1, explainingThreads) },
  };
}

function runWorkers(
  tasks: WorkerTask[],
  total: number,
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  const url = new URL('./score-worker.js', import.meta.url);
  let done = 0;
  return Promise.all(
    tasks.map(
      (task) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(url, { workerData: task });
          worker.on('message', (n: number) => {
            done += n;
            onProgress(done, total);
          });
          worker.on('error', reject);
          worker.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`a scoring worker exited with code ${code}`)),
          );
        }),
    ),
  ).then(() => undefined);
}
