/**
 * `npm run bench:registry`: what a promotion costs the registry when model bundles (the
 * checkpoints) are megabytes, on SQLite and on a throwaway PostgreSQL (Debian's, when installed).
 *
 * A detector with `--entities` entities (6) and two versions each, every bundle `--mb` megabytes
 * (2). Timed, the median of `--repeats` (5) runs each:
 * - promote: one `setStages` moving every entity's other version to production (a training job's
 *   promotion: one transaction, which on SQLite every other writer waits behind);
 * - stage: one `setStage` (an admin's promotion through the API);
 * - list: `models.list` (the Detectors page, the scheduler's every pass);
 * - writer: a small write (`streamState.set`) issued while a promotion runs: how long another
 *   writer waits;
 * - reference: the same small write alone, the unit the others are printed in (ratios to a
 *   reference measured in the same run, as the other benchmarks do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findPostgresBin, startLocalPostgres, type LocalPostgres } from '../devtools/postgres.js';
import { PostgresRegistry, SqliteRegistry, type Registry } from '../io/registry/index.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(
      `bench:registry: --${name} needs a number > 0, got ${process.argv[at + 1] ?? 'nothing'}\n`,
    );
    process.exit(2);
  }
  return value;
}

const ENTITIES = Math.round(option('entities', 6));
const MB = option('mb', 2);
const REPEATS = Math.round(option('repeats', 5));

/** A bundle of about `MB` megabytes: JSON text, as checkpoints are. */
function bundle(seed: number): string {
  const chunk = `${seed.toString(36)}abcdefghijklmnopqrstuvwxyz0123456789`.repeat(32);
  return JSON.stringify({ seed, data: chunk.repeat(Math.ceil((MB * 1_048_576) / chunk.length)) });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

interface Row {
  backend: string;
  reference: number;
  promote: number;
  stage: number;
  list: number;
  writer: number;
}

async function measure(backend: string, r: Registry): Promise<Row> {
  await r.detectors.create({ id: 'cpu', name: 'cpu', spec: {} }, 1);
  // versions[e] = [first, second] of entity e
  const versions: number[][] = [];
  for (let e = 0; e < ENTITIES; e++) {
    const pair: number[] = [];
    for (let k = 0; k < 2; k++)
      pair.push(
        (
          await r.models.add(
            { detectorId: 'cpu', entity: `web-${e}`, bundle: bundle(e * 2 + k), metrics: {}, params: {} },
            'bench',
            2,
          )
        ).version,
      );
    versions.push(pair);
  }
  await r.models.setStages(
    'cpu',
    versions.map(([a]) => ({ version: a!, to: 'production' as const, reason: 'first' })),
    'bench',
    3,
  );
  let now = 10;
  // Every entity's version that is not in production, to production (the moves read untimed).
  const promoteAll = async (): Promise<() => Promise<unknown>> => {
    const live = new Set(
      (await r.models.list('cpu')).filter((v) => v.stage === 'production').map((v) => v.version),
    );
    const moves = versions.map((pair) => ({
      version: live.has(pair[0]!) ? pair[1]! : pair[0]!,
      to: 'production' as const,
      reason: 'bench',
    }));
    return () => r.models.setStages('cpu', moves, 'bench', now++);
  };
  const reference: number[] = [];
  const promote: number[] = [];
  const stage: number[] = [];
  const list: number[] = [];
  const writer: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    reference.push(await timed(() => r.streamState.set('cpu', 'bench', `{"i":${i}}`, now++)));
    promote.push(await timed(await promoteAll()));
    // One entity's archived version back to production, as POST …/stage does.
    const e = i % ENTITIES;
    const archived = (await r.models.list('cpu')).find(
      (v) => v.entity === `web-${e}` && v.stage === 'archived',
    )!;
    stage.push(
      await timed(() => r.models.setStage('cpu', archived.version, 'production', 'bench', 'x', now++)),
    );
    list.push(await timed(() => r.models.list('cpu')));
    // Another writer arriving just after a promotion started waits for its transaction.
    const start = await promoteAll();
    const running = start();
    writer.push(await timed(() => r.streamState.set('cpu', 'bench', `{"w":${i}}`, now++)));
    await running;
  }
  return {
    backend,
    reference: median(reference),
    promote: median(promote),
    stage: median(stage),
    list: median(list),
    writer: median(writer),
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'isoscope-bench-registry-'));
  let server: LocalPostgres | undefined;
  try {
    const sqlite = new SqliteRegistry(join(dir, 'registry.db'));
    try {
      rows.push(await measure('sqlite', sqlite));
    } finally {
      await sqlite.close();
    }
    if (findPostgresBin()) {
      server = await startLocalPostgres();
      const pg = await PostgresRegistry.open(await server.createDatabase());
      try {
        rows.push(await measure('postgres', pg));
      } finally {
        await pg.close();
      }
    } else process.stderr.write('bench:registry: no PostgreSQL installed; SQLite only\n');
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const ratio = (x: number, ref: number) => `×${(x / ref).toFixed(0)}`;
  console.log(
    `bench:registry: ${ENTITIES} entities × 2 versions, bundles of ${MB} MB; medians of ${REPEATS} (×: per small write alone)`,
  );
  console.log(
    'backend   small write   promote all        one stage          list               writer behind a promotion',
  );
  for (const r of rows)
    console.log(
      [
        r.backend.padEnd(9),
        ms(r.reference).padEnd(13),
        `${ms(r.promote)} ${ratio(r.promote, r.reference)}`.padEnd(18),
        `${ms(r.stage)} ${ratio(r.stage, r.reference)}`.padEnd(18),
        `${ms(r.list)} ${ratio(r.list, r.reference)}`.padEnd(18),
        `${ms(r.writer)} ${ratio(r.writer, r.reference)}`,
      ].join(' '),
    );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:registry: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
