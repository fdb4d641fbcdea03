import { SQLITE_MIGRATIONS } from './migrations.js';
import { StoreRegistry } from './registry.js';
import { SqliteDb } from './sqlite-db.js';

/**
 * The registry in one SQLite file (WAL mode, foreign keys on): the embedded default for a single
 * node, the demo and the CLI. SQLite allows one writer: run one service replica per file (the
 * Kubernetes overlay `sqlite-single` does), or `PostgresRegistry` for several.
 */
export class SqliteRegistry extends StoreRegistry {
  private readonly sqlite: SqliteDb;

  constructor(file: string) {
    const db = new SqliteDb(file);
    super(db);
    this.sqlite = db;
    this.migrate();
  }

  /** Applies the migrations not yet applied, each in its own transaction. */
  private migrate(): void {
    const db = this.sqlite.db;
    const current = this.schemaVersion;
    if (current > SQLITE_MIGRATIONS.length) {
      // Nothing is open on a registry being constructed, so this closes at once.
      void this.sqlite.close();
      throw new Error(
        `the registry's schema is version ${current}, newer than this Isoscope knows (${SQLITE_MIGRATIONS.length}): upgrade Isoscope`,
      );
    }
    for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(SQLITE_MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  get schemaVersion(): number {
    return this.sqlite.db.pragma('user_version', { simple: true }) as number;
  }

  override async ping(): Promise<boolean> {
    return this.sqlite.db.open && (await super.ping());
  }
}
