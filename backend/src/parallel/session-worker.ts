/**
 * A stream session's worker (stream-session.ts): holds streaming detectors by key and answers the
 * session's requests one at a time, in the order they came. Restoring a detector (parsing its
 * snapshot), scoring rows and writing a snapshot are the CPU-heavy parts of live scoring and
 * backfills; here they cost the API's event loop nothing.
 */
import { parentPort } from 'node:worker_threads';
import { StreamingDetector, type StreamSnapshot } from '../engine/index.js';
import { pushSeries } from './stream-run.js';
import type { SessionReply, SessionRequest } from './stream-session.js';

const detectors = new Map<string, StreamingDetector>();

function held(key: string): StreamingDetector {
  const d = detectors.get(key);
  if (!d) throw new Error(`the stream session holds no detector '${key}'`);
  return d;
}

function answer(request: SessionRequest): unknown {
  switch (request.op) {
    case 'open':
      detectors.set(
        request.key,
        'snapshot' in request.start
          ? StreamingDetector.restore(JSON.parse(request.start.snapshot) as StreamSnapshot)
          : new StreamingDetector(request.start.options),
      );
      return undefined;
    case 'push':
      return pushSeries(held(request.key), request.timeMs, request.values, request.from, request.to);
    case 'snapshot':
      return JSON.stringify(held(request.key).snapshot());
    case 'drop':
      detectors.delete(request.key);
      return undefined;
  }
}

parentPort!.on('message', (request: SessionRequest) => {
  let reply: SessionReply;
  try {
    reply = { id: request.id, ok: true, value: answer(request) };
  } catch (err) {
    reply = { id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
