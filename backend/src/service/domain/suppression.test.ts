import type { SuppressionRule } from '../../io/registry/index.js';
import { parseWindow, suppresses, windowText } from './suppression.js';

const rule = (over: Partial<SuppressionRule>): SuppressionRule => ({
  id: 'r',
  kind: 'daily',
  start: 0,
  end: 0,
  reason: 'why',
  actor: 'ann',
  createdAt: 0,
  ...over,
});
const at = (iso: string, topFeature?: string) => ({
  timeMs: Date.parse(iso),
  ...(topFeature ? { topFeature } : {}),
});

describe('suppression rules', () => {
  it('matches a daily window in UTC, wrapping past midnight', () => {
    const night = rule({ ...parseWindow('daily', '23:30', '01:00') });
    expect(windowText(night)).toEqual({ from: '23:30', to: '01:00' });
    expect(suppresses(night, 'cpu', 'web-1', at('2026-03-01T23:30:00Z'))).toBe(true);
    expect(suppresses(night, 'cpu', 'web-1', at('2026-03-02T00:59:00Z'))).toBe(true);
    expect(suppresses(night, 'cpu', 'web-1', at('2026-03-02T01:00:00Z'))).toBe(false);
    expect(suppresses(night, 'cpu', 'web-1', at('2026-03-01T23:29:00Z'))).toBe(false);
    const day = rule({ ...parseWindow('daily', '02:00', '03:30') });
    expect(suppresses(day, 'cpu', 'web-1', at('2026-03-01T02:45:00Z'))).toBe(true);
    expect(suppresses(day, 'cpu', 'web-1', at('2026-03-01T03:30:00Z'))).toBe(false);
  });

  it('matches a weekly window from Monday, UTC', () => {
    const weekend = rule({ kind: 'weekly', ...parseWindow('weekly', 'Sat 22:00', 'sun 06:00') });
    expect(windowText(weekend)).toEqual({ from: 'Sat 22:00', to: 'Sun 06:00' });
    // 2026-03-07 is a Saturday.
    expect(suppresses(weekend, 'cpu', 'db-1', at('2026-03-07T23:00:00Z'))).toBe(true);
    expect(suppresses(weekend, 'cpu', 'db-1', at('2026-03-08T05:59:00Z'))).toBe(true);
    expect(suppresses(weekend, 'cpu', 'db-1', at('2026-03-08T06:00:00Z'))).toBe(false);
    expect(suppresses(weekend, 'cpu', 'db-1', at('2026-03-06T23:00:00Z'))).toBe(false);
    const wrap = rule({ kind: 'weekly', ...parseWindow('weekly', 'Sun 23:00', 'Mon 01:00') });
    expect(suppresses(wrap, 'cpu', 'db-1', at('2026-03-08T23:30:00Z'))).toBe(true);
    expect(suppresses(wrap, 'cpu', 'db-1', at('2026-03-09T00:30:00Z'))).toBe(true);
    expect(suppresses(wrap, 'cpu', 'db-1', at('2026-03-09T01:30:00Z'))).toBe(false);
  });

  it('matches a maintenance period, and only its detector, entity and metric when set', () => {
    const period = rule({
      kind: 'period',
      ...parseWindow('period', '2026-03-01T10:00:00Z', '2026-03-01T12:00:00Z'),
      detectorId: 'cpu',
      entity: 'web-1',
      metric: 'usage_user',
    });
    expect(suppresses(period, 'cpu', 'web-1', at('2026-03-01T11:00:00Z', 'usage_user'))).toBe(true);
    expect(suppresses(period, 'cpu', 'web-1', at('2026-03-01T12:00:00Z', 'usage_user'))).toBe(false);
    expect(suppresses(period, 'mem', 'web-1', at('2026-03-01T11:00:00Z', 'usage_user'))).toBe(false);
    expect(suppresses(period, 'cpu', 'web-2', at('2026-03-01T11:00:00Z', 'usage_user'))).toBe(false);
    expect(suppresses(period, 'cpu', 'web-1', at('2026-03-01T11:00:00Z', 'usage_idle'))).toBe(false);
    expect(suppresses(period, 'cpu', 'web-1', at('2026-03-01T11:00:00Z'))).toBe(false);
  });

  it('refuses windows it cannot read, naming the field', () => {
    expect(() => parseWindow('daily', '24:00', '01:00')).toThrow(
      "body/from '24:00' is not a time of day as HH:MM",
    );
    expect(() => parseWindow('weekly', 'Sat', 'Sun 01:00')).toThrow("body/from 'Sat' is not a day and time");
    expect(() => parseWindow('period', 'soon', '2026-01-01T00:00:00Z')).toThrow(
      "body/from 'soon' is not a date-time",
    );
    expect(() => parseWindow('period', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')).toThrow(
      'body/to must be after',
    );
    expect(() => parseWindow('daily', '01:00', '1:00')).toThrow('empty window');
  });
});
