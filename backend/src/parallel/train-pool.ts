import { startWorker } from './start-worker.js';
import type { StreamRun, StreamTask } from './stream-run.js';
import type { TrainMessage } from './train-worker.js';

/**
 * Runs a stream over a series on a worker thread (runStream, see stream-run.ts), so a training job
 * never holds the event loop: the API, its probes and the scoring ticks keep answering while the
 * forests grow. The run is the one runStream gives on the calling thread, to the bit (the series
 * and the results cross by structured clone, which copies numbers exactly, NaN payloads included).
 *
 * `onProgress` is told every few thousand rows; when it throws (a cancelled job), the worker is
 * terminated and the promise rejects with that error.
 */
export function runStreamInWorker(
  task: StreamTask,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<StreamRun> {
  return new Promise<StreamRun>((resolve, reject) => {
    let settled = false;
    const worker = startWorker('train-worker', task);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: TrainMessage) => {
      if (m.kind === 'done') {
        finish(() => resolve(m.run));
        return;
      }
      try {
        onProgress(m.done, m.total);
      } catch (err) {
        finish(() => reject(err));
      }
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`a training worker exited with code ${code} before it finished`))),
    );
  });
}
