import { featureLabel, formatTime, spanWords } from './format';

describe('featureLabel', () => {
  it('says what a feature is in words', () => {
    expect(featureLabel('cpu.usage_user.z60')).toBe('cpu usage_user, vs its last hour');
    expect(featureLabel('usage_user.z60', 60)).toBe('usage_user, vs its last hour');
    expect(featureLabel('usage_user.z30', 60)).toBe('usage_user, vs its last 30 minutes');
    expect(featureLabel('usage_user.z120', 60)).toBe('usage_user, vs its last 2 hours');
    expect(featureLabel('usage_user.z24', 3600)).toBe('usage_user, vs its last day');
    expect(featureLabel('usage_user.z60', 10)).toBe('usage_user, vs its last 10 minutes');
    expect(featureLabel('bytes_recv.lag1')).toBe('bytes_recv, 1 minute earlier');
    expect(featureLabel('bytes_recv.lag3', 10)).toBe('bytes_recv, 30 seconds earlier');
    expect(featureLabel('bytes_recv.delta')).toBe('bytes_recv, change over 1 minute');
    expect(featureLabel('bytes_recv.rate')).toBe('bytes_recv, change per second');
    expect(featureLabel('time.hour_sin')).toBe('time of day (sine)');
    expect(featureLabel('time.weekday_cos')).toBe('day of week (cosine)');
  });

  it('leaves a plain field as it is, and reads dots in a name as spaces', () => {
    expect(featureLabel('usage_user')).toBe('usage_user');
    expect(featureLabel('disk.used_percent')).toBe('disk used_percent');
    // Not a suffix the engine writes: part of the name.
    expect(featureLabel('net.zone')).toBe('net zone');
  });
});

describe('spanWords', () => {
  it('picks the largest whole unit', () => {
    expect(spanWords(3600, 'bare')).toBe('hour');
    expect(spanWords(3600, 'counted')).toBe('1 hour');
    expect(spanWords(90, 'counted')).toBe('90 seconds');
    expect(spanWords(172_800, 'bare')).toBe('2 days');
  });
});

describe('formatTime', () => {
  it("writes Grafana's date format in the given time zone", () => {
    const t = Date.parse('2026-03-01T12:34:56Z');
    expect(formatTime(t, 'utc')).toBe('2026-03-01 12:34:56');
    expect(formatTime(t, 'Europe/Berlin')).toBe('2026-03-01 13:34:56');
    expect(formatTime('2026-03-01T12:34:56.000Z', 'utc')).toBe('2026-03-01 12:34:56');
  });
});
