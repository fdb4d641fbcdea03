/** `node backend/dist/devtools/influxd-main.js [port]`: one throwaway influxd until Ctrl-C (scripts/influxd.sh). */
import { startLocalInflux } from './influxd.js';

const port = process.argv[2] ? Number(process.argv[2]) : undefined;
const influx = await startLocalInflux(port ? { port } : {});
process.stdout.write(`influxd listening on ${influx.url} (data in ${influx.dataDir}); Ctrl-C stops it\n`);
const stop = (): void => void influx.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
