import { listFiles, readJson, readYaml } from './repo';

/** The parts of Grafana's dashboard JSON the deployment tests read. */
export interface DataSourceRef {
  type?: string;
  uid?: string;
}
export interface Target {
  refId: string;
  datasource?: DataSourceRef;
  query?: string;
  rawQuery?: boolean;
  [key: string]: unknown;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef;
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  annotations: { list: { datasource: DataSourceRef; target?: Target }[] };
  templating: { list: { name: string; datasource?: DataSourceRef; query?: unknown }[] };
}

const provisionedDataSources = readYaml<{
  datasources: { uid: string; type: string; jsonData?: object }[];
}>('provisioning/datasources/datasources.yaml').datasources;
/** Provisioned data source uid → plugin type. */
export const dataSourceUids = new Map(provisionedDataSources.map((d) => [d.uid, d.type]));

export const dashboards = listFiles('dashboards', (f) => f.endsWith('.json')).map((file) => ({
  file,
  json: readJson<Dashboard>(file),
}));

/** Every panel of a dashboard, rows' panels included. */
export function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}
