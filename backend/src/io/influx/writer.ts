import { InfluxRequestError, InfluxUnavailableError } from './v1-client.js';

export interface BatchWriterOptions {
  /** Points per request. Default 5000 (InfluxDB's recommendation). */
  batchSize?: number;
  /** First retry delay; doubles up to maxDelayMs, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Lines kept while InfluxDB cannot take them. Beyond this the oldest are dropped (counted in
   * `stats.dropped`, reported to onDropped) so that a long outage cannot exhaust the memory and lose
   * everything with the process. Default 2,000,000 lines (about 300 MB).
   */
  maxPending?: number;
  /** Called after each failed attempt (for logs and metrics). */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
  /** Called when InfluxDB refuses lines as bad data (400, 422): retrying cannot help. */
  onRejected?: (error: Error, lines: number) => void;
  /** Called when the oldest lines are dropped because `maxPending` was reached. */
  onDropped?: (lines: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** The clock of `stalled()` (ms). */
  now?: () => number;
}

export interface WriterStats {
  written: number;
  pending: number;
  failedAttempts: number;
  rejected: number;
  dropped: number;
}

/**
 * A bounded wait for the writer ended before InfluxDB took the lines: they stay queued and are
 * retried in the background, the caller goes on (a scoring pass fails and is scored again, a
 * shutdown says how many were not written).
 */
export class WriteStalledError extends InfluxUnavailableError {
  // Its name stays InfluxUnavailableError's: it is that, as the service maps and jobs retry it.
  constructor(
    message: string,
    /** Lines still queued when the wait ended. */
    readonly pending: number,
  ) {
    super(message);
  }
}

/** 4xx answers that say these lines can never be written: malformed, or refused as data. */
const BAD_DATA = new Set([400, 422]);

/**
 * Batches lines of line protocol and writes them in order, and never stops doing so whatever a
 * write throws. InfluxDB down or failing (connection error, timeout, 5xx), refusing the
 * credentials (401, 403), missing the database (404), asking to slow down (429), or any error
 * nobody foresaw: the batch is kept and retried with exponential backoff and jitter, for as long as
 * it takes, and later batches wait behind it. A batch too large for the server (413) is halved. A
 * batch refused as bad data (400, 422) is halved until the bad lines are alone: they are counted as
 * rejected and reported, every good line around them is written. A caller that must not wait
 * for as long as it takes (a live scoring pass, a shutdown) waits a bounded time (`flushWithin`,
 * `close(graceMs)`) and is told how many lines are still queued.
 */
export class BatchWriter {
  private queue: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Given up at shutdown: retries stop, what is queued stays unwritten. */
  private abandoned = false;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  /** Since when writes have failed without one succeeding, and the last error (undefined: writing works). */
  private failing: { since: number; error: string } | undefined;
  readonly stats: WriterStats = { written: 0, pending: 0, failedAttempts: 0, rejected: 0, dropped: 0 };
  private readonly o: Required<Omit<BatchWriterOptions, 'onRetry' | 'onRejected' | 'onDropped'>> &
    Pick<BatchWriterOptions, 'onRetry' | 'onRejected' | 'onDropped'>;

  constructor(
    private readonly send: (lines: string[]) => Promise<void>,
    options: BatchWriterOptions = {},
  ) {
    this.o = {
      batchSize: options.batchSize ?? 5000,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      // At least a batch, so the batch being written is never among the lines dropped.
      maxPending: Math.max(options.maxPending ?? 2_000_000, options.batchSize ?? 5000),
      // Its timer is kept so that a shutdown that gives up can clear it: a pending retry must
      // not hold the process for up to maxDelayMs after the service has closed.
      sleep: options.sleep ?? ((ms) => new Promise((r) => (this.sleepTimer = setTimeout(r, ms)))),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...(options.onRejected ? { onRejected: options.onRejected } : {}),
      ...(options.onDropped ? { onDropped: options.onDropped } : {}),
    };
  }

  /** Queues lines; full batches start writing in the background. */
  add(lines: string[]): void {
    if (this.closed) throw new Error('the writer is closed');
    for (const line of lines) this.queue.push(line);
    const over = this.queue.length - this.o.maxPending;
    if (over > 0) {
      // The batch being written is at the head: it stays, the oldest lines behind it go.
      this.queue.splice(this.o.batchSize, over);
      this.stats.dropped += over;
      this.notify(() => this.o.onDropped?.(over));
    }
    this.stats.pending = this.queue.length;
    if (this.queue.length >= this.o.batchSize) void this.flush();
  }

  /** Writes everything queued so far; resolves when it is in InfluxDB (or rejected as bad data). Never rejects. */
  flush(): Promise<void> {
    // drain() does not throw; the catch is there so that no future change can wedge the chain.
    this.flushing = this.flushing.then(() => this.drain()).catch(() => undefined);
    return this.flushing;
  }

  /**
   * Whether writes have been failing, since when and with what (undefined while writing works or
   * nothing waits): lines queued behind a batch InfluxDB does not take.
   */
  stalled(): { since: number; forMs: number; error: string; pending: number } | undefined {
    if (!this.failing || this.queue.length === 0) return undefined;
    return { ...this.failing, forMs: this.o.now() - this.failing.since, pending: this.queue.length };
  }

  /**
   * `flush`, waited for at most `timeoutMs`: rejects with WriteStalledError when InfluxDB has not
   * taken everything by then. The lines stay queued and the writing goes on in the background.
   */
  flushWithin(timeoutMs: number): Promise<void> {
    const done = this.flush();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const pending = this.queue.length;
        const why = this.failing ? `: ${this.failing.error}` : '';
        reject(
          new WriteStalledError(
            `InfluxDB has not taken the results within ${Math.round(timeoutMs / 1000)} s (${pending} lines kept and retried${why})`,
            pending,
          ),
        );
      }, timeoutMs);
    });
    return Promise.race([done, late]).finally(() => clearTimeout(timer));
  }

  /**
   * Flushes and refuses further points (graceful shutdown). With `graceMs`, gives up after that
   * long: retries stop, and the answer says how many lines were not written.
   */
  async close(graceMs?: number): Promise<{ unwritten: number; error?: string }> {
    try {
      if (graceMs === undefined) await this.flush();
      else await this.flushWithin(graceMs);
      return { unwritten: 0 };
    } catch (err) {
      const error = this.failing?.error ?? (err as Error).message;
      this.abandoned = true;
      clearTimeout(this.sleepTimer);
      this.wake?.();
      await this.flushing;
      return { unwritten: this.queue.length, error };
    } finally {
      this.closed = true;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abandoned) {
      const batch = this.queue.slice(0, this.o.batchSize);
      if (!(await this.write(batch))) return;
      this.queue.splice(0, batch.length);
      this.stats.pending = this.queue.length;
    }
    if (this.queue.length === 0) this.failing = undefined;
  }

  /** A callback that throws (a logger gone wrong) must not stop the writing. */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // nothing to do: the stats still count it
    }
  }

  /**
   * Writes one batch: retried until it is in, halved when too large or partly bad. False when
   * given up at shutdown (the batch stays queued).
   */
  private async write(batch: string[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (this.abandoned) return false;
      let error: Error;
      try {
        await this.send(batch);
        this.stats.written += batch.length;
        this.failing = undefined;
        return true;
      } catch (err) {
        error = err instanceof Error ? err : new Error(`the write failed: ${String(err)}`);
      }
      const status = error instanceof InfluxRequestError ? error.status : undefined;
      if (status !== undefined && (BAD_DATA.has(status) || status === 413)) {
        if (batch.length === 1) {
          // Bad data, or one line larger than the server takes: nothing smaller to send.
          this.stats.rejected += 1;
          this.notify(() => this.o.onRejected?.(error, 1));
          return true;
        }
        const half = Math.ceil(batch.length / 2);
        // The first half written and the second given up would write the first again after a
        // restart: harmless, the same points.
        return (await this.write(batch.slice(0, half))) && (await this.write(batch.slice(half)));
      }
      this.failing ??= { since: this.o.now(), error: error.message };
      this.failing.error = error.message;
      this.stats.failedAttempts++;
      const delay =
        Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(attempt - 1, 30)) *
        (0.5 + 0.5 * this.o.random());
      this.notify(() => this.o.onRetry?.(error, attempt, delay));
      // A shutdown that gives up wakes the sleep at once.
      await Promise.race([this.o.sleep(delay), new Promise<void>((r) => (this.wake = r))]);
      this.wake = undefined;
    }
  }
}
