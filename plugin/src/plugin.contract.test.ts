import fs from 'fs';
import path from 'path';
import { IsoscopeClient } from './api/client';
import { EVERY_CALL } from './api/calls';
import { fakeBackend } from './test/fakeBackend';

interface Route {
  path: string;
  method?: string;
  reqRole?: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}
interface PluginJson {
  id: string;
  type: string;
  includes?: Array<{ type: string; path?: string }>;
  routes?: Route[];
}

const read = (file: string): PluginJson => JSON.parse(fs.readFileSync(path.join(__dirname, file), 'utf8'));
const app = read('plugin.json');
const datasource = read('datasource/plugin.json');
const base = '/api/datasources/proxy/uid/isoscope';

/** The route Grafana's data source proxy picks: the first whose method and path prefix match. */
function matchRoute(routes: Route[], method: string, url: string): Route | undefined {
  const proxyPath = url.slice(base.length + 1).split('?')[0]!;
  return routes.find(
    (r) =>
      (!r.method || r.method === '*' || r.method === method) &&
      (proxyPath === r.path || proxyPath.startsWith(`${r.path}/`))
  );
}

describe('plugin.json contract', () => {
  it("lists each nested plugin in the app's includes, with its type and path", () => {
    const nested = (app.includes ?? []).filter((i) => i.type === 'datasource' || i.type === 'panel');
    expect(nested.map((i) => [i.type, i.path])).toEqual([
      ['datasource', 'datasource/plugin.json'],
      ['panel', 'panel/plugin.json'],
    ]);
    for (const include of nested) {
      const plugin = read(include.path!);
      expect(plugin.type).toBe(include.type);
      expect(plugin.id.startsWith('isoscope-anomaly-')).toBe(true);
      expect(
        fs.existsSync(path.join(__dirname, path.dirname(include.path!), 'module.ts')) ||
          fs.existsSync(path.join(__dirname, path.dirname(include.path!), 'module.tsx'))
      ).toBe(true);
    }
    expect(app.id).toBe('isoscope-anomaly-app');
  });

  it('gives every proxy route the service URL and the token from secure settings', () => {
    for (const route of datasource.routes ?? []) {
      expect(route.url).toBe(`{{ .JsonData.url }}/api/v1${route.path.slice('api'.length)}`);
      expect(route.headers).toEqual([{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }]);
    }
  });

  it('has a test call for every client method', () => {
    const methods = Object.getOwnPropertyNames(IsoscopeClient.prototype).filter(
      (m) => !['constructor', 'url', 'request'].includes(m)
    );
    expect(Object.keys(EVERY_CALL).sort()).toEqual(methods.sort());
  });

  it.each(Object.keys(EVERY_CALL))(
    '%s goes to a proxy route; reads need no role, admin actions Admin, the rest Editor',
    async (name) => {
      const calls = fakeBackend(() => ({ data: {} }));
      await EVERY_CALL[name]!(new IsoscopeClient(base));
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        const route = matchRoute(datasource.routes ?? [], call.method, call.url);
        expect({ call, matched: Boolean(route) }).toEqual({ call, matched: true });
        const readOnly = call.method === 'GET' || call.url.startsWith(`${base}/api/grafana/`);
        const adminOnly = call.url.startsWith(`${base}/api/admin/`);
        const role = adminOnly ? 'Admin' : readOnly ? undefined : 'Editor';
        expect({ call, reqRole: route!.reqRole }).toEqual({ call, reqRole: role });
      }
    }
  );
});
