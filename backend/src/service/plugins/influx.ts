import fp from 'fastify-plugin';
import { InfluxV1Client } from '../../io/influx/index.js';

/** The InfluxDB client as `app.influx` (v1 API: 1.x, and 2.x/3.x through their compatibility API). */
export default fp(
  async (app) => {
    const c = app.config;
    const password = c.influxPassword ?? c.influxToken;
    app.decorate(
      'influx',
      new InfluxV1Client({
        url: c.influxUrl,
        database: c.influxBucket ?? c.influxDb,
        ...(c.influxUser !== undefined ? { username: c.influxUser } : {}),
        ...(password !== undefined ? { password } : {}),
      }),
    );
  },
  { name: 'influx', dependencies: ['config'] },
);
