import { StreamingDetector, type StreamOptions, type StreamSnapshot } from '../engine/index.js';
import { keptWorker } from './kept-worker.js';
import { pushSeries, type StreamPush } from './stream-run.js';

/** How a session's detector starts: from a stored snapshot (JSON text), or fresh with options. */
export type SessionStart = { snapshot: string } | { options: StreamOptions };

/** A series' columns as the source reader gives them (see pushSeries). */
export interface SessionSeries {
  timeMs: Float64Array;
  values: Float64Array[];
}

/**
 * Streaming detectors held by key, each fed rows and asked for its snapshot: the service's live
 * scoring keeps its runtimes in one, a backfill its runs. `workerStreamSession()` holds them on a
 * worker thread, so restoring, scoring and snapshotting never hold the event loop;
 * `localStreamSession()` on the calling thread. Both run the same pushSeries on the same engine,
 * so the same rows give the same results and snapshots, to the bit (structured clone copies
 * numbers exactly, NaN payloads included).
 */
export interface StreamSession {
  /** Whether a detector is held under the key (none is after the worker died or the session closed). */
  has(key: string): boolean;
  open(key: string, start: SessionStart): Promise<void>;
  push(key: string, series: SessionSeries, from: number, to: number): Promise<StreamPush>;
  /** The detector's snapshot as the registry stores it (JSON text). */
  snapshot(key: string): Promise<string>;
  drop(key: string): void;
  /** Drops every detector (and stops the worker); the session can be used again afterwards. */
  close(): Promise<void>;
}

export type SessionRequest = { id: number } & (
  | { op: 'open'; key: string; start: SessionStart }
  | { op: 'push'; key: string; timeMs: Float64Array; values: Float64Array[]; from: number; to: number }
  | { op: 'snapshot'; key: string }
  | { op: 'drop'; key: string }
);

/**
 * The detectors a session holds, by key, and what it does with them: the one implementation both
 * the calling thread's session and the worker's run.
 */
export class HeldDetectors {
  private readonly detectors = new Map<string, StreamingDetector>();

  has(key: string): boolean {
    return this.detectors.has(key);
  }

  open(key: string, start: SessionStart): void {
    this.detectors.set(
      key,
      'snapshot' in start
        ? StreamingDetector.restore(JSON.parse(start.snapshot) as StreamSnapshot)
        : new StreamingDetector(start.options),
    );
  }

  push(key: string, series: SessionSeries, from: number, to: number): StreamPush {
    return pushSeries(this.held(key), series.timeMs, series.values, from, to);
  }

  /** The detector's snapshot as the registry stores it (JSON text). */
  snapshot(key: string): string {
    return JSON.stringify(this.held(key).snapshot());
  }

  drop(key: string): void {
    this.detectors.delete(key);
  }

  clear(): void {
    this.detectors.clear();
  }

  private held(key: string): StreamingDetector {
    const d = this.detectors.get(key);
    if (!d) throw new Error(`the stream session holds no detector '${key}'`);
    return d;
  }
}

/** A session on the calling thread (tests with fakes, benchmarks, the CLI). */
export function localStreamSession(): StreamSession {
  const held = new HeldDetectors();
  return {
    has: (key) => held.has(key),
    open: async (key, start) => held.open(key, start),
    push: async (key, series, from, to) => held.push(key, series, from, to),
    snapshot: async (key) => held.snapshot(key),
    drop: (key) => held.drop(key),
    close: async () => held.clear(),
  };
}

/**
 * A session whose detectors live on one worker thread (kept-worker.ts), started at the first
 * request. A worker that dies takes its detectors with it: `has` says so, and the caller opens
 * the detectors again from the registry into the next one.
 */
export function workerStreamSession(): StreamSession {
  const keys = new Set<string>();
  // Distributes Omit over the union, so each request keeps its own fields.
  type Body = SessionRequest extends infer R ? (R extends SessionRequest ? Omit<R, 'id'> : never) : never;
  const worker = keptWorker<Body>('session-worker', "a stream session's worker", () => keys.clear());
  const request = <T>(body: Body): Promise<T> => worker.request<T>(body);

  return {
    has: (key) => keys.has(key),
    open: async (key, start) => {
      keys.delete(key);
      await request<void>({ op: 'open', key, start });
      keys.add(key);
    },
    push: (key, series, from, to) =>
      request<StreamPush>({ op: 'push', key, timeMs: series.timeMs, values: series.values, from, to }),
    snapshot: (key) => request<string>({ op: 'snapshot', key }),
    drop: (key) => {
      if (!keys.delete(key) || !worker.running) return;
      void request<void>({ op: 'drop', key }).catch(() => undefined);
    },
    close: async () => worker.stop('the stream session was closed'),
  };
}
