/**
 * A throwaway InfluxDB 1.x on loopback ports with its own data directory, for tests and the demo.
 * Uses Debian's `influxd` (package `influxdb`, 1.6.7 on Debian 12: InfluxQL and /write, no Flux);
 * installs it when missing and running as root, otherwise says how.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalInflux {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function hasInfluxd(): boolean {
  return spawnSync('influxd', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Makes sure `influxd` exists: installs Debian's package as root, otherwise explains. */
export function ensureInfluxd(): void {
  if (hasInfluxd()) return;
  if (process.getuid?.() !== 0) {
    throw new Error('influxd is not installed; as root run: apt-get update && apt-get install -y influxdb');
  }
  const install = spawnSync(
    'sh',
    ['-c', 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q influxdb'],
    {
      stdio: 'inherit',
    },
  );
  if (install.status !== 0 || !hasInfluxd()) throw new Error('installing influxdb from Debian failed');
}

/** Stops a child process: SIGTERM, then SIGKILL if it is still there after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  // unref: a child that exits at once must not keep the process waiting for this timer.
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function waitForPing(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`influxd exited with code ${child.exitCode}: ${log().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/ping`);
      if (res.status === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`influxd did not answer on ${url} within ${timeoutMs} ms: ${log().slice(-2000)}`);
}

export async function startLocalInflux(
  options: { dataDir?: string; port?: number } = {},
): Promise<LocalInflux> {
  ensureInfluxd();
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'isoscope-influxd-')));
  const port = options.port ?? (await freePort());
  const rpcPort = await freePort();
  const config = `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dataDir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dataDir, 'data')}"
  wal-dir = "${join(dataDir, 'wal')}"
  query-log-enabled = false
  wal-fsync-delay = "100ms"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[logging]
  level = "warn"
`;
  const configFile = join(dataDir, 'influxdb.conf');
  await writeFile(configFile, config);
  const child = spawn('influxd', ['run', '-config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
  const url = `http://127.0.0.1:${port}`;
  await waitForPing(url, child, () => output);
  return {
    url,
    port,
    dataDir,
    async stop() {
      await stopChild(child);
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
