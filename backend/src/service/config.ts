import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The service's settings: from the environment (ISOSCOPE_*), from a `.env` file in the working
 * directory (the environment wins), and from `isoscope serve` flags (which win over both).
 * `.env.example` documents every one. A bad value stops the start with a message naming it.
 */
export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  dataDir: Type.String({ minLength: 1 }),
  registryUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://[^\\s]+$' })),
  influxUrl: Type.String({ pattern: '^https?://[^\\s]+$' }),
  influxDb: Type.String({ minLength: 1 }),
  influxUser: Type.Optional(Type.String()),
  influxPassword: Type.Optional(Type.String()),
  influxToken: Type.Optional(Type.String()),
  influxOrg: Type.Optional(Type.String()),
  influxBucket: Type.Optional(Type.String()),
  /** Databases a detector's source.database may name besides influxDb: a comma list, or '*' for any. */
  influxAllowedDatabases: Type.Optional(Type.String()),
  alertmanagerUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  webhookUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  webhookSecret: Type.Optional(Type.String()),
  /** Grafana, read for verdicts operators give as tagged annotations; off unless both are set. */
  grafanaUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  grafanaToken: Type.Optional(Type.String()),
  grafanaPollSeconds: Type.Integer({ minimum: 5, maximum: 86_400 }),
  grafanaLookbackHours: Type.Integer({ minimum: 1, maximum: 8760 }),
  bootstrapToken: Type.Optional(Type.String({ minLength: 16 })),
  logLevel: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const),
  maxJobs: Type.Integer({ minimum: 1, maximum: 32 }),
  /** InfluxDB queries in flight at once; more wait (up to the request timeout), then 503. */
  influxMaxQueries: Type.Integer({ minimum: 1, maximum: 1000 }),
  /** Requests a minute per token (per address without one); 0 = no limit. */
  rateLimit: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  /** Event-loop delay beyond which API requests are answered 503 at once; 0 = never. */
  maxEventLoopDelayMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
  /** api: HTTP and the scheduler (enqueues); worker: scores queued shards; all: both (one node). */
  role: Type.Enum(['all', 'api', 'worker'] as const),
  /** Shards per detector in queue mode: one job per shard and interval. */
  shards: Type.Integer({ minimum: 1, maximum: 4096 }),
  /** Seconds a worker may hold a shard job before another takes it over. */
  leaseSeconds: Type.Integer({ minimum: 5, maximum: 3600 }),
});
export type Config = Static<typeof ConfigSchema>;

/** Each setting and its environment variable, in `.env.example`'s order. */
export const ENV_NAMES: Record<keyof Config, string> = {
  host: 'ISOSCOPE_HOST',
  port: 'ISOSCOPE_PORT',
  dataDir: 'ISOSCOPE_DATA_DIR',
  registryUrl: 'ISOSCOPE_REGISTRY_URL',
  influxUrl: 'ISOSCOPE_INFLUX_URL',
  influxDb: 'ISOSCOPE_INFLUX_DB',
  influxUser: 'ISOSCOPE_INFLUX_USER',
  influxPassword: 'ISOSCOPE_INFLUX_PASSWORD',
  influxToken: 'ISOSCOPE_INFLUX_TOKEN',
  influxOrg: 'ISOSCOPE_INFLUX_ORG',
  influxBucket: 'ISOSCOPE_INFLUX_BUCKET',
  influxAllowedDatabases: 'ISOSCOPE_INFLUX_ALLOWED_DATABASES',
  alertmanagerUrl: 'ISOSCOPE_ALERTMANAGER_URL',
  webhookUrl: 'ISOSCOPE_WEBHOOK_URL',
  webhookSecret: 'ISOSCOPE_WEBHOOK_SECRET',
  grafanaUrl: 'ISOSCOPE_GRAFANA_URL',
  grafanaToken: 'ISOSCOPE_GRAFANA_TOKEN',
  grafanaPollSeconds: 'ISOSCOPE_GRAFANA_POLL_SECONDS',
  grafanaLookbackHours: 'ISOSCOPE_GRAFANA_LOOKBACK_HOURS',
  bootstrapToken: 'ISOSCOPE_BOOTSTRAP_TOKEN',
  logLevel: 'ISOSCOPE_LOG_LEVEL',
  maxJobs: 'ISOSCOPE_MAX_JOBS',
  influxMaxQueries: 'ISOSCOPE_INFLUX_MAX_QUERIES',
  rateLimit: 'ISOSCOPE_RATE_LIMIT',
  maxEventLoopDelayMs: 'ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS',
  role: 'ISOSCOPE_ROLE',
  shards: 'ISOSCOPE_SHARDS',
  leaseSeconds: 'ISOSCOPE_LEASE_SECONDS',
};

const DEFAULTS: Partial<Config> = {
  host: '0.0.0.0',
  port: 8787,
  dataDir: './.data',
  influxUrl: 'http://127.0.0.1:8086',
  influxDb: 'telegraf',
  logLevel: 'info',
  maxJobs: 2,
  grafanaPollSeconds: 60,
  grafanaLookbackHours: 168,
  influxMaxQueries: 8,
  rateLimit: 30000,
  // Training, backfills and live scoring run their streams on worker threads, so the loop's own
  // stalls are registry writes of multi-megabyte models, one at a time (the demo's longest: 2.3 s
  // on a 2-core machine at load 17), and the check asks for the delay in two windows running
  // (EventLoopLag). A service that far behind on its requests refuses in milliseconds what would
  // otherwise queue until Grafana's 30 s timeout.
  maxEventLoopDelayMs: 2000,
  role: 'all',
  shards: 32,
  leaseSeconds: 60,
};

const INTEGERS = new Set<keyof Config>([
  'port',
  'maxJobs',
  'grafanaPollSeconds',
  'grafanaLookbackHours',
  'influxMaxQueries',
  'rateLimit',
  'maxEventLoopDelayMs',
  'shards',
  'leaseSeconds',
]);

/** A setting that stops the start: the message names the variable (or flag) and what it must be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

/** Parses `.env` text: KEY=value lines, # comments, optional quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

/** The `.env` file's settings; none when there is no file. Any other failure stops the start. */
function readDotenv(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError(
      `${file} cannot be read (${code ?? (err as Error).message}); fix its permissions or remove it`,
    );
  }
  return parseDotenv(text);
}

/**
 * Builds the config: defaults < .env < environment < overrides. Empty values count as unset.
 * Throws ConfigError naming the variable (or flag) and what it must be.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
  dotenvFile: string | undefined = '.env',
): Config {
  const fromFile = dotenvFile ? readDotenv(dotenvFile) : {};
  const raw: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, name] of Object.entries(ENV_NAMES) as Array<[keyof Config, string]>) {
    const value = env[name] ?? fromFile[name];
    if (value === undefined || value === '') continue;
    if (INTEGERS.has(key)) {
      const n = Number(value);
      if (!/^\d+$/.test(value.trim()))
        throw new ConfigError(`${name} must be a whole number, got '${value}'`);
      raw[key] = n;
    } else {
      raw[key] = value;
    }
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  const errors = [...Value.Errors(ConfigSchema, raw)];
  if (errors.length > 0) {
    const first = errors[0]!;
    const key = first.instancePath.slice(1) as keyof Config;
    const name = ENV_NAMES[key] ?? key;
    // A URL may carry a password (a database's, Grafana's basic auth): never echo it.
    const value = key.endsWith('Url') ? String(raw[key]).replace(/\/\/[^@/]*@/, '//***@') : String(raw[key]);
    const shown = raw[key] === undefined ? 'nothing' : `'${value}'`;
    const hint =
      key === 'logLevel'
        ? 'one of trace, debug, info, warn, error, silent'
        : key === 'role'
          ? 'one of all, api, worker'
          : key === 'registryUrl'
            ? 'a postgres:// or postgresql:// URL (unset: SQLite in the data directory)'
            : key.endsWith('Url')
              ? 'an http:// or https:// URL'
              : key === 'bootstrapToken'
                ? 'at least 16 characters'
                : first.message;
    throw new ConfigError(`${name} must be ${hint}, got ${shown}`);
  }
  // The split needs a queue the processes share, and SQLite is one process's file.
  if (raw.role !== 'all' && (raw.registryUrl === undefined || raw.registryUrl === ''))
    throw new ConfigError(
      `role ${String(raw.role)} (${ENV_NAMES.role} or --role) needs ${ENV_NAMES.registryUrl}: a PostgreSQL registry the api and worker processes share; with SQLite, use role all`,
    );
  return raw as Config;
}
