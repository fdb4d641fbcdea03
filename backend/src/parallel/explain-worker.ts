/** An explain worker: one replayExplain (explain-run.ts), posted back; the parent terminates it. */
import { parentPort, workerData } from 'node:worker_threads';
import { EngineError } from '../engine/index.js';
import { replayExplain, type ExplainReply, type ExplainTask } from './explain-run.js';

let reply: ExplainReply;
try {
  reply = { ok: true, run: replayExplain(workerData as ExplainTask) };
} catch (err) {
  reply = {
    ok: false,
    error: err instanceof Error ? err.message : String(err),
    // An engine refusal (a row the detector cannot take) keeps its type across the thread: a 4xx.
    ...(err instanceof EngineError ? { engine: { code: err.code, detail: err.detail } } : {}),
  };
}
parentPort!.postMessage(reply);
