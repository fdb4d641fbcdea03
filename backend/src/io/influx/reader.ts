import { fieldKeysQuery, tagValuesQuery, windowQuery, type Aggregate, type TagFilter } from './influxql.js';
import type { InfluxV1Client } from './v1-client.js';

/** Where a detector's data lives in InfluxDB, and how it is aggregated. */
export interface SourceSpec {
  /** The database to read (on InfluxDB 2.x: the bucket); absent = the client's own. */
  database?: string;
  measurement: string;
  retentionPolicy?: string;
  fields: Array<{ field: string; aggregate: Aggregate }>;
  /** The tag that tells entities apart (host, container_name); absent = one series. */
  entityTag?: string;
  tags?: TagFilter;
  intervalSeconds: number;
}

/** One entity's rows: times and, per field, values (NaN where the field had no data in the interval). */
export interface EntitySeries {
  entity: string;
  timeMs: Float64Array;
  values: Float64Array[];
}

/** The aggregated window of a source, one series per entity ('' when the source has no entity tag). */
export async function readWindow(
  client: InfluxV1Client,
  source: SourceSpec,
  from: number,
  to: number,
): Promise<EntitySeries[]> {
  const q = windowQuery({ ...source, from, to });
  const [series = []] = await client.query(q, source.database ? { database: source.database } : {});
  return series.map((s) => {
    const timeIndex = s.columns.indexOf('time');
    const columns = source.fields.map((f) => s.columns.indexOf(f.field));
    const timeMs = new Float64Array(s.values.length);
    const values = source.fields.map(() => new Float64Array(s.values.length));
    s.values.forEach((row, r) => {
      timeMs[r] = Number(row[timeIndex]);
      columns.forEach((c, f) => {
        const v = c >= 0 ? row[c] : null;
        values[f]![r] = typeof v === 'number' ? v : v === true ? 1 : v === false ? 0 : Number.NaN;
      });
    });
    return { entity: source.entityTag ? (s.tags?.[source.entityTag] ?? '') : '', timeMs, values };
  });
}

/** The values of the entity tag: the hosts (or containers) a detector can watch. */
export async function listEntities(
  client: InfluxV1Client,
  source: Pick<SourceSpec, 'database' | 'measurement' | 'entityTag' | 'tags'>,
): Promise<string[]> {
  if (!source.entityTag) return [];
  const [series = []] = await client.query(
    tagValuesQuery(source.measurement, source.entityTag, source.tags),
    source.database ? { database: source.database } : {},
  );
  return series.flatMap((s) => s.values.map((v) => String(v[1]))).sort();
}

/** The fields of a measurement with their types (for the detector editor). */
export async function listFields(
  client: InfluxV1Client,
  measurement: string,
): Promise<Array<{ field: string; type: string }>> {
  const [series = []] = await client.query(fieldKeysQuery(measurement));
  return series.flatMap((s) => s.values.map((v) => ({ field: String(v[0]), type: String(v[1]) })));
}

/** One entity's rows as a row-major matrix (rows × fields, NaN where a field had no data). */
export function seriesMatrix(s: EntitySeries): { rows: number; cols: number; data: Float64Array } {
  const rows = s.timeMs.length;
  const cols = s.values.length;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let f = 0; f < cols; f++) data[r * cols + f] = s.values[f]![r]!;
  return { rows, cols, data };
}
