/**
 * One worker thread kept between requests and answering them in order: the stream session's and
 * the explanations' (session-worker.ts, explain-worker.ts). The worker keeps the process alive
 * only while a request is pending, so an idle one never holds a process open. A worker that dies
 * (out of memory, a crash) fails its pending requests, and the next request starts another.
 * An engine refusal keeps its type across the thread, as on the calling thread.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { EngineError, type EngineErrorCode } from '../engine/index.js';
import { startWorker } from './start-worker.js';

export type KeptReply = { id: number } & (
  | { ok: true; value: unknown }
  | { ok: false; error: string; engine?: { code: EngineErrorCode; detail: EngineError['detail'] } }
);

/** On the worker thread: answers each request (`{ id, ...body }`) with `answer`'s value or its error. */
export function serveRequests<R extends { id: number }>(answer: (request: R) => unknown): void {
  parentPort!.on('message', (request: R) => {
    let reply: KeptReply;
    try {
      reply = { id: request.id, ok: true, value: answer(request) };
    } catch (err) {
      reply = {
        id: request.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        ...(err instanceof EngineError ? { engine: { code: err.code, detail: err.detail } } : {}),
      };
    }
    parentPort!.postMessage(reply);
  });
}

export interface KeptWorker<Body extends object> {
  request<T>(body: Body): Promise<T>;
  /** Whether a worker runs now (a request started it and it has not died or been stopped). */
  readonly running: boolean;
  /** Fails the pending requests with `reason` and stops the worker; the next request starts another. */
  stop(reason: string): void;
}

/**
 * The calling thread's side: `name` is the worker module (start-worker.ts), `what` names it in
 * the error when it exits, `onLost` runs when a worker dies or is stopped.
 */
export function keptWorker<Body extends object>(
  name: string,
  what: string,
  onLost: () => void = () => undefined,
): KeptWorker<Body> {
  let worker: Worker | undefined;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let nextId = 1;

  const fail = (from: Worker, err: Error): void => {
    if (worker !== from) return;
    worker = undefined;
    onLost();
    const waiting = [...pending.values()];
    pending.clear();
    for (const p of waiting) p.reject(err);
    void from.terminate();
  };

  const start = (): Worker => {
    const w = startWorker(name, undefined);
    w.on('message', (reply: KeptReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if (reply.ok) p.resolve(reply.value);
      else
        p.reject(
          reply.engine
            ? new EngineError(reply.engine.code, reply.error, reply.engine.detail)
            : new Error(reply.error),
        );
    });
    w.on('error', (err) => fail(w, err));
    w.on('exit', (code) => fail(w, new Error(`${what} exited with code ${code}`)));
    w.unref();
    return w;
  };

  return {
    request: <T>(body: Body): Promise<T> => {
      worker ??= start();
      const w = worker;
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        if (pending.size === 0) w.ref();
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        w.postMessage({ id, ...body });
      });
    },
    get running() {
      return worker !== undefined;
    },
    stop: (reason) => {
      if (worker) fail(worker, new Error(reason));
    },
  };
}
