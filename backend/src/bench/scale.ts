/**
 * `npm run bench:scale`: scoring spread over worker processes, on a real PostgreSQL (the queue,
 * the shard locks, every entity's state and cursor) and a real influxd (each shard's source rows
 * read, every result written back). 10 000 entities in 32 shards are scored for a few simulated
 * minutes by 1, 2 and 4 worker processes, each time from a backlog of one job per (shard, minute)
 * enqueued as the scheduler would; then 4 workers again, one SIGKILLed in the middle of a shard.
 *
 * The machine this runs on has 2 cores, fewer than the workers plus PostgreSQL and influxd need,
 * so the CPU of scoring (forests over each entity's rows) is a fixed wait per shard and minute
 * (`--cost-ms`, default 200 ms, about 0.6 ms per entity), not real work: that wait parallelises
 * the way scoring does on a worker with a core of its own. Everything else is real and counted
 * apart, per worker: the shard's state read and write, the source read and the results write
 * (shard I/O), and the queue (fetching, completing, waiting for a job).
 *
 * Missed and duplicated pairs come from a ledger each worker commits in the same transaction as
 * the entities' new state: a pair missing from it was never scored, one in it twice was scored
 * twice. The results in InfluxDB are counted too (a retried shard overwrites its points).
 * The last line is:
 * `scale: 10000 entities; 1/2/4 workers x1.00/xA/xB; missed M, duplicated D across a kill; takeover T s`
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startLocalInflux, type LocalInflux } from '../devtools/influxd.js';
import { startLocalPostgres, type LocalPostgres } from '../devtools/postgres.js';
import { InfluxV1Client } from '../io/influx/index.js';
import { ShardQueue } from '../service/workers/queue.js';
import { shardOf } from '../service/workers/shards.js';
import { entityName, ledger, seedFleet, startWorkers } from './scale-harness.js';
import { SCALE_INTERVAL_MS, sourceValue, type ScaleEvent } from './scale-worker.js';

const WORKER = fileURLToPath(new URL('./scale-worker-main.js', import.meta.url));
const DETECTOR = 'fleet';
const T0 = Date.UTC(2026, 0, 1);

interface Settings {
  entities: number;
  shards: number;
  minutes: number;
  costMs: number;
  leaseSeconds: number;
}

interface RunResult {
  workers: number;
  pairs: number;
  rows: number;
  seconds: number;
  events: ScaleEvent[];
  /** The kill run: when and what the victim held, and when another worker had scored it. */
  kill?: { at: number; shard: number; to: number; takeoverAt?: number; retriedAt?: number };
  influxPoints: number;
}

async function run(
  s: Settings,
  pgServer: LocalPostgres,
  influx: LocalInflux,
  workers: number,
  minutes: number,
  kill: boolean,
): Promise<RunResult> {
  const url = await pgServer.createDatabase();
  const resultsDb = `scale_results_${workers}_${kill ? 'kill' : 'run'}`;
  const results = new InfluxV1Client({ url: influx.url, database: resultsDb });
  await results.createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // An idle connection the server drops (its stop at the end) must not crash the run.
  pool.on('error', () => undefined);
  const queue = new ShardQueue({ url, leaseSeconds: s.leaseSeconds, pollSeconds: 0.5, superviseSeconds: 1 });
  await seedFleet(pool, DETECTOR, s.entities, s.shards, T0);
  await queue.start();
  const procs = startWorkers(WORKER, workers, {
    url,
    leaseSeconds: s.leaseSeconds,
    pollSeconds: 0.5,
    costMs: s.costMs,
    influx: { url: influx.url, sourceDb: 'scale_source', resultsDb },
  });
  let killed: RunResult['kill'];
  try {
    await procs.ready;
    if (kill) {
      // The last worker dies half-way through the first shard it takes in the second minute.
      const victim = workers - 1;
      procs.on((e) => {
        if (killed || e.ev !== 'lock' || e.worker !== victim || e.to < T0 + 2 * SCALE_INTERVAL_MS) return;
        killed = { at: 0, shard: e.shard, to: e.to };
        setTimeout(() => {
          procs.kill(victim);
          killed!.at = Date.now();
        }, s.costMs / 2);
      });
      procs.on((e) => {
        if (!killed || killed.at === 0 || e.ev === 'ready' || e.worker === victim || e.shard !== killed.shard)
          return;
        if (e.ev === 'done' && e.to >= killed.to && e.scored > 0) killed.takeoverAt ??= e.at;
        if (e.ev === 'lock' && e.to === killed.to && e.retry > 0) killed.retriedAt ??= e.at;
      });
    }
    const started = Date.now();
    for (let k = 1; k <= minutes; k++) await queue.enqueue(DETECTOR, T0 + k * SCALE_INTERVAL_MS, s.shards);
    const want = s.entities * minutes;
    for (;;) {
      const { pairs } = await ledger(pool, DETECTOR);
      if (pairs >= want && (await queue.unfinished()) === 0) break;
      if (Date.now() - started > 15 * 60_000) throw new Error(`run of ${workers} workers did not finish`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const last = Math.max(...procs.events.filter((e) => e.ev === 'done' && e.scored > 0).map((e) => e.at));
    const counted = await ledger(pool, DETECTOR);
    const points = await results.query('SELECT count("score") FROM "isoscope_anomaly"');
    return {
      workers,
      ...counted,
      seconds: (last - started) / 1000,
      events: procs.events,
      ...(killed ? { kill: killed } : {}),
      influxPoints: Number(points[0]?.[0]?.values[0]?.[1] ?? 0),
    };
  } finally {
    await procs.stop();
    await queue.stop();
    await pool.end();
  }
}

/**
 * Where the workers' time went, as shares of (workers x elapsed): the scoring stand-in, InfluxDB
 * (source read, results write), the registry's PostgreSQL (shard state read and commit), and the
 * queue (fetching and completing jobs, taking the shard lock, waiting for work: the rest).
 */
function breakdown(r: RunResult): { scoring: number; influx: number; state: number; queue: number } {
  let cost = 0;
  let influx = 0;
  let state = 0;
  for (const e of r.events)
    if (e.ev === 'done') {
      cost += e.costMs;
      influx += e.influxMs;
      state += e.stateMs;
    }
  const total = r.workers * r.seconds * 1000;
  return {
    scoring: cost / total,
    influx: influx / total,
    state: state / total,
    queue: 1 - (cost + influx + state) / total,
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entities: { type: 'string', default: '10000' },
      shards: { type: 'string', default: '32' },
      minutes: { type: 'string', default: '3' },
      'cost-ms': { type: 'string', default: '200' },
      'lease-seconds': { type: 'string', default: '10' },
    },
  });
  const s: Settings = {
    entities: Number(values.entities),
    shards: Number(values.shards),
    minutes: Number(values.minutes),
    costMs: Number(values['cost-ms']),
    leaseSeconds: Number(values['lease-seconds']),
  };
  for (const [k, v] of Object.entries(s))
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a whole number above 0, got ${v}`);
  const pgServer = await startLocalPostgres();
  const influx = await startLocalInflux();
  try {
    const killMinutes = Math.max(3, s.minutes);
    const source = new InfluxV1Client({ url: influx.url, database: 'scale_source' });
    await source.createDatabase();
    for (let i = 0; i < s.entities; i += 1000) {
      const lines: string[] = [];
      for (let e = i; e < Math.min(s.entities, i + 1000); e++) {
        const entity = entityName(e);
        const shard = shardOf(DETECTOR, entity, s.shards);
        for (let k = 0; k < killMinutes; k++) {
          const t = T0 + k * SCALE_INTERVAL_MS;
          lines.push(
            `scale_src,entity=${entity},shard=${shard} value=${sourceValue(entity, t).toFixed(3)} ${t}`,
          );
        }
      }
      await source.write(lines);
    }
    process.stdout.write(
      `bench:scale: ${s.entities} entities in ${s.shards} shards, ${s.minutes} simulated minutes a run, scoring stand-in ${s.costMs} ms per shard-minute, lease ${s.leaseSeconds} s\n`,
    );
    // Runs in the order 1, 2, 4, 4, 2, 1 and keeps each count's best: the machine is shared, and
    // a burst of someone else's load during one run would otherwise decide a ratio.
    const best = new Map<number, RunResult>();
    for (const workers of [1, 2, 4, 4, 2, 1]) {
      const r = await run(s, pgServer, influx, workers, s.minutes, false);
      const kept = best.get(workers);
      if (!kept || r.pairs / r.seconds > kept.pairs / kept.seconds) best.set(workers, r);
      if (r.rows !== r.pairs || r.pairs !== s.entities * s.minutes)
        process.stdout.write(
          `  run of ${workers}: missed ${s.entities * s.minutes - r.pairs}, duplicated ${r.rows - r.pairs}\n`,
        );
    }
    const throughput: number[] = [];
    for (const workers of [1, 2, 4]) {
      const r = best.get(workers)!;
      const rate = r.pairs / r.seconds;
      throughput.push(rate);
      const b = breakdown(r);
      // The same shares as milliseconds of one shard job (workers x elapsed / jobs).
      const jobs = r.events.filter((e) => e.ev === 'done' && e.scored > 0).length;
      const perJob = (share: number): string => ((share * workers * r.seconds * 1000) / jobs).toFixed(0);
      process.stdout.write(
        `${workers} worker${workers > 1 ? 's' : ''} (best of 2): ${r.pairs} entity-minutes in ${r.seconds.toFixed(2)} s, ${rate.toFixed(0)}/s (x${(rate / throughput[0]!).toFixed(2)}); worker time: scoring stand-in ${pct(b.scoring)}, InfluxDB ${pct(b.influx)}, shard state ${pct(b.state)}, queue ${pct(b.queue)} (per shard job ${perJob(b.scoring)}/${perJob(b.influx)}/${perJob(b.state)}/${perJob(b.queue)} ms); missed ${s.entities * s.minutes - r.pairs}, duplicated ${r.rows - r.pairs}\n`,
      );
    }
    const k = await run(s, pgServer, influx, 4, killMinutes, true);
    const missed = s.entities * killMinutes - k.pairs;
    const duplicated = k.rows - k.pairs;
    const takeover = k.kill?.takeoverAt !== undefined ? (k.kill.takeoverAt - k.kill.at) / 1000 : NaN;
    const retried = k.kill?.retriedAt !== undefined ? (k.kill.retriedAt - k.kill.at) / 1000 : NaN;
    process.stdout.write(
      `kill: worker 3 of 4 SIGKILLed holding shard ${k.kill?.shard} of minute ${((k.kill?.to ?? T0) - T0) / SCALE_INTERVAL_MS}; its entities scored by another worker ${takeover.toFixed(2)} s later, its job handed back (dead worker's lock free, or lease) and retried in ${retried.toFixed(2)} s; results in InfluxDB ${k.influxPoints} of ${s.entities * killMinutes}\n`,
    );
    const x = (i: number): string => (throughput[i]! / throughput[0]!).toFixed(2);
    process.stdout.write(
      `scale: ${s.entities} entities; 1/2/4 workers x1.00/x${x(1)}/x${x(2)}; missed ${missed}, duplicated ${duplicated} across a kill; takeover ${takeover.toFixed(1)} s\n`,
    );
  } finally {
    await influx.stop();
    await pgServer.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
