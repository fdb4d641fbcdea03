/**
 * A training worker: runs one stream over a series (runStream) and posts progress every block of
 * rows, then the run. The parent terminates it to cancel: nothing here needs to stop cleanly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runStream, type StreamTask } from './stream-run.js';

export type TrainMessage =
  { kind: 'progress'; done: number; total: number } | { kind: 'done'; run: ReturnType<typeof runStream> };

const post = (m: TrainMessage): void => parentPort!.postMessage(m);
const run = runStream(workerData as StreamTask, (done, total) => post({ kind: 'progress', done, total }));
post({ kind: 'done', run });
