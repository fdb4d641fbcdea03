import { randomUUID } from 'node:crypto';
import { openRegistry, ROLES, type Role } from '../io/registry/index.js';
import { hashToken, newToken } from '../service/plugins/auth.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import { configFromFlags } from './serve.js';

const usage = `Usage: isoscope token create --role viewer|editor|admin [--name NAME] [--data-dir DIR]
       isoscope token list [--data-dir DIR]
       isoscope token revoke ID [--data-dir DIR]

Manages the service's API tokens in its registry (ISOSCOPE_REGISTRY_URL's PostgreSQL when set, else
SQLite in the data directory). A new token is printed once: store it (Grafana
keeps it in the data source's secure settings); the registry keeps only its SHA-256 hash.
Roles: viewer reads and queries, editor also edits detectors and trains, admin also changes stages
and deletes.
`;

export const command: CliCommand = {
  usage,
  async run({ argv, stdout }) {
    const [action, ...rest] = argv;
    const own: { role?: string; name?: string } = {};
    const passOn: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--role' || rest[i] === '--name') {
        const value = rest[i + 1];
        if (value === undefined) throw new UsageError(`${rest[i]} needs a value`);
        own[rest[i] === '--role' ? 'role' : 'name'] = value;
        i++;
      } else passOn.push(rest[i]!);
    }
    const { config, rest: positionals } = configFromFlags(passOn);
    const registry = await openRegistry(config);
    try {
      if (action === 'create') {
        if (!own.role || !(ROLES as readonly string[]).includes(own.role)) {
          throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got '${own.role ?? ''}'`);
        }
        const token = newToken();
        const record = await registry.createToken(
          { id: randomUUID(), name: own.name ?? own.role, role: own.role as Role, hash: hashToken(token) },
          Date.now(),
        );
        stdout.write(`${token}\n`);
        process.stderr.write(
          `token ${record.id} (${record.name}, ${record.role}) created; it is shown only now\n`,
        );
        return 0;
      }
      if (action === 'list') {
        for (const t of await registry.listTokens()) {
          stdout.write(
            `${t.id}  ${t.role.padEnd(6)}  ${t.name}  created ${new Date(t.createdAt).toISOString()}${t.revokedAt ? `  revoked ${new Date(t.revokedAt).toISOString()}` : ''}\n`,
          );
        }
        return 0;
      }
      if (action === 'revoke') {
        const id = positionals[0];
        if (!id) throw new UsageError('token revoke needs the token id (see token list)');
        try {
          await registry.revokeToken(id, Date.now());
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        stdout.write(`token ${id} revoked\n`);
        return 0;
      }
      throw new UsageError(`unknown action '${action ?? ''}': create, list or revoke`);
    } finally {
      await registry.close();
    }
  },
};
