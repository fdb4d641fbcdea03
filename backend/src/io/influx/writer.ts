import { InfluxRequestError, InfluxUnavailableError } from './v1-client.js';

export interface BatchWriterOptions {
  /** Points per request. Default 5000 (InfluxDB's recommendation). */
  batchSize?: number;
  /** First retry delay; doubles up to maxDelayMs, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called after each failed attempt (for logs and metrics). */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
  /** Called when InfluxDB refuses a batch as bad data (4xx): retrying cannot help. */
  onRejected?: (error: Error, lines: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface WriterStats {
  written: number;
  pending: number;
  failedAttempts: number;
  rejected: number;
}

/**
 * Batches lines of line protocol and writes them in order. A batch that fails because InfluxDB is
 * down or failing (connection error, 5xx) is kept and retried with exponential backoff, for as long
 * as it takes: nothing is dropped silently. A batch InfluxDB refuses as malformed (4xx) is counted
 * as rejected and reported, since no retry can fix it.
 */
export class BatchWriter {
  private queue: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  readonly stats: WriterStats = { written: 0, pending: 0, failedAttempts: 0, rejected: 0 };
  private readonly o: Required<Omit<BatchWriterOptions, 'onRetry' | 'onRejected'>> &
    Pick<BatchWriterOptions, 'onRetry' | 'onRejected'>;

  constructor(
    private readonly send: (lines: string[]) => Promise<void>,
    options: BatchWriterOptions = {},
  ) {
    this.o = {
      batchSize: options.batchSize ?? 5000,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      random: options.random ?? Math.random,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...(options.onRejected ? { onRejected: options.onRejected } : {}),
    };
  }

  /** Queues lines; full batches start writing in the background. */
  add(lines: string[]): void {
    if (this.closed) throw new Error('the writer is closed');
    this.queue.push(...lines);
    this.stats.pending = this.queue.length;
    if (this.queue.length >= this.o.batchSize) void this.flush();
  }

  /** Writes everything queued so far; resolves when it is in InfluxDB (or rejected as bad data). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.drain());
    return this.flushing;
  }

  /** Flushes and refuses further points (graceful shutdown). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.o.batchSize);
      await this.writeWithRetry(batch);
      this.queue.splice(0, batch.length);
      this.stats.pending = this.queue.length;
    }
  }

  private async writeWithRetry(batch: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send(batch);
        this.stats.written += batch.length;
        return;
      } catch (err) {
        if (err instanceof InfluxRequestError) {
          this.stats.rejected += batch.length;
          this.o.onRejected?.(err, batch.length);
          return;
        }
        if (!(err instanceof InfluxUnavailableError)) throw err;
        this.stats.failedAttempts++;
        const delay =
          Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1)) *
          (0.5 + 0.5 * this.o.random());
        this.o.onRetry?.(err, attempt, delay);
        await this.o.sleep(delay);
      }
    }
  }
}
