import { startLocalPostgres, type LocalPostgres } from '../../backend/src/devtools/postgres.js';

export interface TestPostgres {
  server: LocalPostgres;
  /** The URL of a fresh, empty database of its own (a registry migrates it on open). */
  database(): Promise<string>;
}

/**
 * Starts a real PostgreSQL (Debian's package) on a free loopback port for one test file, with a
 * throwaway data directory; as root it runs as the `postgres` user. Stop it in afterAll.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const server = await startLocalPostgres();
  return { server, database: () => server.createDatabase() };
}
