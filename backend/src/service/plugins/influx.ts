import fp from 'fastify-plugin';
import { BatchWriter, InfluxV1Client } from '../../io/influx/index.js';

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
    app.addHook('onClose', async () => results.close());
  },
  { name: 'influx', dependencies: ['config', 'telemetry'] },
);
