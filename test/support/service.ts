import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../backend/src/service/app.js';
import { loadConfig, type Config } from '../../backend/src/service/config.js';
import { hashToken } from '../../backend/src/service/plugins/auth.js';
import { scratchDir } from './scratch.js';

export const TOKENS = {
  viewer: 'viewer-token-0123456789',
  editor: 'editor-token-0123456789',
  admin: 'admin-token-0123456789',
} as const;

/** The service on a fresh registry, with one token per role, against the given InfluxDB. */
export async function testApp(
  influxUrl: string,
  influxDb: string,
  overrides: Partial<Config> = {},
  now?: () => number,
  eventLoopLag?: () => number,
): Promise<FastifyInstance> {
  // Kept until the test file ends (not when the app closes): restart tests reopen the same registry.
  const dataDir = scratchDir('service');
  const config = loadConfig({}, { dataDir, influxUrl, influxDb, ...overrides }, undefined);
  const app = await buildApp({
    config,
    scheduler: false,
    ...(now ? { now } : {}),
    ...(eventLoopLag ? { eventLoopLag } : {}),
  });
  for (const role of ['viewer', 'editor', 'admin'] as const) {
    await app.registry.createToken(
      { id: role, name: `test ${role}`, role, hash: hashToken(TOKENS[role]) },
      0,
    );
  }
  return app;
}

export const as = (role: keyof typeof TOKENS): { authorization: string } => ({
  authorization: `Bearer ${TOKENS[role]}`,
});
