import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../backend/src/service/app.js';
import { loadConfig, type Config } from '../../backend/src/service/config.js';
import { hashToken } from '../../backend/src/service/plugins/auth.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
): Promise<FastifyInstance> {
  const dataDir = mkdtempSync(join(tmpdir(), 'isoscope-service-'));
  const config = loadConfig({}, { dataDir, influxUrl, influxDb, ...overrides }, undefined);
  const app = await buildApp({ config, scheduler: false, ...(now ? { now } : {}) });
  for (const role of ['viewer', 'editor', 'admin'] as const) {
    await app.registry.createToken(
      { id: role, name: `test ${role}`, role, hash: hashToken(TOKENS[role]) },
      0,
    );
  }
  // The registry goes when the app closes: testApp may be called inside a test, where jest takes no
  // hooks, and the app is ready already, where Fastify takes no onClose hook.
  const close = app.close.bind(app);
  return Object.assign(app, {
    close: async () => {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  }) as FastifyInstance;
}

export const as = (role: keyof typeof TOKENS): { authorization: string } => ({
  authorization: `Bearer ${TOKENS[role]}`,
});
