import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import { RegistryError, ROLES, type Role } from '../../io/registry/index.js';

/** Tokens are stored as SHA-256 hashes: a leaked registry file does not leak working tokens. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random token: 32 bytes, URL-safe, prefixed so it is recognisable in a secret store. */
export function newToken(): string {
  return `iso_${randomBytes(32).toString('base64url')}`;
}

const rank = (role: Role): number => ROLES.indexOf(role);

/**
 * Bearer-token auth with roles: viewer < editor < admin. A route states the least role it needs
 * in `config.role`; without a token the answer is 401, with too small a role 403. At start the
 * bootstrap token from the config becomes an admin token if it is not one yet.
 */
export default fp(
  async (app) => {
    const bootstrap = app.config.bootstrapToken;
    if (bootstrap && !(await app.registry.findToken(hashToken(bootstrap)))) {
      try {
        await app.registry.createToken(
          { id: randomUUID(), name: 'bootstrap', role: 'admin', hash: hashToken(bootstrap) },
          app.now(),
        );
        app.log.info('bootstrap token registered as admin');
      } catch (err) {
        // Another replica registered it at the same moment, or it was revoked (a revoked token
        // stays revoked): either way the start goes on.
        if (!(err instanceof RegistryError && err.code === 'CONFLICT')) throw err;
        app.log.warn('bootstrap token not registered: it exists already (another replica) or was revoked');
      }
    }
    // preParsing, after the route's onRequest hooks: the rate limit (a route hook) counts a request
    // before its token is checked, so made-up tokens are limited too; bodies are parsed only for
    // callers with a valid token.
    app.addHook('preParsing', async (request, reply) => {
      const needed = request.routeOptions.config.role;
      if (!needed) return;
      const header = request.headers.authorization ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer').send({
          statusCode: 401,
          error: 'Unauthorized',
          code: 'UNAUTHORIZED',
          message: 'a bearer token is required (Authorization: Bearer <token>)',
        });
      }
      const token = await app.registry.findToken(hashToken(match[1]!));
      if (!token) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer').send({
          statusCode: 401,
          error: 'Unauthorized',
          code: 'UNAUTHORIZED',
          message: 'the token is unknown or revoked',
        });
      }
      request.principal = { tokenId: token.id, name: token.name, role: token.role };
      if (rank(token.role) < rank(needed)) {
        return reply.code(403).send({
          statusCode: 403,
          error: 'Forbidden',
          code: 'FORBIDDEN',
          message: `this needs the ${needed} role; the token '${token.name}' is ${token.role}`,
        });
      }
    });
  },
  { name: 'auth', dependencies: ['registry'] },
);
