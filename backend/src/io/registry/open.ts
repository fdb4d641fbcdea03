import { join } from 'node:path';
import { PostgresRegistry } from './postgres.js';
import { SqliteRegistry } from './sqlite.js';
import type { Registry } from './types.js';

/** True for the URLs that select PostgreSQL. */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

/**
 * The registry the settings name: PostgreSQL when `registryUrl` is a postgres:// URL (replicas
 * share it), else SQLite at `<dataDir>/registry.db` (one process).
 */
export async function openRegistry(settings: {
  dataDir: string;
  registryUrl?: string | undefined;
}): Promise<Registry> {
  if (settings.registryUrl !== undefined && settings.registryUrl !== '') {
    if (!isPostgresUrl(settings.registryUrl))
      throw new Error(`the registry URL must start with postgres:// or postgresql://`);
    return PostgresRegistry.open(settings.registryUrl);
  }
  return new SqliteRegistry(join(settings.dataDir, 'registry.db'));
}
