/**
 * The explain worker (explain-run.ts's explainWorker): answers each request with one replayExplain,
 * in the order they come; kept between explanations, so the engine stays loaded and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../engine/index.js';
import { replayExplain, type ExplainReply, type ExplainTask } from './explain-run.js';

parentPort!.on('message', ({ id, task }: { id: number; task: ExplainTask }) => {
  let reply: ExplainReply;
  try {
    reply = { ok: true, run: replayExplain(task) };
  } catch (err) {
    reply = {
      ok: false,
      error: err instanceof Error ? err.message : String(err),
      // An engine refusal (a row the detector cannot take) keeps its type across the thread: a 4xx.
      ...(err instanceof EngineError ? { engine: { code: err.code, detail: err.detail } } : {}),
    };
  }
  parentPort!.postMessage({ id, ...reply });
});
