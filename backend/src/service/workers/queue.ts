/**
 * Scoring spread over processes with pg-boss (a job queue in PostgreSQL, the registry's own
 * database): the scheduler enqueues one job per (detector, shard, interval), and workers take
 * them, lock the shard, score its entities from where each stopped, and complete the job.
 *
 * Exactly once per (entity, interval) rests on three things, none of which is a home-made
 * coordinator: the job id derived from (detector, shard, interval) (enqueued twice, stored once);
 * a PostgreSQL advisory lock per shard held on the worker's own connection while it scores (two
 * jobs of one shard never score at once, and the lock dies with the connection of a killed
 * worker); and each entity's cursor saved with its state (a retried or late job scores only what
 * is past it). A dead worker's job stays active until its lease (`leaseSeconds`, pg-boss's
 * `expireInSeconds`) runs out; pg-boss's maintenance then puts it back for another worker.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { jobId, lockKeys, singletonKey } from './shards.js';

export const SCORE_QUEUE = 'isoscope-score';

export interface ShardJob {
  detectorId: string;
  shard: number;
  shards: number;
  /** Score every entity of the shard up to this time (ms, an interval boundary). */
  to: number;
}

export interface ShardQueueOptions {
  /** The PostgreSQL URL (the registry's). */
  url: string;
  /** Seconds a worker may hold a shard job; past it, the job goes to another worker. */
  leaseSeconds: number;
  /** How often one of the processes looks for expired leases (pg-boss maintenance), seconds. */
  superviseSeconds?: number;
  /** A worker with nothing to do asks again after this long (seconds). */
  pollSeconds?: number;
  /**
   * How often a worker looks for jobs whose worker died (active, older than this, and their shard
   * lock free), seconds; default a quarter lease, at least 1.
   */
  sweepSeconds?: number;
  /** Failed jobs (an unreachable InfluxDB) are retried this many times, with backoff. */
  retryLimit?: number;
  onError?(err: Error): void;
}

export interface ShardHandlerContext {
  /** The job's id (the same for every copy of this (detector, shard, interval)). */
  id: string;
  /** How many times it was started before (0: first attempt). */
  retry: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ShardQueue {
  private readonly boss: PgBoss;
  private readonly locks: pg.Pool;
  private readonly loops: Array<Promise<void>> = [];
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly stopped: Promise<void>;
  private markStopped!: () => void;

  constructor(private readonly options: ShardQueueOptions) {
    this.stopped = new Promise((r) => (this.markStopped = r));
    this.boss = new PgBoss({
      connectionString: options.url,
      max: 4,
      supervise: true,
      maintenanceIntervalSeconds:
        options.superviseSeconds ?? Math.max(1, Math.round(options.leaseSeconds / 4)),
      // Keep finished jobs an hour: long enough that a late duplicate enqueue still meets its id.
      archiveCompletedAfterSeconds: 3600,
      schedule: false,
    });
    this.boss.on('error', (err) => options.onError?.(err));
    this.locks = new pg.Pool({ connectionString: options.url, max: 4, connectionTimeoutMillis: 10_000 });
    this.locks.on('error', () => undefined);
  }

  /** Installs or migrates pg-boss's schema (under its own advisory lock) and the queue. */
  async start(): Promise<void> {
    await this.boss.start();
    if (!(await this.boss.getQueue(SCORE_QUEUE))) {
      await this.boss.createQueue(SCORE_QUEUE, {
        name: SCORE_QUEUE,
        // `short`: a second copy of a job still waiting is refused at insert.
        policy: 'short',
        expireInSeconds: this.options.leaseSeconds,
        retryLimit: this.options.retryLimit ?? 5,
        retryDelay: 1,
        retryBackoff: true,
      });
    }
  }

  /** Enqueues one job per shard of a detector for the interval ending at `to` (copies already there are kept). */
  async enqueue(detectorId: string, to: number, shards: number): Promise<void> {
    await this.boss.insert(
      Array.from({ length: shards }, (_, shard) => {
        const key = singletonKey(detectorId, shard, to);
        return {
          id: jobId(key),
          name: SCORE_QUEUE,
          data: { detectorId, shard, shards, to } satisfies ShardJob,
          singletonKey: key,
          expireInSeconds: this.options.leaseSeconds,
        };
      }),
    );
  }

  /** Jobs waiting (created or retry), for the autoscaler's metrics. */
  async depth(): Promise<number> {
    return this.boss.getQueueSize(SCORE_QUEUE);
  }

  /** Jobs not finished yet: waiting, retrying or held by a worker (an expired lease counts until retried). */
  async unfinished(): Promise<number> {
    return this.boss.getQueueSize(SCORE_QUEUE, { before: 'completed' });
  }

  /**
   * Works the queue with `concurrency` loops: each takes one job, holds its shard's lock while
   * `handler` runs, then completes it (or fails it, to be retried). A loop that finds nothing
   * waits `pollSeconds` before asking again; one that found a job asks again at once.
   */
  work(handler: (job: ShardJob, ctx: ShardHandlerContext) => Promise<void>, concurrency = 1): void {
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop(handler));
    this.loops.push(this.sweeping());
  }

  private async sweeping(): Promise<void> {
    const every = (this.options.sweepSeconds ?? Math.max(1, this.options.leaseSeconds / 4)) * 1000;
    while (!this.stopping) {
      await Promise.race([sleep(every), this.stopped]);
      if (this.stopping) break;
      try {
        await this.sweep(every / 1000);
      } catch (err) {
        this.options.onError?.(err as Error);
      }
    }
  }

  /**
   * Hands back the jobs of workers that died, without waiting for their lease: a job active for
   * more than `olderThanSeconds` whose shard lock nobody holds has lost its worker (the lock is
   * held on the worker's own connection for the whole job, and PostgreSQL drops it with the
   * connection). Failing it puts it back for retry at once. A live worker caught between its
   * unlock and its completion (a few milliseconds) loses nothing: the retry finds every cursor
   * already past the interval. Returns how many were handed back.
   */
  async sweep(olderThanSeconds: number): Promise<number> {
    const { rows } = await this.boss
      .getDb()
      .executeSql(
        `SELECT id, data FROM pgboss.job WHERE name = $1 AND state = 'active' AND started_on < now() - make_interval(secs => $2)`,
        [SCORE_QUEUE, olderThanSeconds],
      );
    let handed = 0;
    for (const row of rows as Array<{ id: string; data: ShardJob }>) {
      const client = await this.locks.connect();
      const [a, b] = lockKeys(row.data.detectorId, row.data.shard);
      let free = false;
      try {
        free = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [a, b]))
          .rows[0]!.ok;
        if (free) await client.query('SELECT pg_advisory_unlock($1, $2)', [a, b]);
      } finally {
        client.release();
      }
      if (free) {
        await this.boss.fail(SCORE_QUEUE, row.id, { message: 'its worker died (shard lock free)' });
        handed++;
      }
    }
    return handed;
  }

  private async loop(handler: (job: ShardJob, ctx: ShardHandlerContext) => Promise<void>): Promise<void> {
    const poll = (this.options.pollSeconds ?? 1) * 1000;
    while (!this.stopping) {
      let jobs: Array<PgBoss.JobWithMetadata<ShardJob>> = [];
      try {
        jobs = await this.boss.fetch<ShardJob>(SCORE_QUEUE, { batchSize: 1, includeMetadata: true });
      } catch (err) {
        this.options.onError?.(err as Error);
      }
      const job = jobs[0];
      if (!job) {
        await Promise.race([sleep(poll), new Promise<void>((r) => (this.wake = r))]);
        continue;
      }
      try {
        await this.withShardLock(job.data, () => handler(job.data, { id: job.id, retry: job.retryCount }));
        await this.boss.complete(SCORE_QUEUE, job.id);
      } catch (err) {
        this.options.onError?.(err as Error);
        await this.boss.fail(SCORE_QUEUE, job.id, { message: (err as Error).message }).catch(() => undefined);
      }
    }
  }

  /**
   * Runs `fn` holding the shard's advisory lock on a connection of its own. A worker that dies
   * drops the connection and PostgreSQL releases the lock with it; one that hangs keeps it, and
   * the job's retry waits for it up to the lease (then fails, to be retried again).
   */
  async withShardLock<T>(job: ShardJob, fn: () => Promise<T>): Promise<T> {
    const client = await this.locks.connect();
    const [a, b] = lockKeys(job.detectorId, job.shard);
    // A connection whose lock or unlock failed may hold the lock still: it is closed, not reused.
    let broken: Error | undefined;
    try {
      try {
        await client.query(`SET lock_timeout = '${Math.max(1, this.options.leaseSeconds)}s'`);
        await client.query('SELECT pg_advisory_lock($1, $2)', [a, b]);
      } catch (err) {
        broken = err as Error;
        throw err;
      }
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [a, b]).catch((err: Error) => {
          broken = err;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /**
   * Runs `fn` unless another process is running it (then resolves without running it): the
   * scheduler's pass, so that 3 API replicas do not each start the same retraining.
   */
  async exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    const client = await this.locks.connect();
    const [a, b] = lockKeys(`scheduler:${name}`, 0);
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        a,
        b,
      ]);
      if (!rows[0]?.ok) return;
      try {
        await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [a, b]).catch((err: Error) => {
          broken = err;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /** Stops taking jobs, waits for the ones in hand, and closes the connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.markStopped();
    await Promise.all(this.loops);
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    await this.locks.end();
  }
}
