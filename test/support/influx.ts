import { startLocalInflux, type LocalInflux } from '../../backend/src/devtools/influxd.js';
import { InfluxV1Client } from '../../backend/src/io/influx/index.js';

export interface TestInflux {
  server: LocalInflux;
  /** A client on a fresh database of its own. */
  client(database?: string): Promise<InfluxV1Client>;
}

let counter = 0;

/** Starts a real influxd (Debian's package) on a free loopback port for one test file. */
export async function startTestInflux(): Promise<TestInflux> {
  const server = await startLocalInflux();
  return {
    server,
    async client(database?: string) {
      const client = new InfluxV1Client({
        url: server.url,
        database: database ?? `test_${process.pid}_${++counter}`,
      });
      await client.createDatabase();
      return client;
    },
  };
}
