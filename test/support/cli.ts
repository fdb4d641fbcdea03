import { spawnSync } from 'node:child_process';
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
