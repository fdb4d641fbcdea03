/**
 * A stream session's worker (stream-session.ts): holds streaming detectors by key and answers the
 * session's requests one at a time, in the order they came. Restoring a detector (parsing its
 * snapshot), scoring rows and writing a snapshot are the CPU-heavy parts of live scoring and
 * backfills; here they cost the API's event loop nothing.
 */
import { serveRequests } from './kept-worker.js';
import { HeldDetectors, type SessionRequest } from './stream-session.js';

const held = new HeldDetectors();

function answer(request: SessionRequest): unknown {
  switch (request.op) {
    case 'open':
      return held.open(request.key, request.start);
    case 'push':
      return held.push(request.key, request, request.from, request.to);
    case 'snapshot':
      return held.snapshot(request.key);
    case 'drop':
      return held.drop(request.key);
  }
}

serveRequests(answer);
