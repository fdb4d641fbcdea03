import { ServiceError } from './plugins/errors.js';
import { parseRange, parseTime } from './ranges.js';

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    return { code: (err as ServiceError).code, message: (err as Error).message };
  }
  throw new Error('accepted');
}

describe('ranges', () => {
  it('accepts an ordered range within its limit', () => {
    expect(parseRange('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', 'querystring', 'source')).toEqual({
      from: Date.UTC(2024, 0, 1),
      to: Date.UTC(2024, 0, 2),
    });
  });

  it.each([
    [
      'from equal to to',
      '2024-01-01T00:00:00Z',
      '2024-01-01T00:00:00Z',
      /querystring\/to must be after querystring\/from/,
    ],
    [
      'from after to (year 9999)',
      '9999-01-01T00:00:00Z',
      '2024-01-01T00:00:00Z',
      /querystring\/from 9999-01-01T00:00:00.000Z is outside/,
    ],
    [
      'year 0001',
      '0001-01-01T00:00:00Z',
      '2024-01-01T00:00:00Z',
      /querystring\/from 0001-01-01T00:00:00.000Z is outside 1970/,
    ],
    ['year 9999 as to', '2024-01-01T00:00:00Z', '9999-12-31T00:00:00Z', /querystring\/to 9999-12-31/],
    [
      'a span over the limit',
      '2024-01-01T00:00:00Z',
      '2024-03-01T00:00:00Z',
      /spans 60\.0 days; at most 31 days/,
    ],
    [
      'a leap second Date.parse cannot read',
      '2016-12-31T23:59:60Z',
      '2017-01-02T00:00:00Z',
      /querystring\/from '2016-12-31T23:59:60Z' is not a date-time/,
    ],
  ])('refuses %s with 400 BAD_RANGE naming the parameter', (_n, from, to, says) => {
    const r = refusal(() => parseRange(from, to, 'querystring', 'source'));
    expect(r.code).toBe('BAD_RANGE');
    expect(r.message).toMatch(says);
  });

  it('quotes at most an excerpt of a bad time', () => {
    expect(refusal(() => parseTime('y'.repeat(10_000), 'body/to')).message.length).toBeLessThan(120);
  });
});
