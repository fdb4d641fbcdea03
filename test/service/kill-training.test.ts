import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { toLine } from '../../backend/src/io/influx/index.js';
import { SqliteRegistry } from '../../backend/src/io/registry/index.js';
import { buildApp } from '../../backend/src/service/app.js';
import { loadConfig } from '../../backend/src/service/config.js';
import { hashToken } from '../../backend/src/service/plugins/auth.js';
import { startTestInflux, type TestInflux } from '../support/influx.js';
import { spawnServe } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const HOSTS = ['web-1', 'web-2', 'web-3'];
const TOKEN = 'editor-token-kill-training';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A proxy in front of influxd that holds, unanswered, every write whose body names `host`: the
 * job then stays on that host for as long as the test needs, however fast training has become.
 */
async function holdingProxy(target: string, host: string): Promise<{ url: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.startsWith('/write') && body.includes(`=${host},`)) return; // held until the kill
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, server };
}

/**
 * The built service killed with SIGKILL while a `promote: true` retrain is between entities (the
 * first host's new version stored, the others training): the registry is intact, no stage moved
 * (promotion is one transaction at the job's end), and the next start marks the job failed.
 */
describe('the service killed (SIGKILL) mid-training (the built service, a real influxd)', () => {
  let influx: TestInflux;
  let child: ChildProcess | undefined;
  let proxy: { url: string; server: Server } | undefined;
  const dataDir = scratchDir('kill-training');
  const database = 'telegraf';

  beforeAll(async () => {
    influx = await startTestInflux();
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    proxy?.server.closeAllConnections();
    proxy?.server.close();
    await influx?.server.stop();
  });

  async function stages(): Promise<{ versions: string[]; runtimes: string[] }> {
    const registry = new SqliteRegistry(join(dataDir, 'registry.db'));
    try {
      return {
        versions: (await registry.listModelVersions('cpu')).map((v) => `${v.version}:${v.entity}:${v.stage}`),
        runtimes: (await registry.listRuntimeStates('cpu')).map(
          (r) => `${r.entity}:${r.stage}:v${r.version}`,
        ),
      };
    } finally {
      await registry.close();
    }
  }

  it('leaves every stage as it was, the registry intact, and the job failed at the next start', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const client = await influx.client(database);
    const lines: string[] = [];
    for (const [h, host] of HOSTS.entries())
      for (let t = now - 24 * HOUR; t < now; t += MIN) {
        const daily = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
        lines.push(
          toLine({
            measurement: 'cpu',
            tags: { host, cpu: 'cpu-total' },
            fields: { usage_user: 30 + 15 * daily + Math.sin(t / 7_777_777 + h), usage_system: 5 + daily },
            timeMs: t,
          }),
        );
      }
    await client.write(lines);

    const config = loadConfig({}, { dataDir, influxUrl: influx.server.url, influxDb: database }, undefined);
    const setup = await buildApp({ config, scheduler: false });
    await setup.registry.createToken({ id: 'ed', name: 'editor', role: 'editor', hash: hashToken(TOKEN) }, 0);
    await setup.registry.createDetector(
      {
        id: 'cpu',
        name: 'cpu',
        spec: {
          source: { preset: 'cpu' },
          intervalSeconds: 60,
          trainingWindowHours: 12,
          model: { trees: 50 },
        },
      },
      now,
    );
    await setup.runtimes.bootstrap(
      'cpu',
      { to: now - 12 * HOUR, promote: true, actor: 'test' },
      { progress: async () => undefined, checkpoint: () => undefined },
    );
    await setup.close();
    const before = await stages();
    expect(before.runtimes).toEqual(['web-1:production:v1', 'web-2:production:v2', 'web-3:production:v3']);

    // The service reads and writes through the proxy, which holds web-2's results: the job is
    // killed while it is on web-2, whatever the machine's speed.
    proxy = await holdingProxy(influx.server.url, 'web-2');
    const port = await freePort();
    child = spawnServe({ port, dataDir, influxUrl: proxy.url, influxDb: database });
    const api = `http://127.0.0.1:${port}/api/v1`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    let started: Response | undefined;
    for (let i = 0; i < 240 && !started; i++) {
      started = await fetch(`${api}/detectors/cpu/train`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ promote: true }),
      }).catch(() => undefined);
      if (!started) await sleep(250);
    }
    expect(started!.status).toBe(202);
    const id = ((await started!.json()) as { id: string }).id;
    // Kill it once the first host's new version is stored and the second host's results are held.
    let phase = '';
    for (let i = 0; i < 1200 && !phase.includes('(2/3)'); i++) {
      phase = ((await (await fetch(`${api}/jobs/${id}`, { headers })).json()) as { phase: string }).phase;
      if (!phase.includes('(2/3)')) await sleep(100);
    }
    expect(phase).toBe('bootstrapping web-2 (2/3)');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;

    const db = new Database(join(dataDir, 'registry.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    } finally {
      db.close();
    }
    const after = await stages();
    // The hosts trained before the kill have their new version as a candidate (web-1 at least, not
    // all three); nothing was promoted, nothing archived.
    const added = after.versions.slice(0, after.versions.length - before.versions.length);
    expect(after.versions.slice(added.length)).toEqual(before.versions);
    expect(added.at(-1)).toBe('4:web-1:candidate');
    expect(added.length).toBeLessThan(3);
    for (const v of added) expect(v).toMatch(/:candidate$/);
    expect(after.runtimes).toEqual(before.runtimes);

    const restarted = await buildApp({ config, scheduler: false });
    try {
      expect(await restarted.registry.getJob(id)).toMatchObject({ state: 'failed' });
    } finally {
      await restarted.close();
    }
    expect(await stages()).toEqual(after);
  }, 600_000);
});
