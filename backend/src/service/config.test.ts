import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig and .env', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isoscope-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing .env is no settings', () => {
    expect(loadConfig({}, {}, join(dir, 'absent.env')).port).toBe(8787);
  });

  it('reads .env; the environment wins over it', () => {
    const file = join(dir, 'ok.env');
    writeFileSync(file, 'ISOSCOPE_PORT=9001\nISOSCOPE_INFLUX_DB=metrics\n');
    const c = loadConfig({ ISOSCOPE_INFLUX_DB: 'other' }, {}, file);
    expect([c.port, c.influxDb]).toEqual([9001, 'other']);
  });

  it('a .env that exists but cannot be read stops the start naming it, instead of being ignored', () => {
    const file = join(dir, 'a-directory.env');
    mkdirSync(file);
    expect(() => loadConfig({}, {}, file)).toThrow(ConfigError);
    expect(() => loadConfig({}, {}, file)).toThrow(/a-directory\.env cannot be read \(EISDIR\)/);
  });

  it('defaults and checks the limits: rate limit, event-loop delay, allowed databases', () => {
    const c = loadConfig({}, {}, undefined);
    expect([c.rateLimit, c.maxEventLoopDelayMs, c.influxAllowedDatabases]).toEqual([30000, 2000, undefined]);
    expect(loadConfig({ ISOSCOPE_RATE_LIMIT: '0' }, {}, undefined).rateLimit).toBe(0);
    expect(() => loadConfig({ ISOSCOPE_RATE_LIMIT: 'lots' }, {}, undefined)).toThrow(
      "ISOSCOPE_RATE_LIMIT must be a whole number, got 'lots'",
    );
    expect(
      loadConfig({ ISOSCOPE_INFLUX_ALLOWED_DATABASES: 'telegraf, prod' }, {}, undefined)
        .influxAllowedDatabases,
    ).toBe('telegraf, prod');
  });

  it('role: all by default; api and worker need a PostgreSQL registry; shards and lease are bounded', () => {
    const c = loadConfig({}, {}, undefined);
    expect([c.role, c.shards, c.leaseSeconds]).toEqual(['all', 32, 60]);
    const pg = { ISOSCOPE_REGISTRY_URL: 'postgres://u:p@db:5432/isoscope' };
    expect(loadConfig({ ...pg, ISOSCOPE_ROLE: 'worker' }, {}, undefined).role).toBe('worker');
    expect(loadConfig(pg, { role: 'api' }, undefined).role).toBe('api');
    expect(() => loadConfig({ ISOSCOPE_ROLE: 'worker' }, {}, undefined)).toThrow(
      /role worker \(ISOSCOPE_ROLE or --role\) needs ISOSCOPE_REGISTRY_URL/,
    );
    expect(() => loadConfig({ ...pg, ISOSCOPE_ROLE: 'scorer' }, {}, undefined)).toThrow(
      "ISOSCOPE_ROLE must be one of all, api, worker, got 'scorer'",
    );
    expect(() => loadConfig({ ISOSCOPE_SHARDS: '0' }, {}, undefined)).toThrow(/ISOSCOPE_SHARDS/);
    expect(() => loadConfig({ ISOSCOPE_LEASE_SECONDS: '2' }, {}, undefined)).toThrow(
      /ISOSCOPE_LEASE_SECONDS/,
    );
  });
});

describe('Grafana feedback settings', () => {
  it('are off unless set, default to a minute and a week, and a bad URL is named without its password', () => {
    const c = loadConfig({}, {}, undefined);
    expect([c.grafanaUrl, c.grafanaToken, c.grafanaPollSeconds, c.grafanaLookbackHours]).toEqual([
      undefined,
      undefined,
      60,
      168,
    ]);
    expect(() => loadConfig({ ISOSCOPE_GRAFANA_POLL_SECONDS: '1' }, {}, undefined)).toThrow(
      /^ISOSCOPE_GRAFANA_POLL_SECONDS must be/,
    );
    expect(() => loadConfig({ ISOSCOPE_GRAFANA_URL: 'grafana://admin:secret@host' }, {}, undefined)).toThrow(
      "ISOSCOPE_GRAFANA_URL must be an http:// or https:// URL, got 'grafana://***@host'",
    );
  });
});
