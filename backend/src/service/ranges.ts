import { excerpt } from '../io/excerpt.js';
import { ServiceError } from './plugins/errors.js';

/**
 * Times and ranges a request may ask for, checked before anything reaches InfluxDB: a time is a
 * finite instant between 1970 and 2200 (InfluxDB itself stores 1677 to 2262, and a time outside
 * makes a query it cannot parse), a range ends after it starts, and a range is no longer than its
 * limit (docs/api.md, "Limits"): reading more at once would hold InfluxDB and the service for
 * minutes.
 */
export const TIME_MIN_MS = Date.UTC(1970, 0, 1);
export const TIME_MAX_MS = Date.UTC(2200, 0, 1);

const DAY_MS = 86_400_000;
export const SPAN_LIMITS = {
  /** Stored results: anomalies, Grafana queries and annotations. */
  results: 366 * DAY_MS,
  /** Raw source data read and aggregated on request: validation. */
  source: 31 * DAY_MS,
  /** One backfill job (it scores a day at a time; a longer past is several jobs). */
  backfill: 366 * DAY_MS,
} as const;
export type SpanKind = keyof typeof SPAN_LIMITS;

/** A date-time parameter as epoch milliseconds; 400 BAD_RANGE naming it when it is not usable. */
export function parseTime(text: string, name: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms))
    throw new ServiceError('BAD_RANGE', `${name} '${excerpt(text, 40)}' is not a date-time`);
  if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
    throw new ServiceError(
      'BAD_RANGE',
      `${name} ${new Date(ms).toISOString()} is outside ${new Date(TIME_MIN_MS).toISOString()} … ${new Date(TIME_MAX_MS).toISOString()}`,
    );
  }
  return ms;
}

/**
 * A from/to pair: both times usable, `to` after `from`, the span within its limit. `prefix` is
 * where they are in the request ('querystring', 'body', 'body/range'), so the message names them.
 */
export function parseRange(
  from: string,
  to: string,
  prefix: string,
  kind: SpanKind,
): { from: number; to: number } {
  const f = parseTime(from, `${prefix}/from`);
  const t = parseTime(to, `${prefix}/to`);
  if (!(t > f)) {
    throw new ServiceError(
      'BAD_RANGE',
      `${prefix}/to must be after ${prefix}/from (from ${new Date(f).toISOString()}, to ${new Date(t).toISOString()})`,
    );
  }
  const limit = SPAN_LIMITS[kind];
  if (t - f > limit) {
    throw new ServiceError(
      'BAD_RANGE',
      `${prefix}/from … ${prefix}/to spans ${((t - f) / DAY_MS).toFixed(1)} days; at most ${limit / DAY_MS} days at once here`,
    );
  }
  return { from: f, to: t };
}
