/**
 * One worker process of `npm run bench:scale` (and of the worker test): it works the scoring
 * queue with the service's ShardQueue (pg-boss, shard advisory locks, leases), scoring a fleet
 * whose per-entity state is small (a running mean and variance, the score a z-score) so that
 * 10 000 entities fit in a test database. The CPU cost of scoring a shard with real forests is
 * stood in for by a fixed wait per shard and interval (`costMs`), measured apart from the rest:
 * every other step (queue, lock, state read and write, source read, result write) is real.
 *
 * Started as `node scale-worker-main.js '<json settings>'`; it prints one JSON line per event on
 * stdout (ready, lock, done) for the parent to time, and stops on SIGTERM.
 */
import pg from 'pg';
import { InfluxV1Client } from '../io/influx/index.js';
import { ShardQueue, type ShardJob } from '../service/workers/queue.js';

export const SCALE_INTERVAL_MS = 60_000;

export interface ScaleWorkerSettings {
  worker: number;
  url: string;
  leaseSeconds: number;
  pollSeconds: number;
  /** The stand-in for scoring's CPU: this long per shard per interval scored. */
  costMs: number;
  /** Source rows and results in InfluxDB; without it the values are a function of (entity, time). */
  influx?: { url: string; sourceDb: string; resultsDb: string };
}

export type ScaleEvent =
  | { ev: 'ready'; worker: number; at: number }
  | { ev: 'lock'; worker: number; shard: number; to: number; retry: number; at: number }
  | {
      ev: 'done';
      worker: number;
      shard: number;
      to: number;
      scored: number;
      busyMs: number;
      costMs: number;
      /** Time in the registry's PostgreSQL (state read and commit) and in InfluxDB (source, results). */
      stateMs: number;
      influxMs: number;
      at: number;
    };

/** The tables the simulation keeps its per-entity state and its ledger of scored pairs in. */
export const SCALE_SCHEMA = `
CREATE TABLE IF NOT EXISTS scale_state (
  detector TEXT NOT NULL, entity TEXT NOT NULL, shard INTEGER NOT NULL,
  cursor BIGINT NOT NULL, n INTEGER NOT NULL, mean DOUBLE PRECISION NOT NULL, m2 DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (detector, entity));
CREATE INDEX IF NOT EXISTS scale_state_shard ON scale_state (detector, shard);
-- No unique key on purpose: a pair committed twice shows up as two rows (a duplicate).
CREATE TABLE IF NOT EXISTS scale_ledger (
  detector TEXT NOT NULL, entity TEXT NOT NULL, t BIGINT NOT NULL, worker INTEGER NOT NULL);
`;

/** A source value the same in every process (the fleet's metric when no InfluxDB is given). */
export function sourceValue(entity: string, t: number): number {
  let h = 2166136261;
  for (const c of `${entity}@${t}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return 50 + 10 * Math.sin(t / 3_600_000) + (h % 1000) / 100;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Scores one shard job: under the shard's lock (held by ShardQueue), reads the shard's entities
 * and their cursors, reads their source rows past the cursor, scores them, writes the results
 * (keyed by detector, entity and time: a retry overwrites the same points), then commits every
 * entity's new state and cursor with the ledger rows in one transaction.
 */
async function scoreShard(
  s: ScaleWorkerSettings,
  pool: pg.Pool,
  source: InfluxV1Client | undefined,
  results: InfluxV1Client | undefined,
  job: ShardJob,
): Promise<{ scored: number; costMs: number; stateMs: number; influxMs: number }> {
  let mark = performance.now();
  const { rows } = await pool.query<{ entity: string; cursor: number; n: number; mean: number; m2: number }>(
    'SELECT entity, cursor::float8 AS cursor, n, mean, m2 FROM scale_state WHERE detector = $1 AND shard = $2 AND cursor < $3',
    [job.detectorId, job.shard, job.to],
  );
  let stateMs = performance.now() - mark;
  if (rows.length === 0) return { scored: 0, costMs: 0, stateMs, influxMs: 0 };
  const from = Math.min(...rows.map((r) => r.cursor));
  const values = new Map<string, Map<number, number>>();
  mark = performance.now();
  if (source) {
    const answer = await source.query(
      `SELECT "value" FROM "scale_src" WHERE "shard" = '${job.shard}' AND time >= ${from}ms AND time < ${job.to}ms GROUP BY "entity"`,
    );
    for (const series of answer[0] ?? []) {
      const m = new Map<number, number>();
      for (const [t, v] of series.values) m.set(t as number, v as number);
      values.set(series.tags?.entity ?? '', m);
    }
  }
  let influxMs = performance.now() - mark;
  const costMs = (s.costMs * (job.to - from)) / SCALE_INTERVAL_MS;
  await sleep(costMs);
  const lines: string[] = [];
  const ledger: { entity: string[]; t: number[] } = { entity: [], t: [] };
  const next: { entity: string[]; n: number[]; mean: number[]; m2: number[] } = {
    entity: [],
    n: [],
    mean: [],
    m2: [],
  };
  for (const r of rows) {
    let { n, mean, m2 } = r;
    for (let t = r.cursor; t < job.to; t += SCALE_INTERVAL_MS) {
      const x = source ? values.get(r.entity)?.get(t) : sourceValue(r.entity, t);
      ledger.entity.push(r.entity);
      ledger.t.push(t);
      if (x === undefined) continue;
      const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
      const z = sd > 0 ? Math.abs(x - mean) / sd : 0;
      n++;
      const d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
      lines.push(`isoscope_anomaly,detector=${job.detectorId},entity=${r.entity} score=${z.toFixed(4)} ${t}`);
    }
    next.entity.push(r.entity);
    next.n.push(n);
    next.mean.push(mean);
    next.m2.push(m2);
  }
  mark = performance.now();
  if (results) await results.write(lines);
  influxMs += performance.now() - mark;
  mark = performance.now();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `UPDATE scale_state s SET cursor = $3, n = u.n, mean = u.mean, m2 = u.m2
         FROM unnest($2::text[], $4::int[], $5::float8[], $6::float8[]) AS u(entity, n, mean, m2)
        WHERE s.detector = $1 AND s.entity = u.entity`,
      [job.detectorId, next.entity, job.to, next.n, next.mean, next.m2],
    );
    await client.query(
      `INSERT INTO scale_ledger (detector, entity, t, worker)
         SELECT $1, e, t, $4 FROM unnest($2::text[], $3::bigint[]) AS u(e, t)`,
      [job.detectorId, ledger.entity, ledger.t, s.worker],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  stateMs += performance.now() - mark;
  return { scored: ledger.t.length, costMs, stateMs, influxMs };
}

/** Runs one worker until SIGTERM (scale-worker-main.ts is the process's entry). */
export async function runScaleWorker(s: ScaleWorkerSettings): Promise<void> {
  const say = (e: ScaleEvent): void => void process.stdout.write(`${JSON.stringify(e)}\n`);
  const pool = new pg.Pool({ connectionString: s.url, max: 3 });
  const source = s.influx
    ? new InfluxV1Client({ url: s.influx.url, database: s.influx.sourceDb })
    : undefined;
  const results = s.influx
    ? new InfluxV1Client({ url: s.influx.url, database: s.influx.resultsDb })
    : undefined;
  const queue = new ShardQueue({
    url: s.url,
    leaseSeconds: s.leaseSeconds,
    pollSeconds: s.pollSeconds,
    superviseSeconds: 1,
    onError: (err) => process.stderr.write(`worker ${s.worker}: ${err.message}\n`),
  });
  await queue.start();
  queue.work(async (job, ctx) => {
    const started = Date.now();
    say({ ev: 'lock', worker: s.worker, shard: job.shard, to: job.to, retry: ctx.retry, at: started });
    const done = await scoreShard(s, pool, source, results, job);
    const at = Date.now();
    say({ ev: 'done', worker: s.worker, shard: job.shard, to: job.to, ...done, busyMs: at - started, at });
  });
  say({ ev: 'ready', worker: s.worker, at: Date.now() });
  process.once('SIGTERM', () => {
    void queue
      .stop()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}
