/**
 * A throwaway PostgreSQL on a loopback port with its own data directory, for tests, the demo and
 * CI. Uses Debian's `postgresql` (its binaries are in /usr/lib/postgresql/<major>/bin); installs it
 * when missing and running as root, otherwise says how. initdb and postgres refuse to run as root,
 * so as root they run as the `postgres` system user (the package creates it) through setuid, and
 * the data directory is handed to that user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './influxd.js';

export interface LocalPostgres {
  /** postgres://isoscope:…@127.0.0.1:port/isoscope */
  url: string;
  port: number;
  dataDir: string;
  /** A fresh, empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The directory holding initdb and postgres: the newest Debian major, else whatever PATH has. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(root, majors[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const initdb = which.status === 0 ? which.stdout.trim() : '';
  return initdb ? join(initdb, '..') : undefined;
}

/** Makes sure PostgreSQL's server binaries exist: installs Debian's package as root, otherwise explains. */
export function ensurePostgres(): string {
  const found = findPostgresBin();
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error(
      'PostgreSQL is not installed; as root run: apt-get update && apt-get install -y postgresql',
    );
  const install = spawnSync(
    'sh',
    [
      '-c',
      'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql',
    ],
    { stdio: 'inherit' },
  );
  const bin = findPostgresBin();
  if (install.status !== 0 || !bin) throw new Error('installing postgresql from Debian failed');
  return bin;
}

/** Who runs the server: this process, or as root the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => {
    const out = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (out.status !== 0)
      throw new Error(
        "PostgreSQL refuses to run as root and there is no 'postgres' user: install Debian's postgresql package (it creates one)",
      );
    return Number(out.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined, cwd: string): void {
  const out = spawnSync(bin, args, { cwd, encoding: 'utf8', ...(user ?? {}) });
  if (out.status !== 0)
    throw new Error(
      `${bin} ${args.join(' ')} failed (${out.status}): ${(out.stderr || out.stdout).slice(-2000)}`,
    );
}

async function waitForConnection(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`postgres exited with code ${child.exitCode}: ${log().slice(-2000)}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      last = (err as Error).message;
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `postgres did not accept connections on ${url} within ${timeoutMs} ms (${last}): ${log().slice(-2000)}`,
  );
}

/** Stops the server: SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients); SIGKILL after 10 s. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Starts PostgreSQL on 127.0.0.1 only (no Unix socket), password-authenticated (scram) with a
 * random password, fsync off: throwaway data, speed over durability.
 */
export async function startLocalPostgres(options: { port?: number } = {}): Promise<LocalPostgres> {
  const bin = ensurePostgres();
  const user = serverUser();
  const dataDir = mkdtempSync(join(tmpdir(), 'isoscope-postgres-'));
  const pgdata = join(dataDir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dataDir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dataDir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  chmodSync(dataDir, 0o700);
  if (user && spawnSync('test', ['-w', dataDir], user).status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `the postgres user cannot reach ${dataDir}: set TMPDIR to a directory every user can traverse (e.g. /tmp)`,
    );
  }
  run(
    join(bin, 'initdb'),
    [
      '-D',
      pgdata,
      '-U',
      'isoscope',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ],
    user,
    dataDir,
  );
  const port = options.port ?? (await freePort());
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      pgdata,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-k',
      '',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) },
  );
  let output = '';
  const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-10_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const base = `postgres://isoscope:${password}@127.0.0.1:${port}`;
  const url = `${base}/postgres`;
  try {
    await waitForConnection(url, child, () => output);
  } catch (err) {
    await stopServer(child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  let counter = 0;
  return {
    url,
    port,
    dataDir,
    async createDatabase(name) {
      const db = name ?? `test_${process.pid}_${++counter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`database name '${db}': use a-z, 0-9 and _`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${db}`);
      } finally {
        await client.end();
      }
      return `${base}/${db}`;
    },
    async stop() {
      await stopServer(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
