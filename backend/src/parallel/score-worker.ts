/**
 * One worker of the pool: rebuilds the forest from its serialized bytes, then either scores rows
 * [from, to) of a shared matrix into a shared output, or explains a list of rows, writing each
 * row's top feature index. Shared memory means no copy of the batch per worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IsolationForest } from '../engine/index.js';
import { forEachTopFeature } from './top-feature.js';

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
  const x = { rows: data.length / task.cols, cols: task.cols, data };
  forEachTopFeature(
    forest,
    x,
    task.rows,
    (r, best) => (out[r] = best),
    (n) => parentPort!.postMessage(n),
  );
}
