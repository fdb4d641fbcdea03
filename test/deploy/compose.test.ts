import { execFileSync } from 'node:child_process';
import { documentedSettings, readText, readYaml, repoRoot } from '../support/repo';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  command?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = readYaml<ComposeFile>('docker-compose.yml');
const blueGreen = readYaml<ComposeFile>('docker/compose.blue-green.yml');

/** What `docker compose config` would print as the merged file, run by Debian's docker-compose. */
function composeConfig(...files: string[]): string {
  const args = files.flatMap((f) => ['-f', f]);
  return execFileSync('docker-compose', [...args, 'config'], { cwd: repoRoot, encoding: 'utf8' });
}

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose, alone and with the blue-green override', () => {
    expect(composeConfig('docker-compose.yml')).toContain('services:');
    const merged = composeConfig('docker-compose.yml', 'docker/compose.blue-green.yml');
    expect(merged).toContain('isoscope-proxy');
    expect(merged).toContain('isoscope-green');
  });

  it('runs the whole stack: InfluxDB, Telegraf, Alertmanager, the service, Grafana, a load profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'alertmanager',
        'grafana',
        'influxdb',
        'isoscope',
        'isoscope-worker',
        'loadgen',
        'postgres',
        'telegraf',
      ].sort(),
    );
    expect(compose.services.loadgen?.profiles).toEqual(['load']);
  });

  it('offers PostgreSQL for the registry as a profile; the service stays on SQLite unless told', () => {
    const postgres = compose.services.postgres!;
    expect(postgres.profiles).toEqual(['postgres']);
    expect(postgres.ports ?? []).toEqual([]);
    expect(postgres.environment).toMatchObject({ POSTGRES_USER: 'isoscope', POSTGRES_DB: 'isoscope' });
    expect(compose.services.isoscope!.environment?.ISOSCOPE_REGISTRY_URL).toBe('${ISOSCOPE_REGISTRY_URL:-}');
    // Both blue-green colours name the same registry.
    expect(blueGreen.services['isoscope-green']!.environment?.ISOSCOPE_REGISTRY_URL).toBe(
      '${ISOSCOPE_REGISTRY_URL:-}',
    );
    // The service must not need the profile to start.
    expect(Object.keys(compose.services.isoscope!.depends_on ?? {})).not.toContain('postgres');
    const url = 'postgres://isoscope:isoscope@postgres:5432/isoscope';
    const merged = execFileSync('docker-compose', ['--profile', 'postgres', 'config'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, ISOSCOPE_REGISTRY_URL: url },
    });
    expect(merged).toContain(`ISOSCOPE_REGISTRY_URL: ${url}`);
    expect(merged).toContain('image: postgres:16.6');
  });

  it('runs a scoring worker beside the service under the postgres profile, on the same registry', () => {
    const worker = compose.services['isoscope-worker']!;
    expect(worker.profiles).toEqual(['postgres']);
    expect(worker.command).toEqual(['serve', '--role', 'worker']);
    expect(worker.image).toBe(compose.services.isoscope!.image);
    expect(worker.ports ?? []).toEqual([]);
    expect(Object.keys(worker.depends_on ?? {}).sort()).toEqual(['influxdb', 'isoscope', 'postgres']);
    for (const name of Object.keys(worker.environment ?? {})) expect(documentedSettings()).toContain(name);
    // Its default registry is the postgres service with that service's default credentials.
    const pg = compose.services.postgres!.environment!;
    expect(worker.environment?.ISOSCOPE_REGISTRY_URL).toBe(
      `\${ISOSCOPE_REGISTRY_URL:-postgres://${pg.POSTGRES_USER}:isoscope@postgres:5432/${pg.POSTGRES_DB}}`,
    );
    expect(pg.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:-isoscope}');
    const url = 'postgres://isoscope:secret@postgres:5432/isoscope';
    const merged = execFileSync('docker-compose', ['--profile', 'postgres', 'config'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, ISOSCOPE_REGISTRY_URL: url },
    });
    // The service and the worker both name it.
    expect(merged.split(`ISOSCOPE_REGISTRY_URL: ${url}`).length - 1).toBe(2);
    expect(merged).toContain('isoscope-worker');
  });

  it('pins every image to a version, never latest', () => {
    for (const [name, service] of Object.entries({ ...compose.services, ...blueGreen.services })) {
      if (service.image === undefined) continue;
      expect(`${name}: ${service.image}`).toMatch(/:v?[0-9][\w.-]*$/);
    }
  });

  it('gives every long-running service a health check, and waits on health, not on start', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'loadgen' || name === 'telegraf') continue;
      expect({ name, healthcheck: service.healthcheck !== undefined }).toEqual({ name, healthcheck: true });
    }
    for (const service of Object.values({ ...compose.services, ...blueGreen.services })) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ dependency, condition }).toEqual({ dependency, condition: 'service_healthy' });
        expect(
          compose.services[dependency]?.healthcheck ?? blueGreen.services[dependency]?.healthcheck,
        ).toBeDefined();
      }
    }
  });

  it('declares every named volume it mounts', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.') || source.startsWith('/')) continue;
        expect(declared).toContain(source);
      }
    }
  });

  it('configures the service only with settings the service documents, on its health-checked port', () => {
    const documented = documentedSettings();
    const service = compose.services.isoscope!;
    for (const name of Object.keys(service.environment ?? {})) expect(documented).toContain(name);
    for (const name of Object.keys(blueGreen.services['isoscope-green']?.environment ?? {})) {
      expect(documented).toContain(name);
    }
    const port = service.environment?.ISOSCOPE_PORT;
    expect(service.ports).toContain(`127.0.0.1:${port}:${port}`);
    expect(service.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${port}/readyz`);
    expect(compose.services.grafana?.environment?.ISOSCOPE_URL).toBe(`http://isoscope:${port}`);
    // The service image's own HEALTHCHECK and port agree with compose.
    const dockerfile = readText('docker/Dockerfile');
    expect(dockerfile).toContain(`EXPOSE ${port}`);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('points the blue-green proxy at a colour that exists', () => {
    const active = readText('docker/nginx/active.conf').trim();
    const match = /^server ([\w-]+):(\d+);$/.exec(active);
    expect(match).not.toBeNull();
    const colours = ['isoscope', 'isoscope-green'];
    expect(colours).toContain(match![1]);
    expect(match![2]).toBe(compose.services.isoscope?.environment?.ISOSCOPE_PORT);
  });
});
