import { freePort } from '../../backend/src/devtools/influxd.js';
import { isoscope, spawnServe, untilListening } from '../support/cli.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { scratchDir } from '../support/scratch.js';

describe('isoscope serve and token (the built CLI, a real influxd)', () => {
  let influx: TestInflux;
  beforeAll(async () => {
    influx = await startTestInflux();
  }, 60_000);
  afterAll(async () => {
    await influx?.server.stop();
  });

  it('creates a token, serves the API with it, and shuts down gracefully on SIGTERM', async () => {
    const dataDir = scratchDir('serve');
    const created = isoscope(['token', 'create', '--role', 'editor', '--name', 'ci', '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^iso_[\w-]{40,}$/);
    expect(isoscope(['token', 'list', '--data-dir', dataDir]).stdout).toMatch(/editor\s+ci/);

    const port = await freePort();
    const child = spawnServe({
      port,
      dataDir,
      influxUrl: influx.server.url,
      influxDb: 'telegraf',
      stdio: 'pipe',
    });
    const listening = untilListening(child, 10_000);
    try {
      const base = `http://127.0.0.1:${port}`;
      expect(await listening).toContain(`isoscope service listening on ${base}`);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/api/v1/detectors`)).status).toBe(401);
      const list = await fetch(`${base}/api/v1/detectors`, { headers: { authorization: `Bearer ${token}` } });
      expect(list.status).toBe(200);
      expect(await list.json()).toEqual([]);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const id = isoscope(['token', 'list', '--data-dir', dataDir]).stdout.split(/\s+/)[0]!;
    expect(isoscope(['token', 'revoke', id, '--data-dir', dataDir]).code).toBe(0);
  });

  it('refuses a bad setting with exit code 2 naming it', () => {
    const r = isoscope(['serve', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--port must be an integer from 0 to 65535, got 'http'");
    const env = isoscope(['token', 'create', '--role', 'root', '--data-dir', scratchDir('serve')]);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("--role must be one of viewer, editor, admin, got 'root'");
  });
});
