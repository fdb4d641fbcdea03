/**
 * The plugin preview: the plugin's app pages, data source editor and panel mounted with the real
 * @grafana/ui, @grafana/data and @grafana/runtime, and Grafana's own services played by stand-ins
 * (there is no Grafana server here): backendSrv over fetch to the stand-in for Grafana's server, which acts as the
 * data source proxy; a template service without variables; the page chrome.
 */
import React, { useEffect, useLayoutEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Route, Router, Routes, useSearchParams, type Navigator } from 'react-router-dom';
import {
  LoadingState,
  createTheme,
  dateTime,
  type AppRootProps,
  type DataQueryRequest,
  type DataSourceInstanceSettings,
  type PanelData,
  type PanelProps,
} from '@grafana/data';
import { config, locationService, setBackendSrv, setTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import { GlobalStyles, ThemeContext } from '@grafana/ui';
// Not a public export: Grafana itself installs its page chrome this way.
import { setPluginPage } from 'grafana-runtime-plugin-page';
import { plugin as appPlugin } from '../src/module';
import { IsoscopeDataSource } from '../src/datasource/datasource';
import { QueryEditor } from '../src/datasource/QueryEditor';
import type { IsoscopeDataSourceOptions, IsoscopeQuery } from '../src/datasource/types';
import { plugin as panelPlugin } from '../src/panel/module';
import { DEFAULT_OPTIONS, type TimelineOptions } from '../src/panel/types';
import { StandInPluginPage } from '../src/test/StandInPluginPage';
import type { AppSettings } from '../src/types';
import { previewBackendSrv } from './backend';

const params = new URLSearchParams(window.location.search);
if (params.get('role')) {
  sessionStorage.setItem('preview-role', params.get('role')!);
}
const role = () => sessionStorage.getItem('preview-role') ?? 'Admin';
config.bootData.user.orgRole = role() as typeof config.bootData.user.orgRole;
config.bootData.user.isGrafanaAdmin = false;

setBackendSrv(previewBackendSrv(role));
setTemplateSrv({
  replace: (target?: string) => target ?? '',
  getVariables: () => [],
  containsTemplate: () => false,
  updateTimeRange: () => {},
} as unknown as TemplateSrv);
setPluginPage(StandInPluginPage);

const datasource = new IsoscopeDataSource({
  id: 1,
  uid: 'isoscope',
  type: 'isoscope-anomaly-datasource',
  name: 'Isoscope',
  url: '/api/datasources/proxy/uid/isoscope',
  access: 'proxy',
  jsonData: { url: 'http://service' },
  meta: { id: 'isoscope-anomaly-datasource' },
  readOnly: true,
} as unknown as DataSourceInstanceSettings<IsoscopeDataSourceOptions>);

const AppRoot = appPlugin.root as React.ComponentType<AppRootProps<AppSettings>>;
const appProps = {
  meta: { id: 'isoscope-anomaly-app', jsonData: { datasourceUid: 'isoscope' } },
  basename: '/a/isoscope-anomaly-app',
  path: '/a/isoscope-anomaly-app',
  query: {},
} as unknown as AppRootProps<AppSettings>;

/** A dashboard panel as Grafana runs it: the data source's query for the time range, then the panel. */
function PanelPage() {
  const [search] = useSearchParams();
  const detector = search.get('detector') ?? '';
  const entity = search.get('entity') ?? '';
  const from = Number(search.get('from') ?? Date.now() - 6 * 3600_000);
  const to = Number(search.get('to') ?? Date.now());
  const timeRange = useMemo(
    () => ({ from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } }),
    [from, to]
  );
  const [data, setData] = useState<PanelData>({ series: [], state: LoadingState.Loading, timeRange });
  useEffect(() => {
    const targets: IsoscopeQuery[] = (['features', 'expected', 'score', 'contributions'] as const).map((r, i) => ({
      refId: String.fromCharCode(65 + i),
      detector,
      entity,
      return: r,
    }));
    datasource
      .query({ targets, range: timeRange, scopedVars: {} } as unknown as DataQueryRequest<IsoscopeQuery>)
      .then((r) =>
        setData({
          series: r.data,
          state: r.errors?.length ? LoadingState.Error : LoadingState.Done,
          timeRange,
          errors: r.errors,
        })
      );
  }, [detector, entity, timeRange]);
  const Panel = panelPlugin.panel as React.ComponentType<PanelProps<TimelineOptions>>;
  return (
    <section aria-label="Anomaly timeline panel" style={{ border: '1px solid #333', padding: 8, width: 1120 }}>
      <h3>
        {detector} · {entity}
      </h3>
      {data.state === LoadingState.Loading ? (
        <p>Loading…</p>
      ) : (
        <Panel
          {...({
            id: 1,
            data,
            timeRange,
            timeZone: 'utc',
            options: DEFAULT_OPTIONS,
            fieldConfig: { defaults: {}, overrides: [] },
            width: 1100,
            height: 380,
            title: 'Anomaly timeline',
            transparent: false,
            renderCounter: 0,
            replaceVariables: (s: string) => s,
            onOptionsChange: () => {},
            onFieldConfigChange: () => {},
            onChangeTimeRange: () => {},
            eventBus: {
              publish: () => {},
              subscribe: () => ({ unsubscribe: () => {} }),
              getStream: () => ({ subscribe: () => ({ unsubscribe: () => {} }) }),
            },
          } as unknown as PanelProps<TimelineOptions>)}
        />
      )}
    </section>
  );
}

function QueryEditorPage() {
  const [query, setQuery] = useState<IsoscopeQuery>({
    refId: 'A',
    detector: '',
    entity: '',
    return: 'score',
  });
  return (
    <section aria-label="Query editor">
      <QueryEditor datasource={datasource} query={query} onChange={setQuery} onRunQuery={() => {}} />
      <pre data-testid="query">{JSON.stringify(query)}</pre>
    </section>
  );
}

function Index() {
  return (
    <ul>
      <li>
        <Link to="/a/isoscope-anomaly-app/overview">App pages</Link>
      </li>
      <li>
        <Link to="/preview/query-editor">Query editor</Link>
      </li>
    </ul>
  );
}

/**
 * react-router 6 over the history that Grafana's locationService owns (history 4, as in Grafana),
 * so navigation from the plugin's links, `useNavigate` and `locationService.push` all move one router.
 */
function GrafanaRouter({ children }: { children: React.ReactNode }) {
  const history = locationService.getHistory();
  const [state, setState] = useState({ location: history.location, action: history.action });
  useLayoutEffect(
    () =>
      history.listen((location: unknown, action: unknown) => {
        // history 4 passes (location, action); history 5 passes { location, action }.
        const update = (location as { location?: typeof history.location }).location
          ? (location as { location: typeof history.location; action: typeof history.action })
          : { location: location as typeof history.location, action: action as typeof history.action };
        setState(update);
      }),
    [history]
  );
  return (
    <Router
      location={state.location}
      navigationType={state.action as never}
      navigator={history as unknown as Navigator}
    >
      {children}
    </Router>
  );
}

function Preview() {
  const theme = useMemo(() => createTheme({ colors: { mode: 'dark' } }), []);
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div style={{ padding: 16 }}>
        <GrafanaRouter>
          <Routes>
            <Route path="/a/isoscope-anomaly-app/*" element={<AppRoot {...appProps} />} />
            <Route path="/preview/panel" element={<PanelPage />} />
            <Route path="/preview/query-editor" element={<QueryEditorPage />} />
            <Route path="*" element={<Index />} />
          </Routes>
        </GrafanaRouter>
      </div>
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<Preview />);
