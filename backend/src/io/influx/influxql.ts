import { excerpt } from '../excerpt.js';

/**
 * InfluxQL, built with escaping: every identifier and literal goes through these functions, so no
 * name or value a user types can change a query's shape. The rules are those of InfluxQL's
 * scanner (influxql/scanner.go, ScanString): inside quotes, a backslash escapes \, ", ' and n;
 * a raw newline ends the token with an error, so it is written as \n.
 */

function escapeQuoted(text: string, quote: '"' | "'"): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else out += ch;
  }
  return out;
}

/** A measurement, field, tag key or database name: "…" with escapes. */
export function ident(name: string): string {
  if (name === '') throw new InfluxQueryError('an identifier cannot be empty');
  return `"${escapeQuoted(name, '"')}"`;
}

/** A string literal (tag values): '…' with escapes. */
export function str(value: string): string {
  return `'${escapeQuoted(value, "'")}'`;
}

/**
 * The times InfluxDB can store: signed 64-bit nanoseconds, 1677-09-21T00:12:43.145Z to
 * 2262-04-11T23:47:16.854Z. A time outside would make a query InfluxDB cannot parse.
 */
export const INFLUX_MIN_MS = -9_223_372_036_854;
export const INFLUX_MAX_MS = 9_223_372_036_854;

/** A time literal: epoch milliseconds, as nanoseconds (an integer, so no parsing ambiguity). */
export function time(ms: number): string {
  if (!Number.isFinite(ms)) throw new InfluxQueryError(`time ${ms} is not a finite number of milliseconds`);
  if (ms < INFLUX_MIN_MS || ms > INFLUX_MAX_MS)
    throw new InfluxQueryError(
      `time ${new Date(ms).toISOString()} is outside what InfluxDB stores (${new Date(INFLUX_MIN_MS).toISOString()} … ${new Date(INFLUX_MAX_MS).toISOString()})`,
    );
  return `${BigInt(Math.round(ms)) * 1_000_000n}`;
}

/** A duration literal such as 60s, for GROUP BY time(…). Whole seconds only, at least 1. */
export function duration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new InfluxQueryError(`interval must be a whole number of seconds ≥ 1, got ${seconds}`);
  return `${seconds}s`;
}

/**
 * How a field is aggregated per interval. `increase` is for counters (bytes, packets, operations):
 * non_negative_difference(last(x)), the growth since the previous interval, so a counter reset
 * does not look like a huge negative spike.
 */
export const AGGREGATES = [
  'mean',
  'median',
  'max',
  'min',
  'sum',
  'last',
  'first',
  'count',
  'spread',
  'stddev',
  'increase',
] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/**
 * A query that cannot be built from what was given (an empty name, a time that is not finite, a
 * database outside the service's allow-list): the caller's input is wrong, nothing was sent.
 */
export class InfluxQueryError extends Error {
  override readonly name = 'InfluxQueryError';
  constructor(
    message: string,
    readonly code: 'INFLUX_QUERY_INVALID' | 'SOURCE_NOT_ALLOWED' = 'INFLUX_QUERY_INVALID',
  ) {
    super(message);
  }
}

/** Tag filters: tag = one value, or one of several values. */
export type TagFilter = Record<string, string | string[]>;

function whereClause(from: number, to: number, tags: TagFilter = {}): string {
  const parts = [`time >= ${time(from)}`, `time < ${time(to)}`];
  for (const [key, value] of Object.entries(tags)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0) throw new InfluxQueryError(`tag filter '${excerpt(key)}' has no values`);
    parts.push(
      values.length === 1
        ? `${ident(key)} = ${str(values[0]!)}`
        : `(${values.map((v) => `${ident(key)} = ${str(v)}`).join(' OR ')})`,
    );
  }
  return parts.join(' AND ');
}

export interface WindowQuery {
  measurement: string;
  /** Retention policy, when not the default. */
  retentionPolicy?: string;
  fields: Array<{ field: string; aggregate: Aggregate }>;
  from: number;
  to: number;
  intervalSeconds: number;
  /** Group by this tag (the entity, e.g. host), one series per value. */
  entityTag?: string;
  tags?: TagFilter;
}

/** SELECT agg("f1") AS "f1", … FROM "m" WHERE time … GROUP BY time(…)[, "entity"] fill(none). */
export function windowQuery(q: WindowQuery): string {
  if (q.fields.length === 0) throw new InfluxQueryError('a query needs at least one field');
  for (const f of q.fields) {
    if (!(AGGREGATES as readonly string[]).includes(f.aggregate)) {
      throw new InfluxQueryError(
        `aggregate '${excerpt(f.aggregate)}' is not one of ${AGGREGATES.join(', ')}`,
      );
    }
  }
  if (!(q.to > q.from)) throw new InfluxQueryError(`the range is empty: from ${q.from} to ${q.to}`);
  const select = q.fields
    .map(
      (f) =>
        (f.aggregate === 'increase'
          ? `non_negative_difference(last(${ident(f.field)}))`
          : `${f.aggregate}(${ident(f.field)})`) + ` AS ${ident(f.field)}`,
    )
    .join(', ');
  const source = q.retentionPolicy
    ? `${ident(q.retentionPolicy)}.${ident(q.measurement)}`
    : ident(q.measurement);
  const groupBy = [`time(${duration(q.intervalSeconds)})`, ...(q.entityTag ? [ident(q.entityTag)] : [])].join(
    ', ',
  );
  return `SELECT ${select} FROM ${source} WHERE ${whereClause(q.from, q.to, q.tags)} GROUP BY ${groupBy} fill(none)`;
}

/** SHOW TAG VALUES FROM "m" WITH KEY = "tag" [WHERE …]: the entities of a measurement. */
export function tagValuesQuery(measurement: string, key: string, tags: TagFilter = {}): string {
  const filters = Object.entries(tags);
  const where = filters.length
    ? ` WHERE ${filters
        .map(([k, v]) =>
          Array.isArray(v)
            ? `(${v.map((x) => `${ident(k)} = ${str(x)}`).join(' OR ')})`
            : `${ident(k)} = ${str(v)}`,
        )
        .join(' AND ')}`
    : '';
  return `SHOW TAG VALUES FROM ${ident(measurement)} WITH KEY = ${ident(key)}${where}`;
}

/** SHOW FIELD KEYS FROM "m". */
export function fieldKeysQuery(measurement: string): string {
  return `SHOW FIELD KEYS FROM ${ident(measurement)}`;
}

/** What else a raw read may ask of InfluxDB beyond a time range and tag filters. */
export interface RawOptions {
  /** Boolean fields that must hold this value (`"anomaly" = true`): filtered by InfluxDB. */
  fieldIs?: Record<string, boolean>;
  /** Tags to group by: one series per value, each in time order, so a reader never sorts. */
  groupBy?: string[];
}

/** SELECT raw fields in a range (no aggregation), for write-back checks and explanations. */
export function rawQuery(
  measurement: string,
  fields: string[],
  from: number,
  to: number,
  tags: TagFilter = {},
  options: RawOptions = {},
): string {
  if (fields.length === 0) throw new InfluxQueryError('a query needs at least one field');
  const conditions = Object.entries(options.fieldIs ?? {}).map(([f, v]) => ` AND ${ident(f)} = ${v}`);
  const groupBy = options.groupBy?.length ? ` GROUP BY ${options.groupBy.map(ident).join(', ')}` : '';
  return `SELECT ${fields.map(ident).join(', ')} FROM ${ident(measurement)} WHERE ${whereClause(from, to, tags)}${conditions.join('')}${groupBy}`;
}
