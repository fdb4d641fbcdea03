import type { InfluxV1Client } from '../io/influx/index.js';
import type { Registry, Role } from '../io/registry/index.js';
import type { Config } from './config.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    registry: Registry;
    influx: InfluxV1Client;
    /** The clock, injectable so tests control time. */
    now: () => number;
  }
  interface FastifyRequest {
    /** Who called, from the bearer token (undefined on open routes). */
    principal?: { tokenId: string; name: string; role: Role };
  }
  interface FastifyContextConfig {
    /** The least role a route needs; routes without one are open (health, metrics, docs). */
    role?: Role;
  }
}
