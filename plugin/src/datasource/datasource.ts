import { of } from 'rxjs';
import {
  DataSourceApi,
  FieldType,
  createDataFrame,
  toDataFrame,
  type AnnotationEvent,
  type AnnotationQuery,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type ScopedVars,
  type TestDataSourceResponse,
} from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { IsoscopeClient, toIsoscopeError } from '../api/client';
import type { GrafanaAnnotation, GrafanaTarget } from '../api/types';
import {
  DEFAULT_QUERY,
  migrateQuery,
  migrateVariableQuery,
  type IsoscopeDataSourceOptions,
  type IsoscopeQuery,
  type IsoscopeVariableQuery,
} from './types';

/** The oldest service this plugin speaks to; a different major version has a different API. */
export const MIN_SERVICE_VERSION = '0.1.0';

/** Grafana multi-value variables become the service's `{a,b}` entity syntax. */
export function formatEntity(value: string | string[]): string {
  if (!Array.isArray(value)) {
    return value;
  }
  return value.length === 1 ? value[0]! : `{${value.join(',')}}`;
}

export class IsoscopeDataSource extends DataSourceApi<IsoscopeQuery, IsoscopeDataSourceOptions> {
  readonly client: IsoscopeClient;

  constructor(readonly instanceSettings: DataSourceInstanceSettings<IsoscopeDataSourceOptions>) {
    super(instanceSettings);
    // With proxy access, instanceSettings.url is Grafana's proxy path for this data source.
    this.client = new IsoscopeClient(instanceSettings.url ?? `/api/datasources/proxy/uid/${instanceSettings.uid}`);
    this.annotations = {
      prepareAnnotation: (json: AnnotationQuery<IsoscopeQuery>) => ({
        ...json,
        target: { ...DEFAULT_QUERY, refId: 'Anomalies', ...json.target, return: 'annotations' } as IsoscopeQuery,
      }),
      processEvents: (_anno: AnnotationQuery<IsoscopeQuery>, frames: DataFrame[]) => of(annotationEvents(frames)),
    };
  }

  getDefaultQuery(): Partial<IsoscopeQuery> {
    return DEFAULT_QUERY;
  }

  filterQuery(query: IsoscopeQuery): boolean {
    return !query.hide;
  }

  /** Template variables resolved, multi-values as `{a,b}`, old query shapes migrated. */
  applyTemplateVariables(query: IsoscopeQuery, scopedVars: ScopedVars): IsoscopeQuery {
    const q = migrateQuery(query as IsoscopeQuery & Record<string, unknown>);
    const templates = getTemplateSrv();
    return {
      ...q,
      detector: templates.replace(q.detector, scopedVars),
      entity: templates.replace(q.entity, scopedVars, formatEntity),
    };
  }

  async query(request: DataQueryRequest<IsoscopeQuery>): Promise<DataQueryResponse> {
    const range = { from: request.range.from.toISOString(), to: request.range.to.toISOString() };
    const queries = request.targets
      .filter((t) => this.filterQuery(t))
      .map((t) => this.applyTemplateVariables(t, request.scopedVars));
    const annotationQueries = queries.filter((q) => q.return === 'annotations');
    const targets: GrafanaTarget[] = queries
      .filter((q) => q.return !== 'annotations' && (q.detector !== '' || q.return === 'anomalies'))
      .map((q) => ({
        refId: q.refId,
        detector: q.detector,
        entity: q.entity,
        return: q.return as GrafanaTarget['return'],
        ...(q.stage ? { stage: q.stage } : {}),
      }));
    try {
      const data: DataFrame[] = [];
      if (targets.length > 0) {
        const response = await this.client.query(range, targets);
        data.push(...response.frames.map((f) => toDataFrame(f)));
      }
      for (const q of annotationQueries) {
        const events = await this.client.annotations(
          range,
          q.detector || undefined,
          q.entity || undefined,
          q.kind === 'incidents' ? 'incidents' : undefined
        );
        data.push(annotationFrame(q.refId, events));
      }
      return { data };
    } catch (error) {
      const e = toIsoscopeError(error);
      return { data: [], errors: [{ message: e.message, status: e.status }] };
    }
  }

  async metricFindQuery(
    query: IsoscopeVariableQuery | string,
    options?: { scopedVars?: ScopedVars }
  ): Promise<MetricFindValue[]> {
    const q = migrateVariableQuery(query);
    const detector = q.detector ? getTemplateSrv().replace(q.detector, options?.scopedVars) : undefined;
    return this.client.variables(q.find, detector);
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    if (!this.instanceSettings.jsonData.url) {
      return { status: 'error', message: "Set the Isoscope service's URL (for example http://isoscope:8787)." };
    }
    try {
      const health = await this.client.health();
      const mismatch = versionMismatch(health.version, MIN_SERVICE_VERSION);
      if (mismatch) {
        return { status: 'error', message: mismatch };
      }
      // The service answers 503 when InfluxDB does not; here `influx` is the version InfluxDB reported.
      return {
        status: 'success',
        message: `Isoscope ${health.version}: ${health.detectors} detector${health.detectors === 1 ? '' : 's'}, InfluxDB ${health.influx} reachable.`,
      };
    } catch (error) {
      return { status: 'error', message: toIsoscopeError(error).message };
    }
  }
}

/** A version mismatch described, or undefined when the service is one this plugin speaks to. */
export function versionMismatch(service: string, minimum: string): string | undefined {
  const parse = (v: string) => (/^(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
  const [sMajor, sMinor, sPatch] = parse(service);
  const [mMajor, mMinor, mPatch] = parse(minimum);
  if (sMajor === undefined || mMajor === undefined) {
    return `The service reports version '${service}', which is not a version this plugin understands.`;
  }
  const older =
    sMajor < mMajor || (sMajor === mMajor && (sMinor! < mMinor! || (sMinor === mMinor && sPatch! < mPatch!)));
  if (sMajor !== mMajor || older) {
    return `Version mismatch: the service is ${service}, this plugin needs ${mMajor}.x at ${minimum} or later. Upgrade the ${older ? 'service' : 'plugin'}.`;
  }
  return undefined;
}

/** The service's annotations as a frame Grafana can also show in a table. */
export function annotationFrame(refId: string, events: GrafanaAnnotation[]): DataFrame {
  return createDataFrame({
    refId,
    name: 'annotations',
    fields: [
      { name: 'time', type: FieldType.time, values: events.map((e) => e.time) },
      { name: 'timeEnd', type: FieldType.time, values: events.map((e) => e.timeEnd) },
      { name: 'title', type: FieldType.string, values: events.map((e) => e.title) },
      { name: 'text', type: FieldType.string, values: events.map((e) => e.text) },
      { name: 'tags', type: FieldType.other, values: events.map((e) => e.tags) },
    ],
  });
}

/** Annotation events from annotation frames; a stretch is a region when it ends after it starts. */
export function annotationEvents(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    const field = (name: string) => frame.fields.find((f) => f.name === name)?.values;
    const time = field('time');
    if (!time || frame.name !== 'annotations') {
      continue;
    }
    const timeEnd = field('timeEnd');
    const title = field('title');
    const text = field('text');
    const tags = field('tags');
    for (let i = 0; i < frame.length; i++) {
      const start = Number(time[i]);
      const end = timeEnd ? Number(timeEnd[i]) : start;
      events.push({
        time: start,
        timeEnd: end,
        isRegion: end > start,
        title: title?.[i],
        text: text?.[i],
        tags: tags?.[i] ?? [],
      });
    }
  }
  return events;
}
