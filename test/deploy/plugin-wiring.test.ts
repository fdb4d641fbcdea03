/**
 * The plugin against what deploys and serves it: compose mounts and allows it, provisioning enables
 * it and its data source, dashboards use its panel, and every URL its client builds is a route of
 * the service that Grafana's proxy route lets through with at least the role the service asks.
 */
import { allPanels, dashboards, dataSourceUids } from '../support/grafana';
import { readText, readYaml, pluginIds } from '../support/repo';
import { as, testApp } from '../support/service.js';

const compose = readYaml<{
  services: Record<string, { image?: string; environment?: Record<string, string>; volumes?: string[] }>;
}>('docker-compose.yml');
/** A plugin source loaded by path: it is typed by the plugin's own tsconfig, not this one. */
const pluginModule = (file: string): Promise<unknown> => import(`../../plugin/src/${file}`);

const pluginIdList = ['isoscope-anomaly-app', 'isoscope-anomaly-datasource', 'isoscope-anomaly-panel'];

/** Panel types Grafana ships with, which our dashboards may use besides our own panel. */
const builtInPanels = new Set([
  'timeseries',
  'table',
  'stat',
  'text',
  'row',
  'gauge',
  'bargauge',
  'state-timeline',
]);

describe('compose and the plugin', () => {
  it('gives Grafana the plugin, the provisioning, and permission to load the three unsigned plugins', () => {
    const grafana = compose.services.grafana!;
    const allowed = (grafana.environment?.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS ?? '').split(',');
    expect(allowed.sort()).toEqual([...pluginIdList].sort());
    expect(grafana.volumes).toContain('./plugin/dist:/var/lib/grafana/plugins/isoscope-anomaly-app:ro');
    expect(grafana.volumes).toContain('./provisioning:/etc/grafana/provisioning:ro');
    expect(grafana.volumes).toContain('./dashboards:/var/lib/grafana/dashboards:ro');
    const ids = pluginIds();
    for (const id of pluginIdList) expect(ids.has(id)).toBe(true);
  });

  it('pins Grafana to the minor the plugin is built against', () => {
    const plugin = JSON.parse(readText('plugin/package.json')) as { dependencies?: Record<string, string> };
    const grafanaData = plugin.dependencies?.['@grafana/data'] ?? '';
    const minor = /(\d+)\.(\d+)/.exec(grafanaData);
    expect(minor).not.toBeNull();
    expect(compose.services.grafana?.image).toMatch(
      new RegExp(`^grafana/grafana:${minor![1]}\\.${minor![2]}\\.`),
    );
  });
});

describe('provisioning and the plugin', () => {
  it('enables the app whose plugin.json exists', () => {
    const apps = readYaml<{ apps: { type: string; jsonData: { datasourceUid: string } }[] }>(
      'provisioning/plugins/apps.yaml',
    ).apps;
    const ids = pluginIds();
    expect(apps.map((a) => a.type)).toEqual(['isoscope-anomaly-app']);
    expect(ids.get('isoscope-anomaly-app')).toBe('app');
    expect(dataSourceUids.get(apps[0]!.jsonData.datasourceUid)).toBe('isoscope-anomaly-datasource');
  });

  it('provisions the data source of the plugin', () => {
    expect(pluginIds().get('isoscope-anomaly-datasource')).toBe('datasource');
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s uses only panels that exist', (_file, d) => {
    const ids = pluginIds();
    for (const panel of allPanels(d.panels)) {
      const known = builtInPanels.has(panel.type) || ids.get(panel.type) === 'panel';
      expect({ panel: panel.title, type: panel.type, known }).toEqual({
        panel: panel.title,
        type: panel.type,
        known: true,
      });
    }
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))(
    '%s gives the anomaly panel its own options and the queries it draws',
    async (_file, d) => {
      // The panel's defaults name every option it has (plugin/src/panel/types.ts, plain data).
      const { DEFAULT_OPTIONS } = (await pluginModule('panel/types')) as {
        DEFAULT_OPTIONS: Record<string, unknown>;
      };
      for (const panel of allPanels(d.panels).filter((p) => p.type === 'isoscope-anomaly-panel')) {
        const options = Object.keys((panel as { options?: object }).options ?? {});
        expect({ panel: panel.title, unknown: options.filter((o) => !(o in DEFAULT_OPTIONS)) }).toEqual({
          panel: panel.title,
          unknown: [],
        });
        const returns = (panel.targets ?? []).map((t) => t.return);
        expect({
          panel: panel.title,
          metricsAndScore: returns.includes('features') && returns.includes('score'),
        }).toEqual({ panel: panel.title, metricsAndScore: true });
      }
    },
  );
});

// The plugin's client, with Grafana's backendSrv replaced by a recorder (Grafana's frontend cannot run here).
const mockCalls: Array<{ method: string; url: string; data?: unknown }> = [];
jest.mock('@grafana/runtime', () => ({
  getBackendSrv: () => ({
    fetch: (o: { method?: string; url: string; data?: unknown }) => {
      mockCalls.push({ method: o.method ?? 'GET', url: o.url, data: o.data });
      return jest.requireActual<typeof import('rxjs')>('rxjs').of({ data: {} });
    },
  }),
  isFetchError: () => false,
}));

describe('the plugin client against the service', () => {
  const base = '/api/datasources/proxy/uid/isoscope';
  let app: Awaited<ReturnType<typeof testApp>>;
  const routes = (
    JSON.parse(readText('plugin/src/datasource/plugin.json')) as {
      routes: Array<{ path: string; method?: string; reqRole?: string }>;
    }
  ).routes;

  beforeAll(async () => {
    // No InfluxDB is needed: only routing and auth answer before a handler reads data.
    app = await testApp('http://127.0.0.1:9', 'none');
    const { IsoscopeClient } = (await pluginModule('api/client')) as {
      IsoscopeClient: new (base: string) => unknown;
    };
    const { EVERY_CALL } = (await pluginModule('api/calls')) as {
      EVERY_CALL: Record<string, (client: unknown) => Promise<unknown>>;
    };
    for (const call of Object.values(EVERY_CALL)) await call(new IsoscopeClient(base)).catch(() => undefined);
  });
  afterAll(() => app?.close());

  it('records a call for each client method', () => {
    expect(mockCalls.length).toBeGreaterThanOrEqual(20);
  });

  it('sends every call to a route the service has, behind a proxy route that asks the Grafana role matching the service’s', async () => {
    for (const call of mockCalls) {
      const url = `/api/v1/${call.url.slice(`${base}/api/`.length)}`;
      const inject = (role: 'viewer' | 'editor') =>
        app.inject({
          method: call.method as 'GET',
          url,
          headers: as(role),
          ...(call.data !== undefined ? { payload: call.data as object } : {}),
        });
      const asViewer = await inject('viewer');
      const message = (asViewer.json() as { message?: string }).message ?? '';
      expect({ call: `${call.method} ${url}`, missing: /^Route .* not found$/.test(message) }).toEqual({
        call: `${call.method} ${url}`,
        missing: false,
      });
      const proxyPath = call.url.slice(base.length + 1).split('?')[0]!;
      const route = routes.find(
        (r) =>
          (!r.method || r.method === '*' || r.method === call.method) &&
          (proxyPath === r.path || proxyPath.startsWith(`${r.path}/`)),
      );
      // What the service refuses a role never leaves Grafana for that role: editors' actions need
      // Grafana's Editor, admin-only ones (stages, rollback, delete) Grafana's Admin, whatever
      // role the data source's token has.
      const asEditor = asViewer.statusCode === 403 ? await inject('editor') : undefined;
      const needs =
        asEditor?.statusCode === 403 ? 'Admin' : asViewer.statusCode === 403 ? 'Editor' : undefined;
      expect({ call: `${call.method} ${url}`, reqRole: route?.reqRole }).toEqual({
        call: `${call.method} ${url}`,
        reqRole: needs,
      });
    }
  });
});
