export * from './types.js';
export { SqliteRegistry } from './sqlite.js';
export { MIGRATIONS } from './migrations.js';
