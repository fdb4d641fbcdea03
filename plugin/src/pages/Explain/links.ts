import { DATASOURCE_TYPE } from '../../constants';

const HOUR = 3600 * 1000;

/**
 * Explore with the detector's features and score around the moment, through the Isoscope data
 * source: structured queries, no query text pasted together.
 */
export function exploreUrl(datasourceUid: string, detector: string, entity: string, time: number): string {
  const datasource = { type: DATASOURCE_TYPE, uid: datasourceUid };
  const panes = {
    a: {
      datasource: datasourceUid,
      queries: [
        { refId: 'A', datasource, detector, entity, return: 'features' },
        { refId: 'B', datasource, detector, entity, return: 'score' },
      ],
      range: { from: String(time - HOUR), to: String(time + HOUR) },
    },
  };
  return `/explore?schemaVersion=1&orgId=1&panes=${encodeURIComponent(JSON.stringify(panes))}`;
}

/** The host drill-down dashboard for the entity, two hours around the moment. */
export function hostDashboardUrl(dashboardUid: string, entity: string, time: number): string {
  const q = new URLSearchParams({ 'var-host': entity, from: String(time - HOUR), to: String(time + HOUR) });
  return `/d/${encodeURIComponent(dashboardUid)}?${q.toString()}`;
}
