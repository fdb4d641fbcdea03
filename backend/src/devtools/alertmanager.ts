/**
 * A throwaway Prometheus Alertmanager on a loopback port (Debian's `prometheus-alertmanager`), for
 * tests: its own storage directory, clustering off, alerts grouped per detector and entity.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild } from './influxd.js';

export interface LocalAlertmanager {
  url: string;
  stop(): Promise<void>;
}

const BINARIES = ['prometheus-alertmanager', 'alertmanager'];

function binary(): string {
  const found = BINARIES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0);
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error('Alertmanager is not installed; as root run: apt-get install -y prometheus-alertmanager');
  const r = spawnSync(
    'sh',
    [
      '-c',
      'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus-alertmanager',
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('installing prometheus-alertmanager from Debian failed');
  return BINARIES[0]!;
}

export async function startLocalAlertmanager(): Promise<LocalAlertmanager> {
  const bin = binary();
  const dir = await mkdtemp(join(tmpdir(), 'isoscope-alertmanager-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'alertmanager.yml'),
    [
      'route:',
      '  receiver: blackhole',
      '  group_by: [alertname, detector, entity]',
      '  group_wait: 1s',
      'receivers:',
      '  - name: blackhole',
      '',
    ].join('\n'),
  );
  const child = spawn(
    bin,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`alertmanager exited with code ${child.exitCode}: ${output.slice(-2000)}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`alertmanager did not become ready: ${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
