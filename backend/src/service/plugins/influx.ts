import fp from 'fastify-plugin';
import { BatchWriter, InfluxV1Client } from '../../io/influx/index.js';

/** How long a shutdown waits for InfluxDB to take the results still queued. */
export const SHUTDOWN_WRITE_GRACE_MS = 5_000;

declare module 'fastify' {
  interface FastifyInstance {
    /** Batches results to isoscope_anomaly; keeps and retries them while InfluxDB is down. */
    results: BatchWriter;
  }
}

/** The InfluxDB client as `app.influx` (v1 API: 1.x, and 2.x/3.x through their compatibility API). */
export default fp(
  async (app) => {
    const c = app.config;
    const password = c.influxPassword ?? c.influxToken;
    const client = new InfluxV1Client({
      url: c.influxUrl,
      database: c.influxBucket ?? c.influxDb,
      maxConcurrentQueries: c.influxMaxQueries,
      // A detector's source.database is checked here, on every read: a stored detector that names
      // a database the configuration no longer allows stops reading it too.
      allowedDatabases: (c.influxAllowedDatabases ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
      ...(c.influxUser !== undefined ? { username: c.influxUser } : {}),
      ...(password !== undefined ? { password } : {}),
      observe: (operation, seconds, failed) => {
        app.telemetry.influxRequests.observe({ operation }, seconds);
        if (failed) app.telemetry.influxErrors.inc({ operation });
      },
    });
    app.decorate('influx', client);
    const results = new BatchWriter((lines) => client.write(lines), {
      onRetry: (err, attempt, delayMs) =>
        app.log.warn({ err: err.message, attempt, delayMs }, 'writing results failed; retrying'),
      onRejected: (err, lines) =>
        app.log.error({ err: err.message, lines }, 'InfluxDB refused results as malformed'),
      onDropped: (lines) =>
        app.log.error(
          { lines, pending: results.stats.pending },
          'results waiting for InfluxDB reached the limit; the oldest were dropped',
        ),
    });
    app.decorate('results', results);
    // A shutdown waits for InfluxDB this long, then gives up and says what it leaves unwritten
    // (a live interval whose results are among them was not saved either: it is scored again at
    // the next start).
    app.addHook('onClose', async () => {
      const { unwritten, error } = await results.close(SHUTDOWN_WRITE_GRACE_MS);
      if (unwritten > 0)
        app.log.error(
          { lines: unwritten, err: error, graceSeconds: SHUTDOWN_WRITE_GRACE_MS / 1000 },
          'shutting down with results InfluxDB did not take within the grace period; they are not written',
        );
      client.close();
    });
  },
  { name: 'influx', dependencies: ['config', 'telemetry'] },
);
