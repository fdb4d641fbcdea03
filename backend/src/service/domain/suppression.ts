/**
 * Suppression rules, as decisions: when a flagged row falls inside one it is recorded (its incident
 * says suppressed) but does not page. Pure: times in, booleans out.
 */
import type { SuppressionKind, SuppressionRule } from '../../io/registry/index.js';
import { ServiceError } from '../plugins/errors.js';

const MINUTE = 60_000;
const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "HH:MM" as minutes of the day; a 400 naming `name` otherwise. */
function clock(text: string, name: string): number {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new ServiceError('BAD_REQUEST', `${name} '${text}' is not a time of day as HH:MM (UTC)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** "Sat 22:00" as minutes of the week from Monday 00:00 UTC. */
function weekClock(text: string, name: string): number {
  const m = /^([a-z]{3})[a-z]*\s+(\S+)$/i.exec(text.trim());
  const day = m ? DAYS.indexOf(m[1]!.toLowerCase()) : -1;
  if (!m || day < 0)
    throw new ServiceError(
      'BAD_REQUEST',
      `${name} '${text}' is not a day and time such as 'Sat 22:00' (UTC)`,
    );
  return day * DAY_MINUTES + clock(m[2]!, name);
}

function instant(text: string, name: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new ServiceError('BAD_REQUEST', `${name} '${text}' is not a date-time`);
  return ms;
}

/** A rule's window from what an operator writes: daily "02:00"–"03:30", weekly "Sat 22:00"–"Sun 06:00", a period of two date-times. */
export function parseWindow(kind: SuppressionKind, from: string, to: string): { start: number; end: number } {
  if (kind === 'period') {
    const start = instant(from, 'body/from');
    const end = instant(to, 'body/to');
    if (!(end > start)) throw new ServiceError('BAD_REQUEST', 'body/to must be after body/from');
    return { start, end };
  }
  const read = kind === 'daily' ? clock : weekClock;
  const start = read(from, 'body/from');
  const end = read(to, 'body/to');
  if (start === end)
    throw new ServiceError('BAD_REQUEST', 'body/from and body/to are the same time: an empty window');
  return { start, end };
}

/** The window as an operator wrote it. */
export function windowText(rule: Pick<SuppressionRule, 'kind' | 'start' | 'end'>): {
  from: string;
  to: string;
} {
  const hhmm = (m: number) =>
    `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  if (rule.kind === 'period')
    return { from: new Date(rule.start).toISOString(), to: new Date(rule.end).toISOString() };
  if (rule.kind === 'daily') return { from: hhmm(rule.start), to: hhmm(rule.end) };
  const day = (m: number) =>
    `${DAYS[Math.floor(m / DAY_MINUTES)]![0]!.toUpperCase()}${DAYS[Math.floor(m / DAY_MINUTES)]!.slice(1)} ${hhmm(m % DAY_MINUTES)}`;
  return { from: day(rule.start), to: day(rule.end) };
}

/** Whether a time falls in [start, end) of a cyclic window of `size` minutes (wrapping when end ≤ start). */
function inCycle(minute: number, start: number, end: number): boolean {
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** Whether a flagged row of (detector, entity) whose top feature is `metric` falls inside the rule. */
export function suppresses(
  rule: SuppressionRule,
  detectorId: string,
  entity: string,
  row: { timeMs: number; topFeature?: string },
): boolean {
  if (rule.detectorId !== undefined && rule.detectorId !== detectorId) return false;
  if (rule.entity !== undefined && rule.entity !== entity) return false;
  if (rule.metric !== undefined && rule.metric !== row.topFeature) return false;
  if (rule.kind === 'period') return row.timeMs >= rule.start && row.timeMs < rule.end;
  const minutes = Math.floor(row.timeMs / MINUTE);
  if (rule.kind === 'daily')
    return inCycle(((minutes % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES, rule.start, rule.end);
  // 1970-01-01 was a Thursday: shift so the week starts on Monday.
  const week = (((minutes + 3 * DAY_MINUTES) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  return inCycle(week, rule.start, rule.end);
}
