import fc from 'fast-check';
import { episodesOf, nabBestThreshold, nabScore, nabWindows, operatorMetrics } from './operator.js';

const MIN = 60_000;
const HOUR = 3_600_000;

/** Rows of two series interleaved: A (30 rows, one a minute) and B (10 rows, one an hour). */
function twoSeries(): { decisions: number[]; labels: number[]; times: number[]; series: string[] } {
  const a = Array.from({ length: 30 }, (_, i) => ({
    series: 'A',
    time: i * MIN,
    label: (i >= 5 && i <= 9) || (i >= 20 && i <= 22) ? 1 : 0,
    flag: i === 7 || i === 16 || i === 27 ? 1 : 0,
  }));
  const b = Array.from({ length: 10 }, (_, i) => ({
    series: 'B',
    time: i * HOUR,
    label: i === 3 || i === 4 ? 1 : 0,
    flag: i === 4 ? 1 : 0,
  }));
  // B's rows go between A's first ten, so grouping by series (not position) is what is tested.
  const rows = [...a.slice(0, 10).flatMap((r, i) => [r, b[i]!]), ...a.slice(10)];
  return {
    decisions: rows.map((r) => r.flag),
    labels: rows.map((r) => r.label),
    times: rows.map((r) => r.time),
    series: rows.map((r) => r.series),
  };
}

describe('episodesOf', () => {
  it('joins flags fewer than 10 rows apart into one episode', () => {
    const flags = (at: number[]): number[] => Array.from({ length: 40 }, (_, i) => (at.includes(i) ? 1 : 0));
    expect(episodesOf(flags([0, 9]))).toEqual([[0, 9]]);
    expect(episodesOf(flags([0, 10]))).toEqual([
      [0, 0],
      [10, 10],
    ]);
    expect(episodesOf(flags([2, 3, 4, 12, 30]))).toEqual([
      [2, 12],
      [30, 30],
    ]);
    expect(episodesOf(flags([0, 3]), 3)).toEqual([
      [0, 0],
      [3, 3],
    ]);
    expect(() => episodesOf([1], 0)).toThrow('episode gap');
  });
});

describe('operatorMetrics', () => {
  it('counts incidents, episodes, delays and false episodes per series-day within each series', () => {
    const m = operatorMetrics(twoSeries());
    // A: incident 5–9 found at row 7 (2 rows, 2 min); the episode 7…16 overlaps it (true); incident
    // 20–22 is missed; the flag at 27 is 11 rows after 16, so a new episode, overlapping nothing (false).
    // B: incident 3–4 found at row 4 (1 row, 1 hour); its episode is true.
    expect(m).toMatchObject({
      series: 2,
      incidents: 3,
      found: 2,
      episodes: 3,
      trueEpisodes: 2,
      falseEpisodes: 1,
      medianDelayRows: 1.5,
      meanDelayRows: 1.5,
      medianDelayMs: (2 * MIN + HOUR) / 2,
      meanDelayMs: (2 * MIN + HOUR) / 2,
    });
    expect(m.eventRecall).toBeCloseTo(2 / 3, 12);
    expect(m.eventPrecision).toBeCloseTo(2 / 3, 12);
    // A spans 29 minutes and B 9 hours: 569 minutes of series, one false episode.
    expect(m.seriesDays).toBeCloseTo(569 / 1440, 12);
    expect(m.falseEpisodesPerSeriesDay).toBeCloseTo(1440 / 569, 12);
    expect(m.outcomes.map((o) => [o.series, o.found, o.delayRows])).toEqual([
      [0, true, 2],
      [0, false, undefined],
      [1, true, 1],
    ]);
  });

  it('treats all rows as one series without series ids, and gives NaN where a ratio has no denominator', () => {
    const m = operatorMetrics({ decisions: [0, 0, 0, 0], labels: [0, 1, 1, 0] });
    expect(m).toMatchObject({ series: 1, incidents: 1, found: 0, episodes: 0 });
    expect(m.eventRecall).toBe(0);
    expect(m.eventPrecision).toBeNaN();
    expect(m.medianDelayRows).toBeNaN();
    expect(m.falseEpisodesPerSeriesDay).toBeNaN();
  });

  it('refuses arrays of different lengths', () => {
    expect(() => operatorMetrics({ decisions: [1, 0], labels: [1] })).toThrow('2 decisions for 1 labels');
    expect(() => operatorMetrics({ decisions: [1], labels: [1], times: [] })).toThrow('0 times for 1 labels');
  });
});

/** 100 rows, one incident on rows 60–61: window length ⌊0.1·100/1⌋ = 10, so the window is 55–66 (width 12); rows 0–14 are probation. */
function nabCase(flagged: number[]): { decisions: number[]; labels: number[] } {
  return {
    decisions: Array.from({ length: 100 }, (_, i) => (flagged.includes(i) ? 1 : 0)),
    labels: Array.from({ length: 100 }, (_, i) => (i === 60 || i === 61 ? 1 : 0)),
  };
}

describe('nabScore', () => {
  it('scores 0 for flagging nothing and 100 for flagging the first row of the window', () => {
    expect(nabScore(nabCase([]))).toMatchObject({ score: 0, raw: -1, windows: 1, detected: 0 });
    expect(nabScore(nabCase([55]))).toMatchObject({ score: 100, raw: 1, detected: 1, falsePositiveRows: 0 });
    // One row earlier is outside the window and before any window: a full false positive.
    expect(nabScore(nabCase([54, 55])).raw).toBeCloseTo(1 - 0.11, 12);
  });

  it('rewards a late detection less (sigmoid of the position in the window)', () => {
    // Last row of the window: (2σ(5/12) − 1) / (2σ(5) − 1) = 0.208157…
    const late = nabScore(nabCase([66]));
    expect(late.raw).toBeCloseTo(0.2081570035, 9);
    expect(late.score).toBeCloseTo(60.40785018, 7);
  });

  it('charges each flagged row outside the windows, less just after a window, nothing in probation', () => {
    // 10: probation, ignored. 30: before any window, −0.11. 60: first flag in the window,
    // (2σ(5·7/12) − 1)/(2σ(5) − 1) = 0.909503…; 62 adds nothing. 70: (70 − 66)/(12 − 1) past the
    // window, −0.11·(1 − 2σ(−5·4/11)) = −0.0792765…
    const s = nabScore(nabCase([10, 30, 60, 62, 70]));
    expect(s.raw).toBeCloseTo(0.9095027464 - 0.11 - 0.0792765196, 9);
    expect(s.score).toBeCloseTo(86.01131134, 7);
    expect(s).toMatchObject({ detected: 1, falsePositiveRows: 2 });
  });

  it('sums a collection of series, each with its own windows and probation', () => {
    const a = nabCase([55]);
    // Series B: 40 rows, no incident; probation ⌊0.15·40⌋ = 6 rows; a flag at its row 20 costs 0.11.
    const b = {
      decisions: Array.from({ length: 40 }, (_, i) => (i === 20 || i === 3 ? 1 : 0)),
      labels: new Array(40).fill(0),
    };
    const s = nabScore({
      decisions: [...a.decisions, ...b.decisions],
      labels: [...a.labels, ...b.labels],
      series: [...new Array(100).fill('a'), ...new Array(40).fill('b')],
    });
    expect(s.raw).toBeCloseTo(0.89, 12);
    expect(s.score).toBeCloseTo(94.5, 10);
    expect(s).toMatchObject({ windows: 1, nullRaw: -1, perfectRaw: 1, falsePositiveRows: 1 });
  });

  it('merges overlapping windows', () => {
    const labels = (at: number[]): number[] =>
      Array.from({ length: 100 }, (_, i) => (at.includes(i) ? 1 : 0));
    const none = new Array(100).fill(0);
    // Two point incidents: window length ⌊10/2⌋ = 5, each incident ± 2 rows.
    expect(nabScore({ decisions: none, labels: labels([40, 44]) }).windows).toBe(1);
    expect(nabScore({ decisions: none, labels: labels([40, 45]) }).windows).toBe(2);
  });

  it('refuses bad options', () => {
    expect(() => nabScore(nabCase([]), { windowFraction: 2 })).toThrow('windowFraction');
    expect(() =>
      nabScore(nabCase([]), { profile: { truePositive: 1, falsePositive: 0.11, falseNegative: -1 } }),
    ).toThrow('A_FP ≤ 0');
  });
});

describe('nabBestThreshold', () => {
  it('finds the threshold with the best score', () => {
    const { labels } = nabCase([]);
    const scores = labels.map((_, i) => (i === 30 ? 0.9 : i === 58 ? 0.8 : i === 55 ? 0.5 : 0.1));
    // ≥ 0.9: one false row (−5.5); ≥ 0.8: also row 58 (92.85); ≥ 0.5: row 55, the window's first (94.5);
    // ≥ 0.1: every row, 70 more false rows.
    const best = nabBestThreshold({ scores, labels });
    expect(best.threshold).toBe(0.5);
    expect(best.score).toBeCloseTo(94.5, 10);
    expect(best).toMatchObject({ detected: 1, falsePositiveRows: 1 });
  });

  it('flags nothing when every threshold costs more than it earns', () => {
    const labels = new Array(50).fill(0);
    labels[40] = 1;
    const scores = labels.map((_, i) => (i === 20 ? 1 : 0));
    expect(nabBestThreshold({ scores, labels })).toMatchObject({ threshold: Infinity, score: 0 });
  });

  it('equals the best nabScore over every threshold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.boolean()), {
          minLength: 20,
          maxLength: 120,
        }),
        (rows) => {
          const scores = rows.map(([s]) => s);
          const labels = rows.map(([, l]) => (l ? 1 : 0));
          const series = rows.map(([, , s]) => (s ? 'x' : 'y'));
          let best = nabScore({ decisions: scores.map(() => 0), labels, series });
          for (const t of new Set(scores)) {
            const s = nabScore({ decisions: scores.map((v) => (v >= t ? 1 : 0)), labels, series });
            if (s.raw > best.raw) best = s;
          }
          const swept = nabBestThreshold({ scores, labels, series });
          expect(swept.raw).toBeCloseTo(best.raw, 9);
          expect(swept.detected).toBe(best.detected);
        },
      ),
    );
  });
});

describe('nabWindows', () => {
  it('gives each series its windows as rows of the input', () => {
    // Series a on even rows, b on odd rows; a's incident on its rows 30–31 of 50 (window ⌊5/1⌋ = 5, ±2).
    const labels = Array.from({ length: 100 }, (_, i) => (i === 60 || i === 62 ? 1 : 0));
    const series = labels.map((_, i) => (i % 2 ? 'b' : 'a'));
    expect(nabWindows(labels, series)).toEqual([{ series: 0, start: 56, end: 66 }]);
  });

  it('puts the null detector at 0 and the perfect one at 100 on any collection', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 })), { minLength: 30, maxLength: 200 }),
        (rows) => {
          const labels = rows.map(([l]) => (l ? 1 : 0));
          const series = rows.map(([, s]) => s);
          // No probation: every window is scored, and flagging each window's first row is perfect.
          const options = { probationFraction: 0 };
          const windows = nabWindows(labels, series);
          fc.pre(windows.length > 0);
          const perfect = labels.map(() => 0);
          for (const w of windows) perfect[w.start] = 1;
          expect(nabScore({ decisions: labels.map(() => 0), labels, series }, options).score).toBe(0);
          expect(nabScore({ decisions: perfect, labels, series }, options).score).toBeCloseTo(100, 9);
        },
      ),
    );
  });
});
