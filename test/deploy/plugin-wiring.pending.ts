/**
 * Deployment checks that need the plugin (issue 7): rename to plugin-wiring.test.ts when plugin/
 * exists. Kept out of the suite until then, so that main stays green; the compose file, the
 * provisioning and the dashboards already reference the plugin ids checked here.
 */
import { readText, readYaml, pluginIds } from '../support/repo';
// Shapes and helpers as in compose.test.ts and provisioning.test.ts (move them to test/support/ when enabling).

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
});
