import type { FastifyInstance } from 'fastify';
import { cpuFleetLines, trainedCpuDetector } from '../support/cpu-fleet.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
const MIN = 60_000;
/** web-1's cpu pinned for 40 minutes, three hours before NOW. */
const INCIDENT = { from: NOW - 3 * HOUR, to: NOW - 3 * HOUR + 40 * MIN };

interface IncidentBody {
  id: string;
  entity: string;
  state: string;
  start: string;
  end: string;
  suppressed: boolean;
  suppressedBy?: { rule: string; reason: string };
  suppressedByAll?: Array<{ rule: string; reason: string }>;
}

describe('a suppression rule applied to incidents already recorded (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = NOW;

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    await client.write(cpuFleetLines(NOW, INCIDENT));
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    await trainedCpuDetector(app, NOW - 24 * HOUR);
    // Live scoring up to 25 minutes into the incident: it is firing, and so is its alert.
    for (let t = NOW - 23 * HOUR; t <= INCIDENT.from + 25 * MIN; t += HOUR / 2) {
      clock = Math.min(t, INCIDENT.from + 25 * MIN) + MIN;
      await app.scheduler.tick(clock);
    }
    clock = INCIDENT.from + 25 * MIN + MIN;
    await app.scheduler.tick(clock);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  const firingOnWeb1 = async (): Promise<IncidentBody> => {
    const r = await app.inject({ url: '/api/v1/incidents?entity=web-1&state=firing', headers: as('viewer') });
    expect(r.statusCode).toBe(200);
    const [found] = r.json() as IncidentBody[];
    return found!;
  };
  const add = (payload: object) =>
    app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as('editor'), payload });
  const alertState = async () =>
    JSON.parse((await app.registry.getStreamState('cpu', 'alert:web-1')) ?? '{}') as {
      firing?: boolean;
      lastEndedAt?: number;
    };

  it('refuses a time in the future or not a date-time, naming the field, and adds no rule', async () => {
    const base = { detector: 'cpu', kind: 'daily', from: '01:00', to: '02:00', reason: 'x' };
    const future = await add({ ...base, applySince: new Date(clock + HOUR).toISOString() });
    expect(future.statusCode).toBe(400);
    expect(future.json().message).toContain("body/applySince '");
    expect(future.json().message).toContain('is in the future');
    const garbled = await add({ ...base, applySince: 'yesterday' });
    expect(garbled.statusCode).toBe(400);
    expect(garbled.json().message).toContain('applySince');
    expect((await app.inject({ url: '/api/v1/suppressions', headers: as('viewer') })).json()).toEqual([]);
  });

  it('without applySince, a rule leaves the recorded incident as it was', async () => {
    const before = await firingOnWeb1();
    expect(before).toMatchObject({ state: 'firing', suppressed: false });
    expect((await alertState()).firing).toBe(true);
    const r = await add({
      detector: 'cpu',
      entity: 'web-1',
      kind: 'period',
      from: new Date(INCIDENT.from - HOUR).toISOString(),
      to: new Date(INCIDENT.from + 10 * MIN).toISOString(),
      reason: 'load test, first part',
    });
    expect(r.statusCode).toBe(201);
    expect(r.json()).not.toHaveProperty('applied');
    expect(await firingOnWeb1()).toMatchObject({ id: before.id, suppressed: false });
  });

  it('with applySince, suppresses the firing incident that it and the standing rule cover together, and resolves its alert', async () => {
    const before = await firingOnWeb1();
    const first = (await app.inject({ url: '/api/v1/suppressions', headers: as('viewer') })).json()[0];
    const r = await add({
      detector: 'cpu',
      entity: 'web-1',
      kind: 'period',
      from: new Date(INCIDENT.from + 10 * MIN).toISOString(),
      to: new Date(INCIDENT.to + HOUR).toISOString(),
      reason: 'load test, the rest',
      applySince: new Date(NOW - 6 * HOUR).toISOString(),
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().applied).toEqual({
      since: new Date(NOW - 6 * HOUR).toISOString(),
      incidents: 1,
      suppressed: 1,
    });
    const after = await firingOnWeb1();
    expect(after).toMatchObject({ id: before.id, state: 'firing', suppressed: true });
    // Its first flagged row is under the first rule, the later ones under the new one.
    expect(after.suppressedBy).toEqual({ rule: first.id, reason: 'load test, first part' });
    expect(after.suppressedByAll).toEqual([
      { rule: first.id, reason: 'load test, first part' },
      { rule: r.json().id, reason: 'load test, the rest' },
    ]);
    // Its alert ended now, as it would have had the rules been there when the rows were scored.
    expect(await alertState()).toMatchObject({ firing: false, lastEndedAt: clock });

    // Live scoring goes on inside the rules: the incident stays suppressed, and nothing pages.
    clock = INCIDENT.to + 30 * MIN;
    await app.scheduler.tick(clock);
    const [later] = (
      await app.inject({ url: '/api/v1/incidents?entity=web-1', headers: as('viewer') })
    ).json() as IncidentBody[];
    expect(later).toMatchObject({ id: before.id, suppressed: true });
    expect((await alertState()).firing).toBe(false);

    // Deleting a rule does not un-suppress what it suppressed.
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/suppressions/${r.json().id}`,
      headers: as('editor'),
    });
    expect(del.statusCode).toBe(204);
    const [kept] = (
      await app.inject({ url: '/api/v1/incidents?entity=web-1', headers: as('viewer') })
    ).json() as IncidentBody[];
    expect(kept).toMatchObject({ id: before.id, suppressed: true });
  });
});
