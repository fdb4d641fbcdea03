import pg from 'pg';
import type { Queryable, SqlDb, SqlValue } from './sql.js';

const INT8 = 20;
/**
 * BIGINT (int8) columns hold epoch milliseconds and serial ids: parsed as JS numbers, exact below
 * 2^53 (year 287 396 in milliseconds), instead of pg's default strings. Set on this pool only, not
 * pg's global parsers, so other users of `pg` in the process are unaffected.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The stores write `?` placeholders (SQLite's); PostgreSQL numbers them. */
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, out);
  }
  return out;
}

function queryable(run: (sql: string, params: SqlValue[]) => Promise<pg.QueryResult>): Queryable {
  return {
    all: async (sql, params = []) => (await run(toPg(sql), params)).rows,
    get: async (sql, params = []) => (await run(toPg(sql), params)).rows[0],
    run: async (sql, params = []) => (await run(toPg(sql), params)).rowCount ?? 0,
  };
}

/**
 * PostgreSQL through a `pg` pool. Each transaction takes a connection of its own, so concurrent
 * requests (and replicas) run side by side; READ COMMITTED plus `FOR UPDATE` on the row a change
 * hangs off (the detector, `FOR NO KEY UPDATE`: it does not block inserts that only reference it) serialises the changes that must not interleave.
 */
export class PgDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  readonly forUpdate = ' FOR NO KEY UPDATE';
  readonly pool: pg.Pool;
  private readonly direct: Queryable;

  constructor(url: string, options: { max?: number } = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      types,
      // A database that does not answer (a blackholed address) fails readiness and requests in
      // seconds, not after the kernel's TCP timeout of minutes.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    // An idle connection the server dropped (restart, failover) must not crash the process: the
    // pool discards it and the next query opens a new one.
    this.pool.on('error', () => undefined);
    this.direct = queryable((sql, params) => this.pool.query(sql, params));
  }

  all(sql: string, params?: SqlValue[]): Promise<unknown[]> {
    return this.direct.all(sql, params);
  }
  get(sql: string, params?: SqlValue[]): Promise<unknown> {
    return this.direct.get(sql, params);
  }
  run(sql: string, params?: SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let active = true;
    const tx = queryable((sql, params) => {
      if (!active) throw new Error('registry: a query used a transaction after it ended');
      return client.query(sql, params);
    });
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable (the server went away): do not return it to the pool.
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      active = false;
      client.release(broken);
    }
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown }).code === '23505';
  }

  isForeignKeyViolation(err: unknown): boolean {
    return (err as { code?: unknown }).code === '23503';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
