/**
 * One worker of the pool: rebuilds the forest from its serialized bytes, then either scores rows
 * [from, to) of a shared matrix into a shared output, or explains a list of rows, writing each
 * row's top feature index. Shared memory means no copy of the batch per worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { explain, IsolationForest } from '../engine/index.js';

export type WorkerTask =
  | {
      kind: 'score';
      model: Uint8Array;
      data: SharedArrayBuffer;
      cols: number;
      out: SharedArrayBuffer;
      from: number;
      to: number;
    }
  | {
      kind: 'explain';
      model: Uint8Array;
      data: SharedArrayBuffer;
      cols: number;
      out: SharedArrayBuffer;
      rows: Int32Array;
    };

const task = workerData as WorkerTask;
const forest = IsolationForest.deserialize(task.model);
const data = new Float64Array(task.data);

if (task.kind === 'score') {
  const out = new Float64Array(task.out);
  // Blocks keep progress reports coming without slowing the kernel.
  const BLOCK = 16_384;
  for (let from = task.from; from < task.to; from += BLOCK) {
    const to = Math.min(task.to, from + BLOCK);
    const x = { rows: to - from, cols: task.cols, data: data.subarray(from * task.cols, to * task.cols) };
    forest.scoreBatch(x, out.subarray(from, to));
    parentPort!.postMessage(to - from);
  }
} else {
  const out = new Int32Array(task.out);
  let sinceReport = 0;
  for (const r of task.rows) {
    const { contributions } = explain(forest, data.subarray(r * task.cols, (r + 1) * task.cols));
    let best = 0;
    for (let c = 1; c < contributions.length; c++) if (contributions[c]! > contributions[best]!) best = c;
    out[r] = best;
    if (++sinceReport === 64) {
      parentPort!.postMessage(sinceReport);
      sinceReport = 0;
    }
  }
  if (sinceReport > 0) parentPort!.postMessage(sinceReport);
}
