import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { freePort, startLocalInflux, type LocalInflux } from '../../backend/src/devtools/influxd.js';
import { InfluxV1Client, toLine } from '../../backend/src/io/influx/index.js';
import { isoscope, spawnServe, untilListening } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** POST to influxd over https, trusting its self-signed certificate (the test's own writes). */
function post(server: LocalInflux, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method: 'POST', ca: readFileSync(server.caFile!) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('InfluxDB over https (a real influxd serving a self-signed certificate)', () => {
  let server: LocalInflux;
  const now = Date.now();
  beforeAll(async () => {
    server = await startLocalInflux({ tls: true });
    expect(server.url).toMatch(/^https:/);
    expect(await post(server, `/query?q=${encodeURIComponent('CREATE DATABASE telegraf')}`, '')).toBe(200);
    const lines = [];
    for (let i = 0; i < 20; i++)
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host: 'web-1', cpu: 'cpu-total' },
          fields: { usage_user: 10 + i, usage_system: 5, usage_iowait: 1, usage_idle: 84 - i },
          timeMs: now - (i + 1) * 60_000,
        }),
      );
    expect(await post(server, '/write?db=telegraf&precision=ms', lines.join('\n'))).toBe(204);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('an untrusted certificate is an error that says so and names the fix', async () => {
    const client = new InfluxV1Client({ url: server.url, database: 'telegraf' });
    try {
      await expect(client.ping()).rejects.toThrow(
        /InfluxDB at https:\/\/127\.0\.0\.1:\d+ is unreachable: its TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT.*NODE_EXTRA_CA_CERTS/,
      );
    } finally {
      client.close();
    }
  });

  it('isoscope serve with NODE_EXTRA_CA_CERTS reads its sources over https', async () => {
    const dataDir = scratchDir('serve-tls');
    const created = isoscope(['token', 'create', '--role', 'editor', '--name', 'tls', '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    const port = await freePort();
    const child = spawnServe({
      port,
      dataDir,
      influxUrl: server.url,
      influxDb: 'telegraf',
      stdio: 'pipe',
      env: { NODE_EXTRA_CA_CERTS: server.caFile! },
    });
    const listening = untilListening(child, 20_000);
    try {
      const base = `http://127.0.0.1:${port}`;
      expect(await listening).toContain(`isoscope service listening on ${base}`);
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: { influx: string } };
      expect(ready.checks.influx).toMatch(/^ok \(/);
      const preview = await fetch(`${base}/api/v1/detectors/preview?minutes=10`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ spec: { source: { preset: 'cpu' } } }),
      });
      expect(preview.status).toBe(200);
      const p = (await preview.json()) as {
        entities: Array<{ entity: string; rows: number; values: Array<Array<number | null>> }>;
      };
      expect(p.entities.map((e) => e.entity)).toEqual(['web-1']);
      // The last ten minutes' one-minute means of what was written (usage_user 10 + i at i + 1 minutes ago).
      const user = p.entities[0]!.values[0]!;
      expect(user.length).toBeGreaterThanOrEqual(9);
      for (const v of user) {
        expect(v).toBeGreaterThanOrEqual(10);
        expect(v).toBeLessThan(21);
      }
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
