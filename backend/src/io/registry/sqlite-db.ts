import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Queryable, SqlDb, SqlValue } from './sql.js';

/**
 * SQLite through better-sqlite3 (WAL mode, foreign keys on). better-sqlite3 is synchronous and the
 * file has one connection, so an async transaction must keep every other query of this process out
 * until it ends, or that query would run inside it (and be rolled back with it): queries outside a
 * transaction wait while one is open. The gate is per file, not per connection: busy_timeout is a
 * synchronous wait, so a second connection of this process waiting for the file's lock would
 * block the event loop the first one needs to finish its transaction. Across processes, BEGIN
 * IMMEDIATE takes the file's write lock at the start (busy_timeout waits for it), so two writers
 * never deadlock upgrading a read lock.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  readonly forUpdate = '';
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly gate: Gate;
  private readonly gateKey: string | undefined;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives the process
    // being killed, and the file stays consistent after a power loss, which may only roll back the
    // last commits (runtimes then score their last interval again: results are written first and
    // idempotent). FULL's fsync per commit held the event loop on every runtime's save.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.gateKey = file === ':memory:' ? undefined : realpathSync(file);
    this.gate = this.gateKey === undefined ? { open: undefined, users: 1 } : gateFor(this.gateKey);
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private allNow(sql: string, params: SqlValue[]): unknown[] {
    const statement = this.prepare(sql);
    if (statement.reader) return statement.all(...params);
    statement.run(...params);
    return [];
  }

  private runNow(sql: string, params: SqlValue[]): number {
    const statement = this.prepare(sql);
    if (statement.reader) return statement.all(...params).length;
    return statement.run(...params).changes;
  }

  // Each method below checks the gate and then runs synchronously in the same turn: a check in a
  // helper awaited before the query would be stale by the time the query runs.
  async all(sql: string, params: SqlValue[] = []): Promise<unknown[]> {
    while (this.gate.open) await this.gate.open;
    return this.allNow(sql, params);
  }

  async get(sql: string, params: SqlValue[] = []): Promise<unknown> {
    return (await this.all(sql, params))[0];
  }

  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    while (this.gate.open) await this.gate.open;
    return this.runNow(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    while (this.gate.open) await this.gate.open;
    let end!: () => void;
    this.gate.open = new Promise<void>((resolve) => (end = resolve));
    let active = true;
    const guard = (): void => {
      if (!active) throw new Error('registry: a query used a transaction after it ended');
    };
    const tx: Queryable = {
      all: async (sql, params = []) => (guard(), this.allNow(sql, params)),
      get: async (sql, params = []) => (guard(), this.allNow(sql, params)[0]),
      run: async (sql, params = []) => (guard(), this.runNow(sql, params)),
    };
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      active = false;
      this.gate.open = undefined;
      end();
    }
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: unknown }).code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  isForeignKeyViolation(err: unknown): boolean {
    return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
  }

  async close(): Promise<void> {
    while (this.gate.open) await this.gate.open;
    this.db.close();
    if (this.gateKey !== undefined && --this.gate.users === 0) gates.delete(this.gateKey);
  }
}

interface Gate {
  /** Set while a transaction on the file is open; resolves when it ends. */
  open: Promise<void> | undefined;
  users: number;
}

const gates = new Map<string, Gate>();

function gateFor(file: string): Gate {
  let gate = gates.get(file);
  if (!gate) gates.set(file, (gate = { open: undefined, users: 0 }));
  gate.users++;
  return gate;
}
