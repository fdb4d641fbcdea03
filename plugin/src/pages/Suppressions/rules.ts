import type { Incident, Suppression, SuppressionKind, SuppressionRequest } from '../../api/types';

/** The new-rule form as typed: empty scope fields mean "every". */
export interface RuleForm {
  detector: string;
  entity: string;
  metric: string;
  kind: SuppressionKind;
  from: string;
  to: string;
  reason: string;
  /** Also apply it to incidents already recorded since `since` (UTC, as a period is typed). */
  apply: boolean;
  since: string;
}

export const NEW_RULE: RuleForm = {
  detector: '',
  entity: '',
  metric: '',
  kind: 'daily',
  from: '',
  to: '',
  reason: '',
  apply: false,
  since: '',
};

/** A time as the form's date-time fields take it: `YYYY-MM-DD HH:MM` in UTC. */
export function formInstant(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * Where "apply to incidents since" starts when it is ticked: a maintenance period's own start
 * (the incidents it would have held), else the day before `now`.
 */
export function defaultSince(form: Pick<RuleForm, 'kind' | 'from'>, now: number): string {
  const start = form.kind === 'period' ? instant(form.from) : undefined;
  return formInstant(start !== undefined && start <= now ? start : now - 86_400_000);
}

/** What each kind of window takes, as the form's placeholders and error messages say it. */
export const WINDOW_EXAMPLES: Record<SuppressionKind, { from: string; to: string; format: string }> = {
  daily: { from: '02:00', to: '03:30', format: 'a time of day as HH:MM' },
  weekly: { from: 'Sat 22:00', to: 'Sun 06:00', format: "a day and a time, such as 'Sat 22:00'" },
  period: { from: '2026-12-05 22:00', to: '2026-12-06 02:00', format: 'a date and time as YYYY-MM-DD HH:MM' },
};

const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "HH:MM" as minutes of the day, as the service reads it (backend/src/service/domain/suppression.ts). */
function clock(text: string): number | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** "Sat 22:00" (or "Saturday 22:00") as minutes of the week from Monday 00:00. */
function weekClock(text: string): number | undefined {
  const m = /^([a-z]{3})[a-z]*\s+(\S+)$/i.exec(text.trim());
  const day = m ? DAYS.indexOf(m[1]!.toLowerCase()) : -1;
  const minute = m ? clock(m[2]!) : undefined;
  return day < 0 || minute === undefined ? undefined : day * DAY_MINUTES + minute;
}

/**
 * A date-time in UTC: `YYYY-MM-DD HH:MM[:SS]` as the form takes it, or the ISO text the service
 * gives back. A date-time with another offset is refused: the form says UTC, so a typed `+02:00`
 * would be a misunderstanding.
 */
function instant(text: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?Z?$/.exec(text.trim());
  if (!m) {
    return undefined;
  }
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2026-02-30 over into March: refuse what does not read back the same.
  const back = new Date(t);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return undefined;
  }
  return t;
}

/** A window as numbers: minutes of the day or week for daily and weekly rules, epoch ms for periods. */
export function parseWindow(kind: SuppressionKind, from: string, to: string): { start?: number; end?: number } {
  const read = kind === 'daily' ? clock : kind === 'weekly' ? weekClock : instant;
  return { start: read(from), end: read(to) };
}

export type RuleErrors = Partial<Record<keyof RuleForm, string>>;

/** What is wrong with the form, field by field, before anything is sent (`now` judges "since"). */
export function validate(form: RuleForm, now: number = Date.now()): RuleErrors {
  const errors: RuleErrors = {};
  if (form.apply) {
    const since = instant(form.since);
    if (since === undefined) {
      errors.since = form.since.trim()
        ? `'${form.since.trim()}' is not ${WINDOW_EXAMPLES.period.format} (UTC)`
        : `Say since when: ${WINDOW_EXAMPLES.period.format}`;
    } else if (since > now) {
      errors.since = 'That is in the future: incidents since then are not recorded yet';
    }
  }
  const { start, end } = parseWindow(form.kind, form.from, form.to);
  const format = WINDOW_EXAMPLES[form.kind].format;
  if (start === undefined) {
    errors.from = form.from.trim() ? `'${form.from.trim()}' is not ${format} (UTC)` : `Say when it starts: ${format}`;
  }
  if (end === undefined) {
    errors.to = form.to.trim() ? `'${form.to.trim()}' is not ${format} (UTC)` : `Say when it ends: ${format}`;
  }
  if (start !== undefined && end !== undefined) {
    if (form.kind === 'period' && end <= start) {
      errors.to = 'The end must come after the start';
    } else if (start === end) {
      errors.to = 'The same time as the start: the window would be empty';
    }
  }
  if (!form.reason.trim()) {
    errors.reason = 'Say why: the reason is shown with every incident the rule keeps quiet';
  } else if (form.reason.trim().length > 500) {
    errors.reason = 'At most 500 characters';
  }
  if (form.entity.trim().length > 200) {
    errors.entity = 'At most 200 characters';
  }
  if (form.metric.trim().length > 200) {
    errors.metric = 'At most 200 characters';
  }
  return errors;
}

/** The request the form makes; a period is sent as ISO date-times in UTC, which the service reads unambiguously. */
export function toRequest(form: RuleForm): SuppressionRequest {
  const iso = (text: string) => new Date(instant(text)!).toISOString();
  return {
    ...(form.detector ? { detector: form.detector } : {}),
    ...(form.entity.trim() ? { entity: form.entity.trim() } : {}),
    ...(form.metric.trim() ? { metric: form.metric.trim() } : {}),
    kind: form.kind,
    from: form.kind === 'period' ? iso(form.from) : form.from.trim(),
    to: form.kind === 'period' ? iso(form.to) : form.to.trim(),
    reason: form.reason.trim(),
    ...(form.apply ? { applySince: iso(form.since) } : {}),
  };
}

/**
 * Whether one rule alone holds all of an incident: its detector, entity and (when the rule names
 * one) metric match, and its first and last flagged points lie in one stretch of the window. Only
 * for incidents recorded before the service named the rule (`suppressedBy`); an incident kept quiet
 * by two rules together (or by a rule since deleted) matches none.
 */
export function holdsIncident(
  rule: Suppression,
  incident: Pick<Incident, 'detector' | 'entity' | 'start' | 'end' | 'topMetrics'>
): boolean {
  if (rule.detector !== undefined && rule.detector !== incident.detector) {
    return false;
  }
  if (rule.entity !== undefined && rule.entity !== incident.entity) {
    return false;
  }
  if (rule.metric !== undefined && incident.topMetrics.some((m) => m.metric !== rule.metric)) {
    return false;
  }
  const { start, end } = parseWindow(rule.kind, rule.from, rule.to);
  if (start === undefined || end === undefined) {
    return false;
  }
  const first = Date.parse(incident.start);
  const last = Date.parse(incident.end);
  if (rule.kind === 'period') {
    return first >= start && last < end;
  }
  const size = rule.kind === 'daily' ? DAY_MINUTES : WEEK_MINUTES;
  const mod = (x: number) => ((x % size) + size) % size;
  // 1970-01-01 was a Thursday: shift so the week starts on Monday, as the service does.
  const shift = rule.kind === 'weekly' ? 3 * DAY_MINUTES : 0;
  const minute = Math.floor(first / 60000) + shift;
  const length = mod(end - start) || size;
  const offset = mod(minute - start);
  const lasted = Math.floor(last / 60000) - Math.floor(first / 60000);
  return offset < length && offset + lasted < length;
}

/**
 * The window in words: "every day 02:00 – 03:30 UTC", "every week Sat 22:00 – Sun 06:00 UTC", or a
 * period with `format` writing its ends in UTC (rules are in UTC, as the form takes them).
 */
export function windowWords(rule: Pick<Suppression, 'kind' | 'from' | 'to'>, format: (t: number) => string): string {
  if (rule.kind === 'daily') {
    return `every day ${rule.from} – ${rule.to} UTC`;
  }
  if (rule.kind === 'weekly') {
    return `every week ${rule.from} – ${rule.to} UTC`;
  }
  const { start, end } = parseWindow('period', rule.from, rule.to);
  return start === undefined || end === undefined
    ? `${rule.from} – ${rule.to}`
    : `from ${format(start)} to ${format(end)} UTC`;
}
