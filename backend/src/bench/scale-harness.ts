/**
 * What `npm run bench:scale` and the worker test share: seeding a fleet's per-entity state,
 * starting worker processes (scale-worker.js) and following their events, and counting what the
 * ledger says was scored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { shardOf } from '../service/workers/shards.js';
import { SCALE_SCHEMA, type ScaleEvent, type ScaleWorkerSettings } from './scale-worker.js';

export const entityName = (i: number): string => `e${String(i).padStart(5, '0')}`;

/** Creates the tables and one state row per entity, its cursor at `t0`. */
export async function seedFleet(
  pool: pg.Pool,
  detector: string,
  entities: number,
  shards: number,
  t0: number,
): Promise<void> {
  await pool.query(SCALE_SCHEMA);
  const names = Array.from({ length: entities }, (_, i) => entityName(i));
  await pool.query(
    `INSERT INTO scale_state (detector, entity, shard, cursor, n, mean, m2)
       SELECT $1, e, s, $4, 0, 0, 0 FROM unnest($2::text[], $3::int[]) AS u(e, s)`,
    [detector, names, names.map((e) => shardOf(detector, e, shards)), t0],
  );
}

/** Ledger rows of a detector, and how many distinct (entity, time) pairs they cover. */
export async function ledger(pool: pg.Pool, detector: string): Promise<{ rows: number; pairs: number }> {
  const { rows } = await pool.query<{ rows: string; pairs: string }>(
    `SELECT count(*) AS rows, count(DISTINCT (entity, t)) AS pairs FROM scale_ledger WHERE detector = $1`,
    [detector],
  );
  return { rows: Number(rows[0]!.rows), pairs: Number(rows[0]!.pairs) };
}

export interface Workers {
  events: ScaleEvent[];
  /** Resolves when every worker said it is ready. */
  ready: Promise<void>;
  /** Calls `fn` on every event as it arrives. */
  on(fn: (e: ScaleEvent) => void): void;
  kill(worker: number): void;
  /** SIGTERM to the living, and waits for them to exit. */
  stop(): Promise<void>;
}

/** Starts `n` worker processes (numbered 0..n-1) running `script` (the built scale-worker-main.js). */
export function startWorkers(
  script: string,
  n: number,
  settings: Omit<ScaleWorkerSettings, 'worker'>,
): Workers {
  const events: ScaleEvent[] = [];
  const listeners: Array<(e: ScaleEvent) => void> = [];
  const children: ChildProcess[] = [];
  const exits: Array<Promise<void>> = [];
  let readyCount = 0;
  let markReady!: () => void;
  let failReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  for (let worker = 0; worker < n; worker++) {
    const child = spawn(process.execPath, [script, JSON.stringify({ ...settings, worker })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    exits.push(
      new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          if (readyCount < n && code !== 0 && signal === null)
            failReady(new Error(`worker ${worker} exited with ${code}: ${stderr}`));
          resolve();
        }),
      ),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: ScaleEvent;
      try {
        e = JSON.parse(line) as ScaleEvent;
      } catch {
        return;
      }
      events.push(e);
      for (const fn of listeners) fn(e);
      if (e.ev === 'ready' && ++readyCount === n) markReady();
    });
  }
  return {
    events,
    ready,
    on: (fn) => void listeners.push(fn),
    kill: (worker) => void children[worker]!.kill('SIGKILL'),
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(exits);
    },
  };
}
