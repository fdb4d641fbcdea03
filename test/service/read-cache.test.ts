import type { FastifyInstance } from 'fastify';
import { cpuFleetLines } from '../support/cpu-fleet.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;

/**
 * Grafana's queries keep a detector's record a few seconds (read-cache.ts): a change made through
 * the API must still be seen by the very next query, with no wait.
 */
describe('the read path sees a detector changed through the API at once (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    await client.write(cpuFleetLines(NOW, { from: NOW, to: NOW }));
    app = await testApp(influx.server.url, client.database, {}, () => NOW);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  const spec = (fields: string[]): object => ({
    source: {
      measurement: 'cpu',
      fields: fields.map((field) => ({ field, aggregate: 'mean' })),
      entityTag: 'host',
    },
    intervalSeconds: 300,
  });
  const query = async (ret: 'features' | 'score'): Promise<{ status: number; fields: string[] }> => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/grafana/query',
      headers: as('viewer'),
      payload: {
        range: { from: new Date(NOW - 2 * HOUR).toISOString(), to: new Date(NOW).toISOString() },
        targets: [{ refId: 'A', detector: 'watch', entity: 'web-1', return: ret }],
      },
    });
    const frames =
      r.statusCode === 200 ? (r.json().frames as Array<{ fields: Array<{ name: string }> }>) : [];
    return { status: r.statusCode, fields: frames.flatMap((f) => f.fields.map((x) => x.name)) };
  };

  it('a changed spec is read by the next query, and a deleted detector is gone from the next', async () => {
    // Unknown: refused, and not remembered as unknown.
    expect((await query('score')).status).toBe(404);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: as('editor'),
      payload: { name: 'watch', spec: spec(['usage_user']) },
    });
    expect(created.statusCode).toBe(201);
    expect(await query('features')).toEqual({ status: 200, fields: ['time', 'usage_user'] });
    const changed = await app.inject({
      method: 'PUT',
      url: '/api/v1/detectors/watch',
      headers: as('editor'),
      payload: { spec: spec(['usage_user', 'usage_system']) },
    });
    expect(changed.statusCode).toBe(200);
    expect(await query('features')).toEqual({ status: 200, fields: ['time', 'usage_user', 'usage_system'] });
    expect((await query('score')).status).toBe(200);
    const deleted = await app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/detectors/watch',
      headers: as('admin'),
    });
    expect(deleted.statusCode).toBe(204);
    expect((await query('score')).status).toBe(404);
  });
});
