import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../service/config.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import { integerFlag } from './options.js';

const usage = `Usage: isoscope serve [--role all|api|worker] [--host H] [--port N] [--influx-url URL] [--influx-db DB] [--data-dir DIR]

Starts the HTTP service (API under /api/v1, OpenAPI at /docs, /healthz, /readyz, /metrics).
With a PostgreSQL registry (ISOSCOPE_REGISTRY_URL), --role api serves the API and enqueues
scoring, --role worker scores queued shards (and answers only /healthz, /readyz, /metrics),
--role all (the default) does both. Settings come from the environment and .env (see
.env.example); flags override them.
`;

export function configFromFlags(argv: string[]): { config: Config; rest: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'influx-url': { type: 'string' },
      'influx-db': { type: 'string' },
      'data-dir': { type: 'string' },
      role: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const port = integerFlag(values.port, 'port', 0, 65535);
  const role = values.role;
  if (role !== undefined && role !== 'all' && role !== 'api' && role !== 'worker')
    throw new UsageError(`--role must be one of all, api, worker, got '${role}'`);
  const overrides: Partial<Config> = {
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values['influx-url'] !== undefined ? { influxUrl: values['influx-url'] } : {}),
    ...(values['influx-db'] !== undefined ? { influxDb: values['influx-db'] } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(role !== undefined ? { role } : {}),
  };
  try {
    return { config: loadConfig(process.env, overrides), rest: positionals };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export const command: CliCommand = {
  usage,
  async run({ argv, stdout }) {
    const { config, rest } = configFromFlags(argv);
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const { startServer } = await import('../service/server.js');
    const { url } = await startServer(config);
    stdout.write(
      config.role === 'worker'
        ? `isoscope worker scoring queued shards; probes on ${url} (/healthz, /readyz, /metrics)\n`
        : `isoscope service listening on ${url} (API /api/v1, docs ${url}/docs)${config.role === 'api' ? '; scoring is left to the workers' : ''}\n`,
    );
    // Keep running until a signal: close-with-grace ends the process.
    await new Promise<never>(() => undefined);
    return 0;
  },
};
