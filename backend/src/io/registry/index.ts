export * from './types.js';
export { SqliteRegistry } from './sqlite.js';
export { PostgresRegistry, redactUrl } from './postgres.js';
export { openRegistry, isPostgresUrl } from './open.js';
export { RegistryCorruptError, decodeJson } from './rows.js';
export { SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS } from './migrations.js';
