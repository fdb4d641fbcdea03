import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RegistryError, ROLES, type Role, type TokenRecord } from '../../io/registry/index.js';
import { cachedToken } from './read-cache.js';

/** Tokens are stored as SHA-256 hashes: a leaked registry file does not leak working tokens. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random token: 32 bytes, URL-safe, prefixed so it is recognisable in a secret store. */
export function newToken(): string {
  return `iso_${randomBytes(32).toString('base64url')}`;
}

const rank = (role: Role): number => ROLES.indexOf(role);

const looked = new WeakMap<FastifyRequest, Promise<TokenRecord | undefined>>();

/** The bearer token a request carries, if any (the text after `Bearer `). */
export function bearerOf(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * The registry's record of a request's bearer token (undefined: none, unknown or revoked), looked
 * up once per request: the rate limit keys on it and auth checks it. The registry's answer for a
 * known token is kept TOKEN_TTL_MS (read-cache.ts), so a revoked token stops within 2 s.
 */
export function tokenOf(app: FastifyInstance, request: FastifyRequest): Promise<TokenRecord | undefined> {
  let found = looked.get(request);
  if (!found) {
    const token = bearerOf(request);
    found = token ? cachedToken(app, hashToken(token)) : Promise.resolve(undefined);
    looked.set(request, found);
  }
  return found;
}

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
      if (bearerOf(request) === undefined) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer').send({
          statusCode: 401,
          error: 'Unauthorized',
          code: 'UNAUTHORIZED',
          message: 'a bearer token is required (Authorization: Bearer <token>)',
        });
      }
      const token = await tokenOf(app, request);
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
