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
  Incidents = 'incidents',
  Suppressions = 'suppressions',
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

/** The Incidents page, filtered (detector, entity, state, severity). */
export function incidentsUrl(filters: Record<string, string> = {}): string {
  const q = new URLSearchParams(filters).toString();
  return `${prefixRoute(ROUTES.Incidents)}${q ? `?${q}` : ''}`;
}

/** Explains an incident: its peak, the moment the incident's smoothed score was highest. */
export function incidentExplainUrl(i: { detector: string; entity: string; peak: string; id: string }): string {
  return `${explainUrl(i.detector, i.entity, i.peak)}&incident=${encodeURIComponent(i.id)}`;
}

export function detectorUrl(id: string): string {
  return `${prefixRoute(ROUTES.Detectors)}/${encodeURIComponent(id)}`;
}

/**
 * The Suppression rules page; with `prefill` (from an incident's "Suppress similar…") it opens the
 * new-rule form with the detector, entity and metric filled in, and `since` (the incident's start)
 * ready for "apply to incidents recorded since", which stays unticked.
 */
export function suppressionsUrl(prefill?: {
  detector?: string;
  entity?: string;
  metric?: string;
  since?: string;
}): string {
  if (!prefill) {
    return prefixRoute(ROUTES.Suppressions);
  }
  const q = new URLSearchParams({ add: '1' });
  for (const key of ['detector', 'entity', 'metric', 'since'] as const) {
    if (prefill[key]) {
      q.set(key, prefill[key]);
    }
  }
  return `${prefixRoute(ROUTES.Suppressions)}?${q.toString()}`;
}
