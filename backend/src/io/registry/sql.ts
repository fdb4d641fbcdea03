/**
 * The little the stores need from a SQL database, so one store implementation serves SQLite and
 * PostgreSQL: queries with `?` placeholders, and transactions that happen whole or not at all.
 * The SQL the stores write is the common subset of both dialects (ON CONFLICT, RETURNING,
 * COALESCE); the few differences are properties here (`forUpdate`) rather than branches in stores.
 */

export type SqlValue = string | number | null;

export interface Queryable {
  /** All rows. Integers come back as JS numbers in both dialects (BIGINT is parsed as a number). */
  all(sql: string, params?: SqlValue[]): Promise<unknown[]>;
  /** The first row, or undefined. */
  get(sql: string, params?: SqlValue[]): Promise<unknown>;
  /** A statement without rows: how many rows it changed. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
}

export interface SqlDb extends Queryable {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Appended to a SELECT that reads a row the transaction will change: PostgreSQL locks the row so
   * two replicas serialise on it; SQLite has one writer per file already (BEGIN IMMEDIATE).
   */
  readonly forUpdate: string;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** A unique or primary-key constraint refused the write. */
  isUniqueViolation(err: unknown): boolean;
  /** A foreign key refused the write (the detector it names does not exist). */
  isForeignKeyViolation(err: unknown): boolean;
  close(): Promise<void>;
}
