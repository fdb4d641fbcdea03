import type { DataQuery, DataSourceJsonData } from '@grafana/schema';
import type { QueryReturn } from '../api/types';

/** What a query asks for: one of the service's returns, or anomalies as annotations. */
export type IsoscopeQueryReturn = QueryReturn | 'annotations';

export interface IsoscopeQuery extends DataQuery {
  /** A detector id; '' means every detector (anomalies and annotations only). */
  detector: string;
  /** An entity (host), a template variable, or '' for all. */
  entity: string;
  return: IsoscopeQueryReturn;
  /** Whose scores: production's, or the staging model's shadow scores. */
  stage?: 'production' | 'staging';
  /** Annotations only: runs of flagged rows (the default), or incidents as regions. */
  kind?: AnnotationKind;
}

export type AnnotationKind = 'anomalies' | 'incidents';

export const ANNOTATION_KIND_OPTIONS: Array<{ value: AnnotationKind; label: string; description: string }> = [
  { value: 'anomalies', label: 'Anomalies', description: 'Each run of flagged moments, with its peak score' },
  {
    value: 'incidents',
    label: 'Incidents',
    description: 'Each incident from start to end (to now while it fires), with its top metrics',
  },
];

export const DEFAULT_QUERY: Partial<IsoscopeQuery> = { detector: '', entity: '', return: 'score' };

export const RETURN_OPTIONS: Array<{ value: QueryReturn; label: string; description: string }> = [
  { value: 'score', label: 'Score', description: 'Anomaly score 0…1 with the anomaly flag, severity and threshold' },
  { value: 'anomalies', label: 'Anomalies', description: 'One row per flagged moment, with severity and top feature' },
  { value: 'features', label: 'Features', description: 'The source metrics the detector reads' },
  { value: 'contributions', label: 'Contributions', description: 'Top contributing feature of each flagged moment' },
  { value: 'expected', label: 'Expected range', description: "The band the production model's training data spanned" },
];

export interface IsoscopeDataSourceOptions extends DataSourceJsonData {
  /** The service's base URL as Grafana's server reaches it, e.g. http://isoscope:8787. */
  url?: string;
}

export interface IsoscopeSecureJsonData {
  token?: string;
}

/** Variable queries: which list to fill the variable with. */
export interface IsoscopeVariableQuery {
  find: 'detectors' | 'entities' | 'fields';
  detector?: string;
}

/**
 * Queries saved by older dashboards: `host` before entities were general, `returns`/`type` before
 * `return` settled, and no `return` at all (the score was the only thing there was).
 */
export function migrateQuery(query: IsoscopeQuery & Record<string, unknown>): IsoscopeQuery {
  const { host, returns, type, ...rest } = query;
  const legacyReturn = [returns, type].find((r): r is string => typeof r === 'string');
  const ret = (rest.return ?? legacyReturn ?? 'score') as string;
  const known = [...RETURN_OPTIONS.map((o) => o.value), 'annotations'];
  return {
    ...rest,
    detector: typeof rest.detector === 'string' ? rest.detector : '',
    entity: typeof rest.entity === 'string' ? rest.entity : typeof host === 'string' ? host : '',
    return: (known.includes(ret) ? ret : 'score') as IsoscopeQueryReturn,
  };
}

export function migrateVariableQuery(query: unknown): IsoscopeVariableQuery {
  if (typeof query === 'string') {
    // A text query from before the editor: "detectors", "entities(<detector>)" or "fields(<detector>)".
    const m = /^\s*(detectors|entities|fields)\s*(?:\(\s*([^)]*?)\s*\))?\s*$/.exec(query);
    if (m) {
      return m[2]
        ? { find: m[1] as IsoscopeVariableQuery['find'], detector: m[2] }
        : { find: m[1] as IsoscopeVariableQuery['find'] };
    }
    return { find: 'detectors' };
  }
  const q = (query ?? {}) as Partial<IsoscopeVariableQuery>;
  return { find: q.find ?? 'detectors', ...(q.detector ? { detector: q.detector } : {}) };
}
