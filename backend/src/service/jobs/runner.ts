import { randomUUID } from 'node:crypto';
import { InfluxUnavailableError } from '../../io/influx/index.js';
import type { JobRecord, Registry } from '../../io/registry/index.js';

export class JobCancelled extends Error {
  override readonly name = 'JobCancelled';
}

/** What a running job may do: report progress, and learn it was cancelled. */
export interface JobContext {
  progress(phase: string, fraction: number): Promise<void>;
  /** Throws JobCancelled when someone cancelled the job; call it between steps. */
  checkpoint(): void;
  /**
   * Runs one step (a read of a chunk), again with backoff while InfluxDB is unavailable, times out
   * or is busy; any other error, a cancellation or the last attempt's error goes to the job. A job
   * whose steps are chunks thus resumes at the chunk the outage met, not from its start.
   */
  retry<T>(what: string, step: () => Promise<T>): Promise<T>;
}

/** How a job waits out an InfluxDB outage: attempts, and the first and longest wait between them. */
export interface RetryPolicy {
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/** 1, 2, 4, 8, 16, 30, 30, ... s: about five minutes of outage before the job fails. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 14, firstDelayMs: 1_000, maxDelayMs: 30_000 };

/** Errors worth another attempt: InfluxDB down, slow, or busy. Refusals and bugs are not. */
export function isTransient(err: unknown): boolean {
  return err instanceof InfluxUnavailableError;
}

export type JobWork = (ctx: JobContext) => Promise<unknown>;

/** How often a replica sharing its registry says it still runs its jobs. */
export const JOB_HEARTBEAT_MS = 15_000;
/** A job whose heartbeat is older than this has lost its process: four missed beats. */
export const JOB_SILENCE_MS = 4 * JOB_HEARTBEAT_MS;

/**
 * Runs jobs in the background, at most `concurrency` at once, the rest queued in order. State
 * lives in the registry (queued → running → succeeded | failed | cancelled), so any replica and
 * any restart sees it; a job a restart interrupts is marked failed at start (registry plugin).
 */
export class JobRunner {
  private running = 0;
  private readonly queue: Array<{ id: string; work: JobWork; kind: JobRecord['kind'] }> = [];
  private readonly cancelled = new Set<string>();
  private readonly done = new Map<string, Promise<void>>();
  /** This process's jobs, queued or running: the ones its heartbeat vouches for. */
  private readonly own = new Set<string>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly registry: Registry,
    private readonly concurrency: number,
    private readonly now: () => number,
    private readonly log: (message: string, detail: Record<string, unknown>) => void = () => undefined,
    /** Told when a job ends: its kind, outcome and duration in seconds (metrics). */
    private readonly onFinished: (
      kind: JobRecord['kind'],
      outcome: JobRecord['state'],
      seconds: number,
    ) => void = () => undefined,
    private readonly retryPolicy: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** Records the job as queued and starts it when a slot is free. */
  async submit(detectorId: string, kind: JobRecord['kind'], work: JobWork): Promise<JobRecord> {
    const job = await this.registry.createJob({ id: randomUUID(), detectorId, kind }, this.now());
    this.own.add(job.id);
    this.queue.push({ id: job.id, work, kind });
    this.pump();
    return job;
  }

  /** Asks a job to stop: a queued one never starts, a running one stops at its next checkpoint. */
  async cancel(id: string): Promise<JobRecord | undefined> {
    const job = await this.registry.getJob(id);
    if (!job || (job.state !== 'queued' && job.state !== 'running')) return job;
    this.cancelled.add(id);
    const queued = this.queue.findIndex((q) => q.id === id);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.own.delete(id);
      return this.registry.updateJob(id, { state: 'cancelled', phase: 'cancelled', finishedAt: this.now() });
    }
    return job;
  }

  /** The ids of this process's queued and running jobs. */
  get ownJobs(): string[] {
    return [...this.own];
  }

  /**
   * Tells the registry this process still runs its jobs. Replicas sharing a registry call it
   * every few seconds, so that another replica starting (or sweeping) fails only the jobs whose
   * process stopped beating.
   */
  heartbeat(): Promise<void> {
    return this.registry.jobs.heartbeat(this.ownJobs, this.now());
  }

  /** Resolves when no job is running or queued (graceful shutdown, tests). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when this job has finished, whatever its outcome. */
  finished(id: string): Promise<void> {
    return this.done.get(id) ?? Promise.resolve();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      const run = this.run(next.id, next.kind, next.work).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          waiters.forEach((w) => w());
        }
      });
      this.done.set(next.id, run);
    }
  }

  /** Waits, waking early when the job is cancelled (the next checkpoint then stops it). */
  private sleep(ms: number, id: string): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const poll = setInterval(() => this.cancelled.has(id) && done(), Math.min(ms, 250));
      function done(): void {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    });
  }

  private async run(id: string, kind: JobRecord['kind'], work: JobWork): Promise<void> {
    const started = this.now();
    let outcome: JobRecord['state'] = 'failed';
    await this.registry.updateJob(id, { state: 'running', phase: 'starting', startedAt: started });
    const ctx: JobContext = {
      progress: async (phase, fraction) => {
        await this.registry.updateJob(id, { phase, progress: Math.max(0, Math.min(1, fraction)) });
      },
      checkpoint: () => {
        if (this.cancelled.has(id)) throw new JobCancelled(`job ${id} was cancelled`);
      },
      retry: async (what, step) => {
        const { attempts, firstDelayMs, maxDelayMs } = this.retryPolicy;
        for (let attempt = 1; ; attempt++) {
          ctx.checkpoint();
          try {
            return await step();
          } catch (err) {
            if (!isTransient(err) || attempt >= attempts) throw err;
            const wait = Math.min(maxDelayMs, firstDelayMs * 2 ** (attempt - 1));
            this.log('job step failed; retrying', {
              id,
              step: what,
              attempt,
              retryInSeconds: wait / 1000,
              err: (err as Error).message,
            });
            await this.registry
              .updateJob(id, {
                phase: `${what}: waiting for InfluxDB (attempt ${attempt + 1} of ${attempts})`,
              })
              .catch(() => undefined);
            await this.sleep(wait, id);
          }
        }
      },
    };
    try {
      // Let the request that submitted the job answer first.
      await new Promise((r) => setImmediate(r));
      ctx.checkpoint();
      const result = await work(ctx);
      await this.registry.updateJob(id, {
        state: 'succeeded',
        phase: 'done',
        progress: 1,
        finishedAt: this.now(),
        result: result ?? null,
      });
      outcome = 'succeeded';
    } catch (err) {
      if (err instanceof JobCancelled) {
        await this.registry.updateJob(id, { state: 'cancelled', phase: 'cancelled', finishedAt: this.now() });
        outcome = 'cancelled';
      } else {
        this.log('job failed', { id, err: (err as Error).message });
        await this.registry.updateJob(id, {
          state: 'failed',
          phase: 'failed',
          finishedAt: this.now(),
          error: (err as Error).message,
        });
      }
    } finally {
      this.cancelled.delete(id);
      this.own.delete(id);
      this.onFinished(kind, outcome, Math.max(0, (this.now() - started) / 1000));
    }
  }
}
