import type { FastifyInstance } from 'fastify';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { TOKENS, testApp } from '../support/service.js';

/**
 * The role matrix of docs/api.md, checked on every operation of the OpenAPI document with every
 * kind of credential: /api/v1/admin/… needs admin; other writes need editor; reads and the Grafana
 * data source endpoints (which POST their queries) need viewer; probes and docs are open. Refusals
 * are 401 (no, malformed or unknown token) and 403 (a role too small); an allowed caller is never
 * refused, whatever else the request lacks (InfluxDB is not running here).
 */
const ROLES = ['viewer', 'editor', 'admin'] as const;
type Role = (typeof ROLES)[number];

function needed(method: string, path: string): Role | undefined {
  if (!path.startsWith('/api/v1/')) return undefined;
  if (path.startsWith('/api/v1/admin/')) return 'admin';
  if (method === 'GET' || path.startsWith('/api/v1/grafana/')) return 'viewer';
  return 'editor';
}

describe('who may call what: every route × no token, malformed, unknown, viewer, editor, admin', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'telegraf', { rateLimit: 0 });
  });
  afterAll(() => app.close());

  it('matches the documented roles', async () => {
    const doc = (
      app as unknown as { swagger: () => { paths: Record<string, Record<string, unknown>> } }
    ).swagger();
    const credentials: Array<[string, Record<string, string>, Role | undefined]> = [
      ['no token', {}, undefined],
      ['malformed', { authorization: 'Token abc' }, undefined],
      ['unknown', { authorization: 'Bearer iso_not-a-real-token-000000000000' }, undefined],
      ...ROLES.map((r): [string, Record<string, string>, Role] => [
        r,
        { authorization: `Bearer ${TOKENS[r]}` },
        r,
      ]),
    ];
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const url = path.replace(/\{[^}]+\}/g, 'no-such-thing');
        const role = needed(method, path);
        for (const [name, headers, has] of credentials) {
          const res = await app.inject({
            method: method as 'GET',
            url,
            headers: { ...headers, 'content-type': 'application/json' },
            ...(method === 'GET' || method === 'DELETE' ? {} : { payload: '{}' }),
          });
          checked++;
          const expected =
            role === undefined
              ? 'allowed'
              : has === undefined
                ? 401
                : ROLES.indexOf(has) < ROLES.indexOf(role)
                  ? 403
                  : 'allowed';
          const got = res.statusCode === 401 || res.statusCode === 403 ? res.statusCode : 'allowed';
          if (got !== expected)
            wrong.push(`${method} ${path} as ${name}: ${res.statusCode}, expected ${expected}`);
          if (got !== 'allowed')
            expect(res.json()).toMatchObject({ code: got === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN' });
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });
});
