/**
 * Scoring spread over worker processes with pg-boss on a real PostgreSQL: two workers (child
 * processes running the built scale-worker.js, the service's ShardQueue with a small per-entity
 * state), eight shards, three intervals; one worker is SIGKILLed while it holds a shard. Every
 * (entity, interval) must be committed exactly once, and the killed worker's job must be taken
 * over by the other once its lease runs out.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { ledger, seedFleet, startWorkers, type Workers } from '../../backend/src/bench/scale-harness.js';
import { SCALE_INTERVAL_MS } from '../../backend/src/bench/scale-worker.js';
import { SCORE_QUEUE, ShardQueue } from '../../backend/src/service/workers/queue.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { repoPath } from '../support/repo.js';

const ENTITIES = 300;
const SHARDS = 8;
const INTERVALS = 3;
const T0 = Date.UTC(2026, 0, 1);
const LEASE = 5;

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.server.stop();
});

/** Polls `check` until it is true; a hang guard, not a timing assertion. */
async function until(what: string, check: () => Promise<boolean>, limitMs = 90_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('two workers score every (entity, interval) once, and a SIGKILLed worker’s shard is taken over', async () => {
  const url = await postgres.database();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  const queue = new ShardQueue({ url, leaseSeconds: LEASE, pollSeconds: 0.5, superviseSeconds: 1 });
  let workers: Workers | undefined;
  try {
    await seedFleet(pool, 'fleet', ENTITIES, SHARDS, T0);
    await queue.start();
    workers = startWorkers(repoPath('backend', 'dist', 'bench', 'scale-worker-main.js'), 2, {
      url,
      leaseSeconds: LEASE,
      pollSeconds: 0.5,
      costMs: 150,
    });
    await workers.ready;
    // Worker 0 dies on its third shard, while it holds the shard's lock and job (mid-scoring).
    let victim: { shard: number; to: number; at: number } | undefined;
    let locks = 0;
    workers.on((e) => {
      if (e.ev === 'lock' && e.worker === 0 && ++locks === 3 && !victim) {
        workers!.kill(0);
        victim = { shard: e.shard, to: e.to, at: Date.now() };
      }
    });
    for (let k = 1; k <= INTERVALS; k++) await queue.enqueue('fleet', T0 + k * SCALE_INTERVAL_MS, SHARDS);

    await until(
      'every pair to be scored',
      async () => (await ledger(pool, 'fleet')).pairs === ENTITIES * INTERVALS,
    );
    await until('every job to finish', async () => (await queue.unfinished()) === 0);
    expect(victim).toBeDefined();
    const counts = await ledger(pool, 'fleet');
    expect(counts).toEqual({ rows: ENTITIES * INTERVALS, pairs: ENTITIES * INTERVALS });
    // The killed job itself came back after its lease (a retry) and went to the other worker.
    const retried = workers.events.filter(
      (e) => e.ev === 'lock' && e.worker === 1 && e.shard === victim!.shard && e.to === victim!.to,
    );
    expect(retried.length).toBe(1);
    expect(retried[0]).toMatchObject({ retry: 1 });
    // Worker 0 committed nothing for the shard it died on at that interval.
    const { rows } = await pool.query<{ worker: number; n: string }>(
      `SELECT l.worker, count(*) AS n FROM scale_ledger l JOIN scale_state s USING (detector, entity)
        WHERE s.shard = $1 AND l.t = $2 GROUP BY l.worker`,
      [victim!.shard, victim!.to - SCALE_INTERVAL_MS],
    );
    expect(rows.map((r) => r.worker)).toEqual([1]);
  } finally {
    await workers?.stop();
    await queue.stop();
    await pool.end();
  }
});

test('a sweep hands back an active job whose shard lock is free, and leaves one whose worker holds it', async () => {
  const url = await postgres.database();
  const queue = new ShardQueue({ url, leaseSeconds: 600, pollSeconds: 0.5, sweepSeconds: 600 });
  const other = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  other.on('error', () => undefined);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  try {
    await queue.start();
    await other.start();
    await queue.enqueue('fleet', T0 + SCALE_INTERVAL_MS, 2);
    // A worker that took a job and died before (or after) its lock: the job is active, the lock free.
    const [orphan] = await other.fetch<{ shard: number }>(SCORE_QUEUE);
    expect(orphan).toBeDefined();
    // A live worker scoring the other shard holds its lock.
    queue.work(async () => {
      started();
      await held;
    });
    await running;
    expect(await queue.sweep(0)).toBe(1);
    const back = await other.getJobById(SCORE_QUEUE, orphan!.id);
    expect(back?.state).toBe('retry');
    // Swept again: the live one still holds its lock, and the orphan is no longer active.
    expect(await queue.sweep(0)).toBe(0);
  } finally {
    release();
    await queue.stop();
    await other.stop({ graceful: false, wait: true });
  }
});
