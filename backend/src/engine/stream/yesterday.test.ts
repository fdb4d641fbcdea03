import { YesterdayMemory } from './yesterday.js';

const MIN = 60_000;
const DAY = 1440 * MIN;

describe('YesterdayMemory', () => {
  it('knows a row over the threshold at the same time yesterday, within half an hour', () => {
    const m = new YesterdayMemory();
    for (let t = 0; t < DAY + 120 * MIN; t += MIN) m.add(t, t === 120 * MIN ? 0.8 : 0.2);
    expect(m.seen(DAY + 120 * MIN, 0.5)).toBe(true);
    expect(m.seen(DAY + 145 * MIN, 0.5)).toBe(true);
    expect(m.seen(DAY + 160 * MIN, 0.5)).toBe(false);
    expect(m.seen(DAY + 60 * MIN, 0.5)).toBe(false);
    // Only rows over the threshold count.
    expect(m.seen(DAY + 120 * MIN, 0.9)).toBe(false);
  });

  it('gives the highest score within half an hour of the same time yesterday (0 when none)', () => {
    const m = new YesterdayMemory();
    for (let t = 0; t < DAY + 120 * MIN; t += MIN)
      m.add(t, t === 120 * MIN ? 0.8 : t === 140 * MIN ? 0.6 : 0.2);
    expect(m.highest(DAY + 125 * MIN)).toBe(0.8);
    // 0.8 at 2:00 is 31 minutes away from 2:31; 0.6 at 2:20 is not.
    expect(m.highest(DAY + 151 * MIN)).toBe(0.6);
    expect(m.highest(DAY + 200 * MIN)).toBe(0.2);
    expect(new YesterdayMemory().highest(DAY)).toBe(0);
  });

  it('knows whether one of the last rows was over the threshold (an alert episode still open)', () => {
    const m = new YesterdayMemory();
    for (let t = 0; t < 30; t++) m.add(t * MIN, t === 12 ? 0.7 : 0.1);
    // Rows 20–29 are the last ten: the row over the threshold (12) is further back.
    expect(m.recentlyOver(10, 0.5)).toBe(false);
    expect(m.recentlyOver(18, 0.5)).toBe(true);
    expect(m.recentlyOver(18, 0.8)).toBe(false);
    m.add(30 * MIN, 0.6);
    expect(m.recentlyOver(1, 0.5)).toBe(true);
  });

  it('forgets what is older than a day and the tolerance, and restores from a snapshot', () => {
    const m = new YesterdayMemory();
    m.add(0, 0.9);
    for (let t = MIN; t <= 2 * DAY; t += MIN) m.add(t, 0.1);
    expect(m.snapshot().timesMs[0]).toBeGreaterThanOrEqual(DAY - 30 * MIN);
    const restored = new YesterdayMemory(JSON.parse(JSON.stringify(m.snapshot())));
    restored.add(2 * DAY + MIN, 0.95);
    expect(restored.seen(3 * DAY + MIN, 0.5)).toBe(true);
    expect(m.seen(3 * DAY + MIN, 0.5)).toBe(false);
  });
});
