import type { Suppression } from '../../api/types';
import { incident } from '../../test/fixtures';
import { NEW_RULE, defaultSince, holdsIncident, toRequest, validate, windowWords, type RuleForm } from './rules';

const form = (over: Partial<RuleForm>): RuleForm => ({ ...NEW_RULE, reason: 'backups', ...over });
const rule = (over: Partial<Suppression>): Suppression => ({
  id: 's1',
  kind: 'daily',
  from: '02:00',
  to: '03:30',
  reason: 'backups',
  actor: 'ann',
  createdAt: '2026-03-01T00:00:00.000Z',
  ...over,
});

describe('suppression rule form', () => {
  it('takes each kind of window as the service reads it', () => {
    expect(validate(form({ kind: 'daily', from: '2:00', to: '03:30' }))).toEqual({});
    expect(validate(form({ kind: 'daily', from: '23:30', to: '01:00' }))).toEqual({});
    expect(validate(form({ kind: 'weekly', from: 'Sat 22:00', to: 'Sunday 06:00' }))).toEqual({});
    expect(validate(form({ kind: 'period', from: '2026-12-05 22:00', to: '2026-12-06T02:00:00Z' }))).toEqual({});
  });

  it('applies to recorded incidents only when asked, since a past time, sent as ISO', () => {
    const now = Date.UTC(2026, 2, 10, 12, 0);
    const daily = form({ kind: 'daily', from: '02:00', to: '03:30' });
    expect(toRequest(daily)).not.toHaveProperty('applySince');
    // Unticked, whatever "since" holds is not looked at.
    expect(validate({ ...daily, since: 'junk' }, now)).toEqual({});
    expect(validate({ ...daily, apply: true }, now).since).toBe('Say since when: a date and time as YYYY-MM-DD HH:MM');
    expect(validate({ ...daily, apply: true, since: '2026-03-11 00:00' }, now).since).toMatch(/in the future/);
    const ticked = { ...daily, apply: true, since: '2026-03-09 08:30' };
    expect(validate(ticked, now)).toEqual({});
    expect(toRequest(ticked).applySince).toBe('2026-03-09T08:30:00.000Z');
    // Ticked, it starts at a past period's start, else a day back.
    expect(defaultSince({ kind: 'period', from: '2026-03-07 22:00' }, now)).toBe('2026-03-07 22:00');
    expect(defaultSince({ kind: 'period', from: '2026-04-01 00:00' }, now)).toBe('2026-03-09 12:00');
    expect(defaultSince({ kind: 'daily', from: '02:00' }, now)).toBe('2026-03-09 12:00');
  });

  it('names what is wrong, field by field, before anything is sent', () => {
    expect(validate(form({ kind: 'daily', from: '24:00', to: '' }))).toEqual({
      from: "'24:00' is not a time of day as HH:MM (UTC)",
      to: 'Say when it ends: a time of day as HH:MM',
    });
    expect(validate(form({ kind: 'weekly', from: '22:00', to: 'Sun 06:00' })).from).toBe(
      "'22:00' is not a day and a time, such as 'Sat 22:00' (UTC)"
    );
    expect(validate(form({ kind: 'daily', from: '02:00', to: '2:00' })).to).toMatch(/window would be empty/);
    expect(validate(form({ kind: 'period', from: '2026-12-06 02:00', to: '2026-12-05 22:00' })).to).toBe(
      'The end must come after the start'
    );
    // A day that does not exist, and an offset other than UTC, are refused rather than guessed.
    expect(validate(form({ kind: 'period', from: '2026-02-30 01:00', to: '2026-03-02 01:00' })).from).toMatch(
      /is not a date and time/
    );
    expect(validate(form({ kind: 'period', from: '2026-03-01T01:00+02:00', to: '2026-03-02 01:00' })).from).toMatch(
      /is not a date and time/
    );
    expect(validate(form({ from: '02:00', to: '03:00', reason: '  ' })).reason).toMatch(/Say why/);
    expect(validate(form({ from: '02:00', to: '03:00', entity: 'x'.repeat(201) })).entity).toBe(
      'At most 200 characters'
    );
  });

  it('sends only the scope given, trimmed, and a period as UTC date-times', () => {
    expect(toRequest(form({ detector: 'cpu', entity: ' web-1 ', kind: 'daily', from: ' 02:00', to: '03:30' }))).toEqual(
      {
        detector: 'cpu',
        entity: 'web-1',
        kind: 'daily',
        from: '02:00',
        to: '03:30',
        reason: 'backups',
      }
    );
    expect(
      toRequest(form({ kind: 'period', metric: 'usage_iowait', from: '2026-12-05 22:00', to: '2026-12-06 02:00' }))
    ).toEqual({
      metric: 'usage_iowait',
      kind: 'period',
      from: '2026-12-05T22:00:00.000Z',
      to: '2026-12-06T02:00:00.000Z',
      reason: 'backups',
    });
  });

  it('says a window in words', () => {
    const utc = (t: number) => new Date(t).toISOString();
    expect(windowWords(rule({}), utc)).toBe('every day 02:00 – 03:30 UTC');
    expect(windowWords(rule({ kind: 'weekly', from: 'Sat 22:00', to: 'Sun 06:00' }), utc)).toBe(
      'every week Sat 22:00 – Sun 06:00 UTC'
    );
    expect(
      windowWords(rule({ kind: 'period', from: '2026-12-05T22:00:00.000Z', to: '2026-12-06T02:00:00.000Z' }), utc)
    ).toBe('from 2026-12-05T22:00:00.000Z to 2026-12-06T02:00:00.000Z UTC');
  });
});

describe('the rule that holds an incident', () => {
  // The fixture incident: cpu, web-1, 2026-03-01 10:00–10:48 UTC (a Sunday), top metrics usage_user and usage_idle.z60.
  const i = incident('i1');

  it('matches on detector, entity and, when the rule names one, every top metric', () => {
    const morning = { kind: 'daily' as const, from: '09:30', to: '11:00' };
    expect(holdsIncident(rule(morning), i)).toBe(true);
    expect(holdsIncident(rule({ ...morning, detector: 'cpu', entity: 'web-1' }), i)).toBe(true);
    expect(holdsIncident(rule({ ...morning, detector: 'mem' }), i)).toBe(false);
    expect(holdsIncident(rule({ ...morning, entity: 'web-2' }), i)).toBe(false);
    expect(holdsIncident(rule({ ...morning, metric: 'usage_user' }), i)).toBe(false);
    expect(
      holdsIncident(rule({ ...morning, metric: 'usage_user' }), {
        ...i,
        topMetrics: [{ metric: 'usage_user', count: 40 }],
      })
    ).toBe(true);
  });

  it('needs the whole incident inside one stretch of the window', () => {
    expect(holdsIncident(rule({ from: '10:00', to: '10:49' }), i)).toBe(true);
    // Its last flagged point at 10:48 is outside a window that ends at 10:48.
    expect(holdsIncident(rule({ from: '10:00', to: '10:48' }), i)).toBe(false);
    expect(holdsIncident(rule({ from: '10:01', to: '11:00' }), i)).toBe(false);
    // A window that wraps past midnight.
    const night = { ...i, start: '2026-03-01T23:40:00.000Z', end: '2026-03-02T00:20:00.000Z' };
    expect(holdsIncident(rule({ from: '23:30', to: '01:00' }), night)).toBe(true);
    expect(holdsIncident(rule({ from: '23:30', to: '00:10' }), night)).toBe(false);
    // Longer than a day: never inside one day's window, even though both ends are.
    expect(holdsIncident(rule({ from: '09:00', to: '12:00' }), { ...i, end: '2026-03-02T10:48:00.000Z' })).toBe(false);
  });

  it('reads weekly windows from Monday, and maintenance periods as instants', () => {
    // 2026-03-01 was a Sunday.
    expect(holdsIncident(rule({ kind: 'weekly', from: 'Sat 22:00', to: 'Sun 12:00' }), i)).toBe(true);
    expect(holdsIncident(rule({ kind: 'weekly', from: 'Sun 11:00', to: 'Mon 06:00' }), i)).toBe(false);
    expect(holdsIncident(rule({ kind: 'weekly', from: 'Sun 09:00', to: 'Mon 06:00' }), i)).toBe(true);
    const period = { kind: 'period' as const, from: '2026-03-01T09:00:00.000Z', to: '2026-03-01T11:00:00.000Z' };
    expect(holdsIncident(rule(period), i)).toBe(true);
    expect(holdsIncident(rule({ ...period, to: '2026-03-01T10:30:00.000Z' }), i)).toBe(false);
  });
});
