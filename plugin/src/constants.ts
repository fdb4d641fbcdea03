import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id;
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;
export const DATASOURCE_TYPE = 'isoscope-anomaly-datasource';
/** The uid provisioning gives the Isoscope data source (provisioning/datasources/datasources.yaml). */
export const DEFAULT_DATASOURCE_UID = 'isoscope';

export enum ROUTES {
  Overview = 'overview',
  Detectors = 'detectors',
  Explorer = 'explorer',
  Explain = 'explain',
}

export function prefixRoute(route: string): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}

/** The drill-down page for one moment, the target of every "Explain this moment" link. */
export function explainUrl(detector: string, entity: string, time: number | string): string {
  const t = typeof time === 'number' ? new Date(time).toISOString() : time;
  const q = new URLSearchParams({ detector, entity, time: t });
  return `${prefixRoute(ROUTES.Explain)}?${q.toString()}`;
}

export function detectorUrl(id: string): string {
  return `${prefixRoute(ROUTES.Detectors)}/${encodeURIComponent(id)}`;
}
