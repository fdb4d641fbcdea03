import type { FastifyInstance } from 'fastify';
import { toLine } from '../../backend/src/io/influx/index.js';
import { resultLine } from '../../backend/src/service/application/results.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { CPU_FLEET_STEP, cpuFleetLines, trainedCpuDetector } from '../support/cpu-fleet.js';
import { as, testApp } from '../support/service.js';

const NOW = Date.UTC(2024, 0, 4);
const HOUR = 3_600_000;
/** web-1's cpu pinned for 30 minutes, two hours ago. */
const INCIDENT = { from: NOW - 2 * HOUR, to: NOW - 2 * HOUR + 30 * 60_000 };

interface Explained {
  time: string;
  score: number;
  anomaly: boolean;
  topFeature?: string;
  reproduced: boolean;
  note?: string;
  replay: { from: string; rows: number; score?: number; topFeature?: string };
  forest?: { group: string; groupScores: number[]; explainedTime?: string };
  baseline: number;
  pathLength: number;
  contributions: Array<{ feature: string; field: string; contribution: number; value: number }>;
}

describe('the explanation is the runtime’s own: live results replayed from their checkpoint and broken down (real influxd)', () => {
  let influx: TestInflux;
  let app: FastifyInstance;
  let clock = NOW;
  let database = '';

  beforeAll(async () => {
    influx = await startTestInflux();
    const client = await influx.client();
    await client.write(cpuFleetLines(NOW, INCIDENT));
    database = client.database;
    app = await testApp(influx.server.url, client.database, {}, () => clock);
    // Trained on the two days before the last one and promoted: the checkpoint ends a day ago.
    await trainedCpuDetector(app, NOW - 24 * HOUR);
    // Live scoring catches up the last day an hour at a time, its state saved after each, as the
    // scheduler runs it: what is explained is what these runtimes wrote.
    for (let t = NOW - 23 * HOUR; t <= NOW; t += HOUR) {
      clock = t + 60_000;
      await app.scheduler.tick(clock);
    }
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await influx?.server.stop();
  });

  const explain = async (entity: string, time: string): Promise<{ status: number; body: Explained }> => {
    const r = await app.inject({
      url: `/api/v1/detectors/cpu/explain?entity=${entity}&time=${encodeURIComponent(time)}`,
      headers: as('viewer'),
    });
    return { status: r.statusCode, body: r.json() };
  };

  const anomalies = async (entity: string) => {
    const r = await app.inject({
      url: `/api/v1/detectors/cpu/anomalies?from=${new Date(NOW - 24 * HOUR).toISOString()}&to=${new Date(NOW).toISOString()}&entity=${entity}`,
      headers: as('viewer'),
    });
    expect(r.statusCode).toBe(200);
    return r.json() as Array<{ time: string; score: number; topFeature?: string }>;
  };

  it('reproduces every flagged row’s score, and its breakdown’s top feature is the stored one', async () => {
    let count = 0;
    for (const entity of ['web-1', 'web-2']) {
      for (const a of await anomalies(entity)) {
        count++;
        const { status, body: e } = await explain(entity, a.time);
        expect(status).toBe(200);
        expect(e.reproduced).toBe(true);
        expect(e.note).toBeUndefined();
        expect(Math.abs(e.replay.score! - e.score)).toBeLessThanOrEqual(1e-9);
        expect(e.score).toBe(a.score);
        expect(e.anomaly).toBe(true);
        expect(e.topFeature).toBe(a.topFeature);
        expect(e.contributions[0]!.feature).toBe(a.topFeature);
        // TreeSHAP over the forests that scored it: the contributions add up to baseline − path length.
        const sum = e.contributions.reduce((s, c) => s + c.contribution, 0);
        expect(Math.abs(sum - (e.baseline - e.pathLength))).toBeLessThan(1e-9);
        expect(e.replay.from).toBe(new Date(NOW - 24 * HOUR).toISOString());
        expect(e.replay.rows).toBe((Date.parse(a.time) - (NOW - 24 * HOUR)) / CPU_FLEET_STEP);
        expect(Math.max(...e.forest!.groupScores)).toBe(e.score);
      }
    }
    // The injected incident at least (its rows after the first two, see scoring.test.ts).
    expect(count).toBeGreaterThanOrEqual(4);
  }, 300_000);

  it('explains the incident’s pinned cpu with the fields that were pinned, against what the forests learnt', async () => {
    const inside = (await anomalies('web-1')).filter(
      (a) => Date.parse(a.time) >= INCIDENT.from + 10 * 60_000 && Date.parse(a.time) < INCIDENT.to,
    );
    expect(inside.length).toBeGreaterThan(0);
    const { body: e } = await explain('web-1', inside[0]!.time);
    expect(e.reproduced).toBe(true);
    expect(['usage_user', 'usage_idle', 'usage_system']).toContain(e.contributions[0]!.field);
    if (e.forest!.group === 'levels') {
      const user = e.contributions.find((c) => c.feature === 'usage_user')!;
      expect(user.value).toBe(97);
    }
  }, 60_000);

  it('an unflagged row is reproduced and explained by the group that scored it highest', async () => {
    const time = new Date(NOW - 6 * HOUR).toISOString();
    const { status, body: e } = await explain('web-2', time);
    expect(status).toBe(200);
    expect(e).toMatchObject({ time, anomaly: false, reproduced: true });
    expect(e.topFeature).toBeUndefined();
    expect(e.contributions.length).toBe(4);
    expect(Math.max(...e.forest!.groupScores)).toBe(e.score);
  }, 60_000);

  it('refuses, naming the limit, a moment further from the checkpoint than the version’s span', async () => {
    // A result three days after the checkpoint (written here: the source has no rows there).
    const late = NOW + 2 * 24 * HOUR;
    const web2 = (await app.registry.listModelVersions('cpu')).find((v) => v.entity === 'web-2')!;
    await (
      await influx.client(database)
    ).write([
      resultLine('cpu', {
        entity: 'web-2',
        timeMs: late,
        score: 0.2,
        threshold: 0.5,
        anomaly: false,
        severity: 'none',
        modelVersion: web2.version,
        retrain: 9,
        stage: 'production',
        extra: {},
      }),
    ]);
    const { status, body } = await explain('web-2', new Date(late).toISOString());
    expect(status).toBe(422);
    expect((body as unknown as { message: string }).message).toMatch(
      /3 days of rows, more than the limit of 2 days \(the span the version was trained on/,
    );
  }, 60_000);

  it('says the replay did not reproduce the stored result when the source rows were rewritten since', async () => {
    const flagged = (await anomalies('web-1')).filter((a) => Date.parse(a.time) >= INCIDENT.from);
    const t = Date.parse(flagged.at(-1)!.time);
    // The pinned row rewritten with an ordinary one (same series and time: InfluxDB replaces it).
    await (
      await influx.client(database)
    ).write([
      toLine({
        measurement: 'cpu',
        tags: { host: 'web-1', cpu: 'cpu-total' },
        fields: { usage_user: 30, usage_system: 5, usage_iowait: 1, usage_idle: 64 },
        timeMs: t,
      }),
    ]);
    const { status, body: e } = await explain('web-1', new Date(t).toISOString());
    expect(status).toBe(200);
    expect(e.reproduced).toBe(false);
    expect(e.replay.score).not.toBe(e.score);
    expect(e.note).toMatch(/did not reproduce the stored result/);
    expect(e.contributions.length).toBeGreaterThan(0);
  }, 60_000);
});
