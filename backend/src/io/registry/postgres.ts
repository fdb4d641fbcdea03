import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PgDb } from './pg-db.js';
import { StoreRegistry } from './registry.js';
import { NumberRow, check } from './rows.js';

/** Any fixed number: the advisory lock replicas take while one of them migrates. */
const MIGRATION_LOCK = 7_312_019;

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * The registry in PostgreSQL, for several replicas sharing one registry. The same stores as
 * SQLite; changes that must not interleave lock the detector's row (`FOR NO KEY UPDATE`), so they
 * serialise across replicas, and migrations run once under an advisory lock however many replicas
 * start together.
 */
export class PostgresRegistry extends StoreRegistry {
  private constructor(private readonly pg: PgDb) {
    super(pg);
  }

  /** Connects and applies the migrations not yet applied. */
  static async open(url: string, options: { maxConnections?: number } = {}): Promise<PostgresRegistry> {
    const db = new PgDb(url, options.maxConnections !== undefined ? { max: options.maxConnections } : {});
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      const e = err as Error & { code?: string };
      if (e.message.startsWith('the registry')) throw e;
      throw new Error(
        `registry: cannot open PostgreSQL at ${redactUrl(url)}: ${e.message || e.code || String(e)}`,
        {
          cause: err,
        },
      );
    }
    return new PostgresRegistry(db);
  }

  async schemaVersion(): Promise<number> {
    return check(
      NumberRow,
      await this.pg.get('SELECT COALESCE(MAX(version), 0) AS n FROM isoscope_schema'),
      'isoscope_schema',
    ).n;
  }
}

async function migrate(db: PgDb): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await tx.run(
      'CREATE TABLE IF NOT EXISTS isoscope_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const current = check(
      NumberRow,
      await tx.get('SELECT COALESCE(MAX(version), 0) AS n FROM isoscope_schema'),
      'isoscope_schema',
    ).n;
    if (current > POSTGRES_MIGRATIONS.length)
      throw new Error(
        `the registry's schema is version ${current}, newer than this Isoscope knows (${POSTGRES_MIGRATIONS.length}): upgrade Isoscope`,
      );
    for (let v = current; v < POSTGRES_MIGRATIONS.length; v++) {
      // No parameters: pg sends the text as a simple query, so a migration may hold several statements.
      await tx.run(POSTGRES_MIGRATIONS[v]!);
      await tx.run('INSERT INTO isoscope_schema (version, applied_at) VALUES (?, ?)', [v + 1, Date.now()]);
    }
  });
}
