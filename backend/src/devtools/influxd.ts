/**
 * A throwaway InfluxDB 1.x on loopback ports with its own data directory, for tests and the demo.
 * Uses Debian's `influxd` (package `influxdb`, 1.6.7 on Debian 12: InfluxQL and /write, no Flux);
 * installs it when missing and running as root, otherwise says how.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalInflux {
  url: string;
  port: number;
  dataDir: string;
  /** With `tls`: the PEM file of the self-signed certificate influxd serves (its own CA). */
  caFile?: string;
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

/** Makes sure `influxd` exists: installs Debian's package as root, otherwise explains. */
export function ensureInfluxd(): void {
  ensureDebianCommand('influxd', 'influxdb');
}

/** Makes sure `command` runs: installs Debian's `pkg` as root when it does not, otherwise explains. */
function ensureDebianCommand(command: string, pkg: string, args = ['version']): void {
  const runs = (): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
  if (runs()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${command} is not installed; as root run: apt-get update && apt-get install -y ${pkg}`);
  }
  const install = spawnSync(
    'sh',
    ['-c', `apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${pkg}`],
    { stdio: 'inherit' },
  );
  if (install.status !== 0 || !runs()) throw new Error(`installing ${pkg} from Debian failed`);
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

/** The status of GET url, trusting `ca` (a PEM certificate) for https. */
function status(url: string, ca: string | undefined): Promise<number> {
  if (ca === undefined) return fetch(url).then((res) => res.status);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with Debian's `openssl`, so tests
 * reach influxd over https as a service behind an internal CA would.
 */
export function selfSignedCertificate(dir: string): { certificate: string; privateKey: string } {
  ensureDebianCommand('openssl', 'openssl');
  const certificate = join(dir, 'influxd.pem');
  const privateKey = join(dir, 'influxd-key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      privateKey,
      '-out',
      certificate,
    ],
    { encoding: 'utf8' },
  );
  if (made.error || made.status !== 0)
    throw new Error(`openssl could not make a certificate: ${made.error?.message ?? made.stderr}`);
  return { certificate, privateKey };
}

async function waitForPing(
  url: string,
  child: ChildProcess,
  log: () => string,
  ca: string | undefined,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`influxd exited with code ${child.exitCode}: ${log().slice(-2000)}`);
    try {
      if ((await status(`${url}/ping`, ca)) === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`influxd did not answer on ${url} within ${timeoutMs} ms: ${log().slice(-2000)}`);
}

export async function startLocalInflux(
  /** tls: serve https only, with a self-signed certificate (`caFile` in the result). */
  options: { dataDir?: string; port?: number; tls?: boolean } = {},
): Promise<LocalInflux> {
  ensureInfluxd();
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'isoscope-influxd-')));
  const port = options.port ?? (await freePort());
  const rpcPort = await freePort();
  const tls = options.tls ? selfSignedCertificate(dataDir) : undefined;
  const https = tls
    ? `  https-enabled = true\n  https-certificate = "${tls.certificate}"\n  https-private-key = "${tls.privateKey}"\n`
    : '';
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
${https}[logging]
  level = "warn"
`;
  const configFile = join(dataDir, 'influxdb.conf');
  await writeFile(configFile, config);
  const child = spawn('influxd', ['run', '-config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitForPing(url, child, () => output, tls ? await readFile(tls.certificate, 'utf8') : undefined);
  return {
    url,
    port,
    dataDir,
    ...(tls ? { caFile: tls.certificate } : {}),
    async stop() {
      await stopChild(child);
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
