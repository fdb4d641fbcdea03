import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { repoPath } from './repo.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `isoscope` command as a user would (node backend/bin/isoscope.js …). */
export function isoscope(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): CliResult {
  const r = spawnSync(process.execPath, [repoPath('backend', 'bin', 'isoscope.js'), ...args], {
    cwd: options.cwd ?? repoPath(),
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `isoscope serve` as a user starts it (the built CLI), on 127.0.0.1:`port` against an InfluxDB,
 * logging warnings only. `stdio: 'pipe'` to read what it says (it prints when it listens).
 */
export function spawnServe(options: {
  port: number;
  dataDir: string;
  influxUrl: string;
  influxDb: string;
  stdio?: 'ignore' | 'pipe';
  env?: Record<string, string>;
}): ChildProcess {
  return spawn(
    process.execPath,
    [
      repoPath('backend', 'bin', 'isoscope.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--data-dir',
      options.dataDir,
      '--influx-url',
      options.influxUrl,
      '--influx-db',
      options.influxDb,
    ],
    {
      stdio: options.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'ignore',
      env: { ...process.env, ISOSCOPE_LOG_LEVEL: 'warn', ...options.env },
    },
  );
}

/**
 * What a spawnServe child started with `stdio: 'pipe'` says, once it says it listens or after
 * `timeoutMs`: call it right after spawning, so nothing it prints first is missed.
 */
export async function untilListening(child: ChildProcess, timeoutMs: number): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (let waited = 0; waited < timeoutMs && !out.includes('listening'); waited += 100)
    await new Promise((r) => setTimeout(r, 100));
  return out;
}
