import { formatDuration, nabLine } from './format.js';
import { escapeXml, niceTicks, svgScoreTimeline } from './plot.js';

describe('niceTicks', () => {
  it('picks steps of 1, 2 or 5 × 10ᵏ inside the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.4, 0.75)).toEqual([0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(0, 1234, 4)).toEqual([0, 500, 1000]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});

describe('formatDuration', () => {
  it('uses the largest unit that keeps the number readable', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(500)).toBe('500 ms');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(90_000)).toBe('1.5 min');
    expect(formatDuration(7_200_000)).toBe('2 h');
    expect(formatDuration(2.5 * 86_400_000)).toBe('2.5 d');
    expect(formatDuration(Number.NaN)).toBe('n/a');
  });
});

describe('svgScoreTimeline', () => {
  it('keeps the peaks when it thins a long series, and escapes names', () => {
    const scores = Array.from({ length: 10_000 }, (_, i) => (i === 7_777 ? 5 : 0.5));
    const svg = svgScoreTimeline('t', [{ name: 'host <a&b>', scores }]);
    expect(svg).toContain(escapeXml('host <a&b>'));
    // The path visits the peak's y (the top of the y range) although only ~1600 points are drawn.
    const path = /<path d="(M[^"]+)" fill="none" stroke="#1a73e8"/.exec(svg)![1]!;
    const ys = path
      .split(/[ML]/)
      .filter(Boolean)
      .map((p) => Number(p.split(',')[1]));
    expect(ys.length).toBeLessThanOrEqual(1600);
    expect(Math.min(...ys)).toBeLessThan(Math.max(...ys) - 50);
  });
});

describe('nabLine', () => {
  it('says when flagging nothing is the best threshold', () => {
    const best = {
      score: 0,
      raw: -2,
      nullRaw: -2,
      perfectRaw: 2,
      windows: 2,
      detected: 0,
      falsePositiveRows: 0,
    };
    expect(nabLine(undefined, { ...best, threshold: Infinity })).toBe(
      'NAB-style score (0 = flag nothing, 100 = perfect; 2 windows): 0.0 at its best threshold (flag nothing: every threshold costs more than it finds)',
    );
    expect(nabLine({ ...best, score: -3.21 }, { ...best, score: 50, threshold: 0.123456 })).toContain(
      "-3.2 at the detector's decisions, 50.0 at its best threshold (score ≥ 0.1235)",
    );
  });
});
