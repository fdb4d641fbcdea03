/** `node backend/dist/devtools/postgres-main.js [port]`: one throwaway PostgreSQL until Ctrl-C (scripts/postgres.sh). */
import { startLocalPostgres } from './postgres.js';

const port = process.argv[2] ? Number(process.argv[2]) : undefined;
const server = await startLocalPostgres(port ? { port } : {});
const url = await server.createDatabase('isoscope');
process.stdout.write(
  `postgres listening on 127.0.0.1:${server.port} (data in ${server.dataDir}); Ctrl-C stops it and deletes the data\n` +
    `ISOSCOPE_REGISTRY_URL=${url}\n`,
);
const stop = (): void => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
