import { Value } from 'typebox/value';
import { TELEGRAF_PRESETS } from '../../backend/src/io/influx/index.js';
import { GrafanaTarget } from '../../backend/src/service/schemas/index.js';
import {
  allPanels,
  dashboards,
  dataSourceUids,
  type Dashboard,
  type DataSourceRef,
  type Target,
} from '../support/grafana';
import { readYaml } from '../support/repo';

function allTargets(d: Dashboard): { where: string; ds: DataSourceRef | undefined; target: Target }[] {
  const fromPanels = allPanels(d.panels).flatMap((p) =>
    (p.targets ?? []).map((target) => ({
      where: `${d.uid}/${p.title}`,
      ds: target.datasource ?? p.datasource,
      target,
    })),
  );
  const fromAnnotations = d.annotations.list
    .filter((a) => a.target !== undefined)
    .map((a) => ({ where: `${d.uid}/annotation`, ds: a.datasource, target: a.target! }));
  return [...fromPanels, ...fromAnnotations];
}

describe('Grafana provisioning', () => {
  it('provisions InfluxDB and Isoscope with fixed uids, the token only in secureJsonData', () => {
    expect([...dataSourceUids.entries()].sort()).toEqual([
      ['influxdb', 'influxdb'],
      ['isoscope', 'isoscope-anomaly-datasource'],
    ]);
    const isoscope = readYaml<{ datasources: Record<string, unknown>[] }>(
      'provisioning/datasources/datasources.yaml',
    ).datasources.find((d) => d.uid === 'isoscope')!;
    expect(isoscope.secureJsonData).toEqual({ token: '${ISOSCOPE_TOKEN}' });
    expect(JSON.stringify(isoscope.jsonData)).not.toContain('TOKEN');
  });

  it('loads the dashboards folder that compose mounts', () => {
    const providers = readYaml<{ providers: { options: { path: string } }[] }>(
      'provisioning/dashboards/dashboards.yaml',
    ).providers;
    expect(providers.map((p) => p.options.path)).toEqual(['/var/lib/grafana/dashboards']);
  });

  it('has an example alert rule on isoscope_anomaly through the provisioned InfluxDB', () => {
    const groups = readYaml<{
      groups: { rules: { data: { datasourceUid: string; model: { query?: string } }[] }[] }[];
    }>('provisioning/alerting/rules.yaml').groups;
    const queries = groups.flatMap((g) => g.rules.flatMap((r) => r.data));
    for (const q of queries) expect(['influxdb', '__expr__']).toContain(q.datasourceUid);
    expect(queries.some((q) => q.model.query?.includes('"isoscope_anomaly"'))).toBe(true);
  });
});

describe('dashboards', () => {
  it('are the three we document, each with a fixed uid', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual(
      ['isoscope-host-drilldown', 'isoscope-infra-overview', 'isoscope-model-ops'].sort(),
    );
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))(
    '%s refers to provisioned data sources by uid',
    (_file, d) => {
      for (const { where, ds } of allTargets(d)) {
        expect({ where, uid: ds?.uid !== undefined && dataSourceUids.has(ds.uid) }).toEqual({
          where,
          uid: true,
        });
        expect({ where, type: ds?.type }).toEqual({ where, type: dataSourceUids.get(ds!.uid!) });
      }
      for (const variable of d.templating.list) {
        if (variable.datasource) expect(dataSourceUids.has(variable.datasource.uid ?? '')).toBe(true);
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d.json] as const))(
    "%s sends Isoscope queries the service's query schema accepts, for detectors it can create",
    (_file, d) => {
      for (const { where, ds, target } of allTargets(d)) {
        if (ds?.uid !== 'isoscope') continue;
        const { datasource: _datasource, ...query } = target;
        const errors = [...Value.Errors(GrafanaTarget, query)].map((e) => `${e.instancePath} ${e.message}`);
        expect({ where, errors }).toEqual({ where, errors: [] });
        // Every detector a dashboard names is one of the Telegraf presets, so `name: <preset>` creates it.
        if (query.detector !== '')
          expect({ where, preset: String(query.detector) in TELEGRAF_PRESETS }).toEqual({
            where,
            preset: true,
          });
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d.json] as const))(
    '%s has InfluxQL queries with a time filter',
    (_file, d) => {
      for (const { where, ds, target } of allTargets(d)) {
        if (ds?.uid !== 'influxdb') continue;
        expect({ where, raw: target.rawQuery }).toEqual({ where, raw: true });
        expect(target.query).toMatch(/^SELECT .+ FROM "[^"]+" WHERE .*\$timeFilter/);
      }
    },
  );
});

describe('.env.example', () => {
  it("documents exactly the settings the service's config reads", async () => {
    const { ENV_NAMES } = await import('../../backend/src/service/config.js');
    const { documentedSettings } = await import('../support/repo.js');
    expect([...documentedSettings()].sort()).toEqual(Object.values(ENV_NAMES).sort());
  });

  it('is a config the service accepts as it stands', async () => {
    const { loadConfig } = await import('../../backend/src/service/config.js');
    const { parseDotenv } = await import('../../backend/src/service/config.js');
    const { readText } = await import('../support/repo.js');
    expect(() => loadConfig(parseDotenv(readText('.env.example')), {}, undefined)).not.toThrow();
  });
});
