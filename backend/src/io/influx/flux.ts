import { AGGREGATES, InfluxQueryError } from './influxql.js';
import type { EntitySeries, SourceSpec } from './reader.js';

/**
 * Flux for InfluxDB 2.x, built with escaping as the InfluxQL builder is: every name and value is a
 * Flux string literal, where a backslash escapes \, " and the ${ of interpolation; names are used
 * as r["name"], never pasted as identifiers.
 */
export function fluxString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${')}"`;
}

function time(ms: number): string {
  if (!Number.isFinite(ms)) throw new InfluxQueryError(`time ${ms} is not a finite number of milliseconds`);
  return `time(v: ${fluxString(new Date(ms).toISOString())})`;
}

/** The window of a source, aggregated per interval, one table per entity, fields as columns. */
export function fluxWindowQuery(bucket: string, source: SourceSpec, from: number, to: number): string {
  if (source.fields.length === 0) throw new InfluxQueryError('a query needs at least one field');
  if (!(to > from)) throw new InfluxQueryError(`the range is empty: from ${from} to ${to}`);
  if (!Number.isInteger(source.intervalSeconds) || source.intervalSeconds < 1) {
    throw new InfluxQueryError(
      `interval must be a whole number of seconds ≥ 1, got ${source.intervalSeconds}`,
    );
  }
  const lines = [
    `data = from(bucket: ${fluxString(bucket)})`,
    `  |> range(start: ${time(from)}, stop: ${time(to)})`,
    `  |> filter(fn: (r) => r._measurement == ${fluxString(source.measurement)})`,
  ];
  for (const [key, value] of Object.entries(source.tags ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    lines.push(
      `  |> filter(fn: (r) => ${values.map((v) => `r[${fluxString(key)}] == ${fluxString(v)}`).join(' or ')})`,
    );
  }
  const byAggregate = new Map<string, string[]>();
  for (const f of source.fields) {
    if (!(AGGREGATES as readonly string[]).includes(f.aggregate))
      throw new InfluxQueryError(`aggregate '${f.aggregate}' is not one of ${AGGREGATES.join(', ')}`);
    byAggregate.set(f.aggregate, [...(byAggregate.get(f.aggregate) ?? []), f.field]);
  }
  const streams: string[] = [];
  for (const [aggregate, fields] of byAggregate) {
    const name = `s_${aggregate}`;
    const fn = aggregate === 'increase' ? 'last' : aggregate;
    const tail = aggregate === 'increase' ? ' |> difference(nonNegative: true)' : '';
    lines.push(
      `${name} = data |> filter(fn: (r) => ${fields.map((f) => `r._field == ${fluxString(f)}`).join(' or ')}) |> aggregateWindow(every: ${source.intervalSeconds}s, fn: ${fn}, createEmpty: false)${tail}`,
    );
    streams.push(name);
  }
  const entity = source.entityTag ? `, ${fluxString(source.entityTag)}` : '';
  lines.push(
    `union(tables: [${streams.join(', ')}])`,
    `  |> pivot(rowKey: ["_time"${entity}], columnKey: ["_field"], valueColumn: "_value")`,
    `  |> group(columns: [${source.entityTag ? fluxString(source.entityTag) : ''}])`,
    '  |> sort(columns: ["_time"])',
  );
  return lines.join('\n');
}

/** Rows of a pivoted Flux answer (as @influxdata/influxdb-client's collectRows gives them) as series per entity. */
export function seriesFromFluxRows(rows: Array<Record<string, unknown>>, source: SourceSpec): EntitySeries[] {
  const byEntity = new Map<string, Array<Record<string, unknown>>>();
  for (const row of rows) {
    const entity = source.entityTag ? String(row[source.entityTag] ?? '') : '';
    const list = byEntity.get(entity);
    if (list) list.push(row);
    else byEntity.set(entity, [row]);
  }
  return [...byEntity.keys()].sort().map((entity) => {
    const list = byEntity
      .get(entity)!
      .sort((a, b) => Date.parse(String(a._time)) - Date.parse(String(b._time)));
    return {
      entity,
      timeMs: Float64Array.from(list, (r) => Date.parse(String(r._time))),
      values: source.fields.map((f) =>
        Float64Array.from(list, (r) =>
          typeof r[f.field] === 'number' ? (r[f.field] as number) : Number.NaN,
        ),
      ),
    };
  });
}
