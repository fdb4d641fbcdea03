import { excerpt, quoted } from '../excerpt.js';

/**
 * InfluxDB line protocol, escaped (docs.influxdata.com, "Line protocol", 1.x): measurement names
 * escape commas and spaces; tag keys, tag values and field keys escape commas, equals signs and
 * spaces; string field values escape double quotes and backslashes. What the protocol cannot
 * carry (newlines in names, an empty name or tag value, a name starting with '#', which would
 * make the line a comment, a trailing backslash that would escape the separator) is refused.
 */

/** A point line protocol cannot carry (a name with a line break, a value that is not finite). */
export class LineProtocolError extends Error {
  override readonly name = 'LineProtocolError';
  readonly code = 'LINE_PROTOCOL_INVALID';
}

export interface Point {
  measurement: string;
  tags?: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Epoch milliseconds. */
  timeMs: number;
}

function check(kind: string, text: string): void {
  if (text === '') throw new LineProtocolError(`${kind} cannot be empty`);
  if (/[\n\r]/.test(text)) throw new LineProtocolError(`${kind} ${quoted(text)} contains a line break`);
  if (text.endsWith('\\')) throw new LineProtocolError(`${kind} ${quoted(text)} ends with a backslash`);
}

export function escapeMeasurement(name: string): string {
  check('measurement', name);
  if (name.startsWith('#'))
    throw new LineProtocolError(`measurement ${quoted(name)} starts with '#', which makes a comment line`);
  return name.replace(/[, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys. */
export function escapeKey(kind: string, text: string): string {
  check(kind, text);
  return text.replace(/[,= ]/g, (c) => `\\${c}`);
}

function fieldValue(value: number | string | boolean, key: string): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  if (!Number.isFinite(value))
    throw new LineProtocolError(
      `field '${excerpt(key)}' is ${value}: line protocol carries finite numbers only`,
    );
  // A float always, so a field never flips between integer and float types.
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** One point as a line (precision: milliseconds). Tags are sorted, as InfluxDB recommends. */
export function toLine(point: Point): string {
  let line = escapeMeasurement(point.measurement);
  for (const key of Object.keys(point.tags ?? {}).sort()) {
    const value = point.tags![key]!;
    if (value === '') continue; // an empty tag is the same as no tag
    line += `,${escapeKey('tag key', key)}=${escapeKey('tag value', value)}`;
  }
  const fields = Object.entries(point.fields);
  if (fields.length === 0)
    throw new LineProtocolError(`a point of '${excerpt(point.measurement)}' needs at least one field`);
  line += ` ${fields.map(([k, v]) => `${escapeKey('field key', k)}=${fieldValue(v, k)}`).join(',')}`;
  if (!Number.isFinite(point.timeMs)) throw new LineProtocolError('a point needs a finite time');
  return `${line} ${Math.round(point.timeMs)}`;
}
